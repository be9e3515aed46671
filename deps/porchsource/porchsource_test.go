package porchsource_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/deps"
	"github.com/nephoran/porchkit/deps/porchsource"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
	"github.com/nephoran/porchkit/porch/porchenv"
)

// publish creates package pkg in repo with the release annotation (none
// when "") and files, and publishes it.
func publish(t *testing.T, ctx context.Context, prs porch.PackageRevisions, repo, pkg, ws, annotation string, files ...map[string]string) {
	t.Helper()
	pr := draft(t, ctx, prs, repo, pkg, ws, annotation, files...)
	if _, err := prs.Propose(ctx, pr); err != nil {
		t.Fatalf("propose %s: %v", pr, err)
	}
	if _, err := prs.Approve(ctx, pr); err != nil {
		t.Fatalf("approve %s: %v", pr, err)
	}
}

// draft creates package pkg in repo with the release annotation (none when
// "") and files, and leaves it a draft; it returns the revision's name.
func draft(t *testing.T, ctx context.Context, prs porch.PackageRevisions, repo, pkg, ws, annotation string, files ...map[string]string) string {
	t.Helper()
	pr, err := prs.Init(ctx, repo, pkg, ws)
	if err != nil {
		t.Fatalf("init %s: %v", pkg, err)
	}
	_, err = prs.UpdateResources(ctx, pr.Name, func(p *porch.Package) error {
		for _, f := range files {
			maps.Copy(p.Resources, f)
		}
		if annotation == "" {
			return nil
		}
		k, err := yaml.Parse(p.Resources["Kptfile"])
		if err != nil {
			return err
		}
		if err := k.PipeE(yaml.SetAnnotation(deps.ReleaseAnnotation, annotation)); err != nil {
			return err
		}
		p.Resources["Kptfile"], err = k.String()
		return err
	})
	if err != nil {
		t.Fatalf("update %s: %v", pr.Name, err)
	}
	return pr.Name
}

func roots(ds ...string) []deps.Dependency {
	var out []deps.Dependency
	for _, d := range ds {
		out = append(out, deps.MustParseDependency(d))
	}
	return out
}

// versions renders a plan as name=version pairs, in install order.
func versions(p *deps.Plan) string {
	var out []string
	for _, g := range p.Order {
		for _, n := range g {
			out = append(out, n+"="+p.Releases[n].Version.String())
		}
	}
	return strings.Join(out, " ")
}

// testResolveFromPorch declares dependencies in the Kptfiles of package
// revisions, builds the universe from the published ones through a Source
// and resolves it.
func testResolveFromPorch(t *testing.T, ctx context.Context, c porch.Client, ns, repo string) {
	prs := c.PackageRevisions(ns)
	publish(t, ctx, prs, repo, "nrf", "v1", "version: 2.0.0")
	publish(t, ctx, prs, repo, "nrf", "v2", "version: 3.0.0")
	publish(t, ctx, prs, repo, "smf", "v1", "version: 1.4.0\nrequires: [\"nrf <3\"]")
	publish(t, ctx, prs, repo, "amf", "v1", "version: 2.0.0\nrequires: [\"nrf >=3\"]")
	publish(t, ctx, prs, repo, "ausf", "v1", "requires: [\"nrf >=2\"]") // no version: 1.0.0, from revision 1
	draft(t, ctx, prs, repo, "upf", "v1", "version: 9.0.0")             // a draft is no release

	u, err := deps.UniverseFromPorch(ctx, porchsource.New(c, porchsource.Config{Namespace: ns}), repo)
	if err != nil {
		t.Fatal(err)
	}
	if u.Len() != 5 {
		t.Fatalf("universe has %d releases, want 5: %v", u.Len(), u.Packages())
	}
	r := deps.NewSATResolver(deps.ResolverConfig{})
	p, err := r.Resolve(ctx, u, deps.Request{Roots: roots("smf")})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(p); got != "nrf=2.0.0 smf=1.4.0" {
		t.Errorf("plan = %s", got)
	}
	_, err = r.Resolve(ctx, u, deps.Request{Roots: roots("amf", "smf")})
	var ue *deps.UnsatisfiableError
	if !errors.As(err, &ue) || !strings.Contains(ue.Explain(), "smf@1.4.0 requires nrf <3") {
		t.Errorf("amf with smf: err = %v, want the nrf conflict explained", err)
	}
	p, err = r.Resolve(ctx, u, deps.Request{Roots: roots("ausf =1.0.0")})
	if err != nil {
		t.Fatalf("ausf at its revision's version: %v", err)
	}
	if got := versions(p); got != "nrf=3.0.0 ausf=1.0.0" {
		t.Errorf("plan = %s", got)
	}

	// Only the latest revision of each package: nrf 2.0.0 is gone, so smf
	// can no longer be installed.
	latest, err := deps.UniverseFromPorch(ctx, porchsource.New(c, porchsource.Config{Namespace: ns, LatestOnly: true}), repo)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Len() != 4 {
		t.Fatalf("latest universe has %d releases, want 4: %v", latest.Len(), latest.Packages())
	}
	if _, err := r.Resolve(ctx, latest, deps.Request{Roots: roots("smf")}); !errors.Is(err, deps.ErrNoSolution) {
		t.Errorf("smf over the latest revisions: err = %v, want ErrNoSolution", err)
	}

	// Nephio's own declarations: the catalog's AMF blueprint depends on
	// free5gc-upf through a Dependency resource that injects its
	// NFDeployment, which only the first free5gc-upf revision holds.
	publish(t, ctx, prs, repo, "free5gc-upf", "v1", "", catalogFiles(t, "free5gc/pkg-example-upf-bp", "upfdeployment.yaml"))
	publish(t, ctx, prs, repo, "free5gc-upf", "v2", "")
	publish(t, ctx, prs, repo, "free5gc-amf", "v1", "", catalogFiles(t, "free5gc/pkg-example-amf-bp", "dependency.yaml"))
	u, err = deps.UniverseFromPorch(ctx, porchsource.New(c, porchsource.Config{Namespace: ns}), repo)
	if err != nil {
		t.Fatal(err)
	}
	if amf := u.Releases("free5gc-amf"); len(amf) != 1 || len(amf[0].Requires) != 2 || amf[0].Requires[0].String() != "free5gc-upf" {
		t.Fatalf("free5gc-amf = %v, requiring %v", amf, amf[0].Requires)
	}
	p, err = r.Resolve(ctx, u, deps.Request{Roots: roots("free5gc-amf")})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(p); got != "free5gc-upf=1.0.0 free5gc-amf=1.0.0" {
		t.Errorf("plan = %s, want the free5gc-upf revision that holds the NFDeployment", got)
	}
}

