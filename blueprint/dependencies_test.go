package blueprint_test

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/nephoran/porchkit/blueprint"
	"github.com/nephoran/porchkit/deps"
	"github.com/nephoran/porchkit/porch"
)

// nephioPackage reads a Nephio blueprint of testdata/nephio/free5gc.
func nephioPackage(t *testing.T, name string) map[string]string {
	t.Helper()
	fsys := os.DirFS("testdata/nephio/free5gc/" + name)
	files := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		files[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// withAnnotation adds a metadata annotation after the first
// "annotations:" line of a resource.
func withAnnotation(t *testing.T, doc, key, value string) string {
	t.Helper()
	const marker = "  annotations:\n"
	if !strings.Contains(doc, marker) {
		t.Fatalf("no annotations in %q", doc)
	}
	return strings.Replace(doc, marker, marker+"    "+key+": "+quote(value)+"\n", 1)
}

// nephioCatalog publishes the free5gc blueprints: free5gc-upf v1, v2 and a
// v3 without its NFDeployment, free5gc-amf v1 (Nephio's Dependency on
// free5gc-upf) and v2 (also deps' annotation: free5gc-upf >=2), and
// free5gc-smf v1 whose Dependency allows only free5gc-upf <2.
func nephioCatalog(t *testing.T) (*repoFixture, *blueprint.Catalog) {
	f := newFixture(t, porch.Options{}, "catalog")
	upf := nephioPackage(t, "pkg-example-upf-bp")
	f.publish("catalog", "free5gc-upf", "v1", upf)
	f.publish("catalog", "free5gc-upf", "v2", upf)
	v3 := nephioPackage(t, "pkg-example-upf-bp")
	delete(v3, "upfdeployment.yaml")
	f.draft("catalog", "free5gc-upf", "v3", nil)
	prs := f.c.PackageRevisions(ns)
	if _, err := prs.UpdateResources(f.ctx, "catalog.free5gc-upf.v3", func(p *porch.Package) error {
		p.Resources = v3
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Propose(f.ctx, "catalog.free5gc-upf.v3"); err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Approve(f.ctx, "catalog.free5gc-upf.v3"); err != nil {
		t.Fatal(err)
	}
	amf := nephioPackage(t, "pkg-example-amf-bp")
	f.publish("catalog", "free5gc-amf", "v1", amf)
	amf2 := nephioPackage(t, "pkg-example-amf-bp")
	amf2["Kptfile"] = withAnnotation(t, amf2["Kptfile"], deps.ReleaseAnnotation, `requires: ["free5gc-upf >=2"]`)
	f.publish("catalog", "free5gc-amf", "v2", amf2)
	smf := nephioPackage(t, "pkg-example-smf-bp")
	smf["dependency.yaml"] = withAnnotation(t, smf["dependency.yaml"], deps.ConstraintAnnotation, "<2")
	f.publish("catalog", "free5gc-smf", "v1", smf)
	return f, f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"catalog"}})
}

func chosen(r *blueprint.Resolution) []string {
	var out []string
	for name, e := range r.Entries {
		out = append(out, name+"@"+e.Version.String())
	}
	slices.Sort(out)
	return out
}

func TestResolveAllNephioDependencies(t *testing.T) {
	f, cat := nephioCatalog(t)
	amf, err := cat.Resolve(f.ctx, "free5gc-amf", "~1")
	if err != nil {
		t.Fatal(err)
	}
	if len(amf.Dependencies) != 1 || amf.Dependencies[0].Name != "free5gc-upf" {
		t.Errorf("amf v1 dependencies %v", amf.Dependencies)
	}

	// free5gc-upf v3 holds no NFDeployment, which AMF's Dependency
	// injects: the newest upf that can serve it is v2.
	r, err := cat.ResolveAll(f.ctx, blueprint.Ref{Name: "free5gc-amf", Version: "^1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := chosen(r); !slices.Equal(got, []string{"free5gc-amf@1.0.0", "free5gc-upf@2.0.0"}) {
		t.Errorf("amf ^1: %v", got)
	}
	if len(r.Order) != 2 || !slices.Equal(r.Order[0], []string{"free5gc-upf"}) || !slices.Equal(r.Order[1], []string{"free5gc-amf"}) {
		t.Errorf("order %v", r.Order)
	}
	if r.Entries["free5gc-upf"].Location != "catalog.free5gc-upf.v2" || len(r.Why["free5gc-upf"]) == 0 {
		t.Errorf("upf entry %v, why %v", r.Entries["free5gc-upf"], r.Why)
	}

	// SMF allows only upf <2, so with SMF both take upf v1.
	r, err = cat.ResolveAll(f.ctx, blueprint.Ref{Name: "free5gc-amf", Version: "^1"}, blueprint.Ref{Name: "free5gc-smf"})
	if err != nil {
		t.Fatal(err)
	}
	if got := chosen(r); !slices.Equal(got, []string{"free5gc-amf@1.0.0", "free5gc-smf@1.0.0", "free5gc-upf@1.0.0"}) {
		t.Errorf("amf ^1 and smf: %v", got)
	}

	// Without a constraint on AMF, the newest plan takes amf v1: v2 needs
	// upf >=2, which SMF excludes.
	r, err = cat.ResolveAll(f.ctx, blueprint.Ref{Name: "free5gc-amf"}, blueprint.Ref{Name: "free5gc-smf"})
	if err != nil {
		t.Fatal(err)
	}
	if got := chosen(r); !slices.Equal(got, []string{"free5gc-amf@1.0.0", "free5gc-smf@1.0.0", "free5gc-upf@1.0.0"}) {
		t.Errorf("amf and smf: %v", got)
	}
	r, err = cat.ResolveAll(f.ctx, blueprint.Ref{Name: "free5gc-amf"})
	if err != nil {
		t.Fatal(err)
	}
	if got := chosen(r); !slices.Equal(got, []string{"free5gc-amf@2.0.0", "free5gc-upf@2.0.0"}) {
		t.Errorf("amf alone: %v", got)
	}
}

func TestResolveAllErrors(t *testing.T) {
	f, cat := nephioCatalog(t)
	_, err := cat.ResolveAll(f.ctx, blueprint.Ref{Name: "free5gc-amf", Version: "^2"}, blueprint.Ref{Name: "free5gc-smf"})
	var unsat *deps.UnsatisfiableError
	if !errors.Is(err, blueprint.ErrUnresolvable) || !errors.As(err, &unsat) || !errors.Is(err, deps.ErrNoSolution) {
		t.Fatalf("amf ^2 with smf: %v", err)
	}
	t.Logf("explanation: %v", err)
	if len(unsat.Conflict) == 0 || !strings.Contains(err.Error(), "free5gc-upf") {
		t.Errorf("explanation %q", err)
	}
	if _, err := cat.ResolveAll(f.ctx, blueprint.Ref{Name: "free5gc-nrf"}); !errors.Is(err, blueprint.ErrUnknownBlueprint) {
		t.Errorf("unknown root: %v", err)
	}
	if _, err := cat.ResolveAll(f.ctx, blueprint.Ref{Name: "free5gc-amf", Version: ">=5"}); !errors.Is(err, blueprint.ErrNoMatchingVersion) {
		t.Errorf("unsatisfiable root: %v", err)
	}
	if _, err := cat.ResolveAll(f.ctx, blueprint.Ref{Name: "free5gc-amf", Version: ">>1.."}); !errors.Is(err, blueprint.ErrInvalidConstraint) {
		t.Errorf("malformed root constraint: %v", err)
	}
	if _, err := cat.ResolveAll(f.ctx); !errors.Is(err, blueprint.ErrInvalidFilter) {
		t.Errorf("no roots: %v", err)
	}

	// A dependency on a blueprint the catalog does not hold.
	f.publish("catalog", "free5gc-nrf", "v1", map[string]string{"Kptfile": kptfile("nrf", map[string]string{deps.ReleaseAnnotation: `requires: ["ausf ^1"]`})})
	cat2 := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Name: "again", Repositories: []string{"catalog"}})
	_, err = cat2.ResolveAll(f.ctx, blueprint.Ref{Name: "free5gc-nrf"})
	if !errors.Is(err, blueprint.ErrUnresolvable) || !strings.Contains(err.Error(), "ausf") {
		t.Errorf("missing dependency: %v", err)
	}
}
