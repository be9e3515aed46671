package deps

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
)

// catalogPackage reads a package of the Nephio catalog copy in testdata as
// Porch holds it: file paths to contents.
func catalogPackage(t testing.TB, dir string) map[string]string {
	t.Helper()
	root := path.Join("testdata/nephio-catalog/workloads", dir)
	files := map[string]string{}
	err := fs.WalkDir(os.DirFS(root), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path.Join(root, p))
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestReadNephioDependenciesOfTheCatalog(t *testing.T) {
	nfd := Injector{APIVersion: "workload.nephio.org/v1alpha1", Kind: "NFDeployment"}
	for _, c := range []struct {
		dir, file, name, pkg string
	}{
		{"free5gc/pkg-example-amf-bp", "dependency.yaml", "upf", "free5gc-upf"},
		{"free5gc/pkg-example-smf-bp", "dependency.yaml", "upf", "free5gc-upf"},
		{"oai/pkg-example-cuup-bp", "dependency_cucp.yaml", "cucp", "oai-ran-cucp"},
		{"oai/pkg-example-cucp-bp", "dependency_amf.yaml", "amf", "oai-amf"},
	} {
		ds, err := ReadNephioDependencies(catalogPackage(t, c.dir))
		if err != nil {
			t.Fatalf("%s: %v", c.dir, err)
		}
		if len(ds) != 1 {
			t.Fatalf("%s: %d Dependency resources, want 1: %+v", c.dir, len(ds), ds)
		}
		d := ds[0]
		if d.File != c.file || d.Name != c.name || d.PackageName != c.pkg || d.Dependency.String() != c.pkg || !slices.Equal(d.Injectors, []Injector{nfd}) {
			t.Errorf("%s: read %+v", c.dir, d)
		}
		var reqs []string
		for _, r := range d.Requirements() {
			reqs = append(reqs, r.String())
		}
		if want := []string{c.pkg, c.pkg + ".nfdeployment.v1alpha1.workload.nephio.org"}; !slices.Equal(reqs, want) {
			t.Errorf("%s: requirements %q, want %q", c.dir, reqs, want)
		}
	}
	ds, err := ReadNephioDependencies(catalogPackage(t, "free5gc/pkg-example-upf-bp"))
	if err != nil || len(ds) != 0 {
		t.Errorf("the UPF blueprint declares no dependency: %+v, %v", ds, err)
	}
}

func TestInjectorCapability(t *testing.T) {
	for _, c := range []struct {
		inj  Injector
		want string
	}{
		{Injector{"workload.nephio.org/v1alpha1", "NFDeployment"}, "upf.nfdeployment.v1alpha1.workload.nephio.org"},
		{Injector{"v1", "ConfigMap"}, "upf.configmap.v1"},
		{Injector{"apps/v1", "Deployment"}, "upf.deployment.v1.apps"},
	} {
		if got := c.inj.Capability("upf"); got != c.want {
			t.Errorf("%s: %q, want %q", c.inj, got, c.want)
		}
	}
}

// A Nephio Dependency resource with the versions annotation, among other
// resources of a multi-document file.
func TestReadNephioDependencyWithConstraint(t *testing.T) {
	files := map[string]string{
		"Kptfile":   "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: smf\n",
		"README.md": "kind: Dependency\n: not yaml at all: [",
		"deps.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
---
apiVersion: req.nephio.org/v1alpha1
kind: Dependency
metadata:
  name: upf
  annotations:
    deps.porchkit.io/constraint: ">=2, <3"
spec:
  packageName: edge/free5gc-upf
  injectors:
  - apiVersion: workload.nephio.org/v1alpha1
    kind: NFDeployment
    name: ignored
    spec:
      provider: upf.free5gc.io
---
apiVersion: req.nephio.org/v1beta9
kind: Dependency
metadata:
  name: another-version
spec:
  packageName: nrf
`,
	}
	ds, err := ReadNephioDependencies(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("read %+v, want the one v1alpha1 Dependency", ds)
	}
	reqs := ds[0].Requirements()
	if len(reqs) != 2 || reqs[0].String() != "free5gc-upf >=2, <3" || reqs[1].String() != "free5gc-upf.nfdeployment.v1alpha1.workload.nephio.org >=2, <3" {
		t.Errorf("requirements = %v", reqs)
	}
	_, kinds, err := readPackage(files)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[Injector]bool{{"v1", "ConfigMap"}: true, {NephioDependencyAPIVersion, NephioDependencyKind}: true, {"req.nephio.org/v1beta9", "Dependency"}: true}; !maps.Equal(kinds, want) {
		t.Errorf("kinds = %v", kinds)
	}
}

func TestReadNephioDependencyErrors(t *testing.T) {
	dependency := func(meta, spec string) map[string]string {
		return map[string]string{"dependency.yaml": "apiVersion: req.nephio.org/v1alpha1\nkind: Dependency\nmetadata:\n  name: upf\n" + meta + "spec:\n" + spec}
	}
	for _, c := range []struct {
		name    string
		files   map[string]string
		want    error
		mention string
	}{
		{"no packageName", dependency("", "  injectors: []\n"), ErrInvalidPackage, "spec.packageName: required"},
		{"bad packageName", dependency("", "  packageName: Free5GC_UPF\n"), ErrInvalidPackage, "spec.packageName"},
		{"packageName a list", dependency("", "  packageName: [a, b]\n"), ErrInvalidPackage, "dependency.yaml"},
		{"injector without kind", dependency("", "  packageName: upf\n  injectors:\n  - apiVersion: v1\n"), ErrInvalidPackage, "spec.injectors[0].kind"},
		{"injector without apiVersion", dependency("", "  packageName: upf\n  injectors:\n  - kind: ConfigMap\n"), ErrInvalidPackage, "spec.injectors[0].apiVersion"},
		{"injector with a bad apiVersion", dependency("", "  packageName: upf\n  injectors:\n  - apiVersion: a/b/c\n    kind: X\n"), ErrInvalidPackage, "spec.injectors[0].apiVersion"},
		{"injector with a bad kind", dependency("", "  packageName: upf\n  injectors:\n  - apiVersion: v1\n    kind: Config_Map\n"), ErrInvalidPackage, "spec.injectors[0]"},
		{"bad constraint", dependency("  annotations:\n    deps.porchkit.io/constraint: '>=banana'\n", "  packageName: upf\n"), ErrInvalidConstraint, ConstraintAnnotation},
		{"file that does not parse", map[string]string{"broken.yml": "a: [\n"}, ErrInvalidPackage, "broken.yml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ds, err := ReadNephioDependencies(c.files)
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, c.want) {
				t.Fatalf("read %+v, err = %v; want an *InputError wrapping %v", ds, err, c.want)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("err = %v, want it to name %q", err, c.mention)
			}
		})
	}
}

// TestUniverseFromNephioBlueprints: a deployment repository holds the
// catalog's free5gc blueprints as Nephio deploys them (packages
// free5gc-amf, free5gc-smf, free5gc-upf, whose Kptfiles keep the
// blueprints' names); AMF and SMF depend on free5gc-upf through their
// Dependency resources, injecting its NFDeployment. free5gc-upf's second
// revision lacks the NFDeployment, so the plan takes the first.
func TestUniverseFromNephioBlueprints(t *testing.T) {
	upf := catalogPackage(t, "free5gc/pkg-example-upf-bp")
	upfWithout := maps.Clone(upf)
	delete(upfWithout, "upfdeployment.yaml")
	smf := catalogPackage(t, "free5gc/pkg-example-smf-bp")
	smf["dependency.yaml"] = strings.Replace(smf["dependency.yaml"], "  annotations:\n", "  annotations:\n    deps.porchkit.io/constraint: <2\n", 1)
	published := func(name string, revision int, files map[string]string) PublishedPackage {
		return PublishedPackage{Repository: "edge", Package: name, Revision: revision, Kptfile: []byte(files["Kptfile"]), Resources: files}
	}
	src := fakeSource{"edge": {
		published("free5gc-upf", 1, upf),
		published("free5gc-upf", 2, upfWithout),
		published("free5gc-amf", 1, catalogPackage(t, "free5gc/pkg-example-amf-bp")),
		published("free5gc-smf", 1, smf),
	}}
	u, err := UniverseFromPorch(context.Background(), src, "edge")
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Packages(); !slices.Equal(got, []string{"free5gc-amf", "free5gc-smf", "free5gc-upf"}) {
		t.Fatalf("packages = %v (named after Porch's packages, not the blueprints' Kptfiles)", got)
	}
	capability := "free5gc-upf.nfdeployment.v1alpha1.workload.nephio.org"
	upfs := u.Releases("free5gc-upf")
	if len(upfs) != 2 || len(upfs[0].Provides) != 0 || len(upfs[1].Provides) != 1 || upfs[1].Provides[0].Name != capability || upfs[1].Provides[0].Version.String() != "1.0.0" {
		t.Fatalf("free5gc-upf releases %v provide %+v and %+v", upfs, upfs[0].Provides, upfs[1].Provides)
	}
	if amf := u.Releases("free5gc-amf")[0]; len(amf.Provides) != 0 {
		t.Errorf("free5gc-amf provides %+v, though nothing injects its resources", amf.Provides)
	}
	r := NewSATResolver(ResolverConfig{})
	p, err := r.Resolve(context.Background(), u, Request{Roots: dependencies("free5gc-amf", "free5gc-smf")})
	if err != nil {
		t.Fatal(err)
	}
	if got := planText(p); got != "free5gc-upf=1.0.0 free5gc-amf=1.0.0 free5gc-smf=1.0.0" {
		t.Errorf("plan = %s", got)
	}
	if why := p.Why["free5gc-upf"]; len(why) != 2 || why[1] != "free5gc-amf@1.0.0 requires free5gc-upf" {
		t.Errorf("why free5gc-upf = %q", why)
	}
	// The SMF's annotation asks for free5gc-upf <2: the second revision
	// (2.0.0) cannot serve it even when it holds the NFDeployment.
	src["edge"][1] = published("free5gc-upf", 2, upf)
	if u, err = UniverseFromPorch(context.Background(), src, "edge"); err != nil {
		t.Fatal(err)
	}
	if p, err = r.Resolve(context.Background(), u, Request{Roots: dependencies("free5gc-amf")}); err != nil || p.Releases["free5gc-upf"].Version.String() != "2.0.0" {
		t.Errorf("AMF alone takes the newest UPF holding an NFDeployment: %v, %v", p, err)
	}
	if p, err = r.Resolve(context.Background(), u, Request{Roots: dependencies("free5gc-smf")}); err != nil || p.Releases["free5gc-upf"].Version.String() != "1.0.0" {
		t.Errorf("SMF takes free5gc-upf <2: %v, %v", p, err)
	}
	// With no revision holding an NFDeployment, the explanation names the
	// injected capability.
	src["edge"] = []PublishedPackage{published("free5gc-upf", 1, upfWithout), published("free5gc-amf", 1, catalogPackage(t, "free5gc/pkg-example-amf-bp"))}
	if u, err = UniverseFromPorch(context.Background(), src, "edge"); err != nil {
		t.Fatal(err)
	}
	ue := unsatError(t, u, Request{Roots: dependencies("free5gc-amf")})
	if want := "free5gc-amf@1.0.0 requires " + capability; !strings.Contains(ue.Explain(), want) {
		t.Errorf("explanation lacks %q: %s", want, ue.Explain())
	}
}

// Dependencies cross repositories: the OAI CU-UP in one repository needs
// the CU-CP of another, which needs an AMF nobody publishes.
func TestUniverseFromNephioAcrossRepositories(t *testing.T) {
	cuup, cucp := catalogPackage(t, "oai/pkg-example-cuup-bp"), catalogPackage(t, "oai/pkg-example-cucp-bp")
	src := fakeSource{
		"ran-a": {{Package: "oai-ran-cuup", Revision: 1, Kptfile: []byte(cuup["Kptfile"]), Resources: cuup}},
		"ran-b": {{Package: "oai-ran-cucp", Revision: 3, Kptfile: []byte(cucp["Kptfile"]), Resources: cucp}},
	}
	u, err := UniverseFromPorch(context.Background(), src, "ran-a", "ran-b")
	if err != nil {
		t.Fatal(err)
	}
	if cp := u.Releases("oai-ran-cucp"); len(cp) != 1 || len(cp[0].Provides) != 1 || cp[0].Provides[0].Name != "oai-ran-cucp.nfdeployment.v1alpha1.workload.nephio.org" {
		t.Fatalf("oai-ran-cucp: %v", cp)
	}
	ue := unsatError(t, u, Request{Roots: dependencies("oai-ran-cuup")})
	if want := "oai-ran-cucp@3.0.0 requires oai-amf"; !strings.Contains(ue.Explain(), want) {
		t.Errorf("explanation lacks %q: %s", want, ue.Explain())
	}
	// A broken Dependency resource names the repository, package and revision.
	cucp["dependency_amf.yaml"] = strings.Replace(cucp["dependency_amf.yaml"], "packageName: oai-amf", "packageName: ''", 1)
	_, err = UniverseFromPorch(context.Background(), src, "ran-a", "ran-b")
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidPackage) || ie.Package != "oai-ran-cucp" || !strings.Contains(err.Error(), "ran-b/oai-ran-cucp revision 3") {
		t.Errorf("err = %v", err)
	}
}