// catalogFiles reads files of a package of the Nephio catalog copy in
// deps/testdata.
func catalogFiles(t *testing.T, dir string, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("../testdata/nephio-catalog/workloads", dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = string(b)
	}
	return out
}

func TestResolveFromFakePorch(t *testing.T) {
	c, _ := fake.NewClientBuilder().Build(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Repositories("default").Register(ctx, "catalog", "https://git.example.com/catalog.git"); err != nil {
		t.Fatal(err)
	}
	testResolveFromPorch(t, ctx, c, "default", "catalog")
}

// TestResolveFromRealPorch runs the same on the local Porch stack.
func TestResolveFromRealPorch(t *testing.T) {
	env := porchenv.Setup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := env.RegisterRepository(ctx, "catalog"); err != nil {
		t.Fatal(err)
	}
	c, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testResolveFromPorch(t, ctx, c, env.Namespace, "catalog")
}

// A failed list or pull is the source's error, wrapping the client's and
// naming what failed.
func TestSourceErrors(t *testing.T) {
	c, srv := fake.NewClientBuilder().WithClientOptions(porch.Options{Cache: porch.CacheOptions{Disabled: true}}).Build(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Repositories("default").Register(ctx, "catalog", "https://git.example.com/catalog.git"); err != nil {
		t.Fatal(err)
	}
	publish(t, ctx, c.PackageRevisions("default"), "catalog", "nrf", "v1", "version: 2.0.0")
	src := porchsource.New(c, porchsource.Config{})

	srv.Intercept(fake.Funcs{List: fake.Fail("packagerevisions", http.StatusForbidden, "", 1)})
	_, err := src.PublishedPackages(ctx, "catalog")
	if !errors.Is(err, porch.ErrForbidden) || !strings.Contains(err.Error(), "catalog") {
		t.Errorf("list refused: err = %v, want ErrForbidden naming the repository", err)
	}
	srv.Intercept(fake.Funcs{Get: fake.Fail("packagerevisionresources", http.StatusForbidden, "", 1)})
	_, err = src.PublishedPackages(ctx, "catalog")
	if !errors.Is(err, porch.ErrForbidden) || !strings.Contains(err.Error(), "catalog.nrf.v1") {
		t.Errorf("pull refused: err = %v, want ErrForbidden naming the revision", err)
	}
	pkgs, err := src.PublishedPackages(ctx, "catalog")
	if err != nil || len(pkgs) != 1 || pkgs[0].Package != "nrf" || pkgs[0].Revision != 1 || !strings.Contains(string(pkgs[0].Kptfile), deps.ReleaseAnnotation) ||
		pkgs[0].Resources["Kptfile"] != string(pkgs[0].Kptfile) {
		t.Errorf("after the faults: %+v, %v", pkgs, err)
	}
}
