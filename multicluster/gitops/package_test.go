package gitops_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/gitops"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

const (
	bridgeKptfile = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: %s\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\ninfo:\n  description: a package\n"
	bridgeContext = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\ndata:\n  name: upf\n"
	bridgeDeploy  = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: upf\n  namespace: default\nspec:\n  replicas: 2\n"
)

// publishPackage makes a published revision of pkgPath in repository
// "blueprints" with a Kptfile, a package-context ConfigMap and a
// Deployment, and returns it (lifecycle Published unless draft).
func publishPackage(ctx context.Context, t *testing.T, prs porch.PackageRevisions, pkgPath, workspace string, draft bool) *porchapi.PackageRevision {
	t.Helper()
	pr, err := prs.Init(ctx, "blueprints", pkgPath, workspace)
	if err != nil {
		t.Fatal(err)
	}
	contents, err := prs.Pull(ctx, pr.Name)
	if err != nil {
		t.Fatal(err)
	}
	contents.Resources["Kptfile"] = strings.Replace(bridgeKptfile, "%s", pkgPath[strings.LastIndex(pkgPath, "/")+1:], 1)
	contents.Resources["package-context.yaml"] = bridgeContext
	contents.Resources["deployment.yaml"] = bridgeDeploy
	if _, err := prs.Push(ctx, contents); err != nil {
		t.Fatal(err)
	}
	if !draft {
		if _, err := porch.NewLifecycleManager(prs, porch.LifecycleOptions{}).Promote(ctx, pr.Name, porchapi.PackageRevisionLifecyclePublished); err != nil {
			t.Fatal(err)
		}
	}
	got, err := prs.Get(ctx, pr.Name)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestPackageFromRevision(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _ := fake.NewClientBuilder().Build(t)
	if _, err := c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/blueprints.git"); err != nil {
		t.Fatal(err)
	}
	prs := c.PackageRevisions("default")
	pr := publishPackage(ctx, t, prs, "network/upf-core", "v1", false)

	pkg, err := gitops.PullPackage(ctx, prs, pr.Name)
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Name != "network-upf-core" || pkg.Revision != "v1" {
		t.Fatalf("package %q revision %q, want network-upf-core v1", pkg.Name, pkg.Revision)
	}
	if len(pkg.Resources) != 1 || pkg.Resources[0].GetKind() != "Deployment" {
		var kinds []string
		for _, r := range pkg.Resources {
			kinds = append(kinds, r.GetKind()+"/"+r.GetName())
		}
		t.Fatalf("resources %v, want only the Deployment (local config dropped)", kinds)
	}
	for k := range pkg.Resources[0].GetAnnotations() {
		if strings.Contains(k, "config.kubernetes.io/") {
			t.Errorf("kpt's annotation %s reached the package", k)
		}
	}
	// The package propagates as is: its name passes the Propagator's checks.
	if errs := validation.IsDNS1123Label(pkg.Name); len(errs) > 0 {
		t.Fatal(errs)
	}

	draft := publishPackage(ctx, t, prs, "draft-only", "v1", true)
	if _, err := gitops.PullPackage(ctx, prs, draft.Name); !errors.Is(err, multicluster.ErrInvalidPackage) || !strings.Contains(err.Error(), "Draft") {
		t.Errorf("a draft: %v, want ErrInvalidPackage saying Draft", err)
	}
}

func TestPackageNames(t *testing.T) {
	long := strings.Repeat("very-long-path/", 8)
	for _, tc := range []struct {
		path, want string
		invalid    bool
	}{
		{path: "upf", want: "upf"},
		{path: "free5gc/upf", want: "free5gc-upf"},
		{path: "Edge.Sites/UPF__v2/", want: "edge-sites-upf-v2"},
		{path: "/leading", want: "leading"},
		{path: long + "a"},
		{path: long + "b"},
		{path: "upf core", invalid: true},
		{path: "upfé", invalid: true},
		{path: "//", invalid: true},
		{path: "", invalid: true},
	} {
		pr := &porchapi.PackageRevision{Spec: porchapi.PackageRevisionSpec{PackageName: tc.path, Revision: 3, Lifecycle: porchapi.PackageRevisionLifecyclePublished}}
		pr.Name = "blueprints.x.v3"
		pkg, err := gitops.PackageFromRevision(pr, &porch.Package{Name: pr.Name, Resources: map[string]string{"deployment.yaml": bridgeDeploy}})
		if tc.invalid {
			if !errors.Is(err, multicluster.ErrInvalidPackage) {
				t.Errorf("%q: %v, want ErrInvalidPackage", tc.path, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.path, err)
			continue
		}
		if errs := validation.IsDNS1123Label(pkg.Name); len(errs) > 0 {
			t.Errorf("%q became %q: %v", tc.path, pkg.Name, errs)
		}
		if tc.want != "" && pkg.Name != tc.want {
			t.Errorf("%q became %q, want %q", tc.path, pkg.Name, tc.want)
		}
		if pkg.Revision != "v3" {
			t.Errorf("%q: revision %q, want v3", tc.path, pkg.Revision)
		}
	}
	a, _ := gitops.PackageFromRevision(&porchapi.PackageRevision{Spec: porchapi.PackageRevisionSpec{PackageName: long + "a", Revision: 1, Lifecycle: porchapi.PackageRevisionLifecyclePublished}}, &porch.Package{})
	b, _ := gitops.PackageFromRevision(&porchapi.PackageRevision{Spec: porchapi.PackageRevisionSpec{PackageName: long + "b", Revision: 1, Lifecycle: porchapi.PackageRevisionLifecyclePublished}}, &porch.Package{})
	if a == nil || b == nil || a.Name == b.Name {
		t.Errorf("two long paths that differ at the end share a name: %v %v", a, b)
	}
	if _, err := gitops.PackageFromRevision(nil, nil); !errors.Is(err, multicluster.ErrInvalidPackage) {
		t.Errorf("nil revision: %v, want ErrInvalidPackage", err)
	}
}
