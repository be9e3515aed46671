package porch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

func TestRegisterOptions(t *testing.T) {
	c, _ := fake.NewClientBuilder().Build(t)
	ctx := context.Background()
	repos := c.Repositories("default")
	oci, err := repos.Register(ctx, "images", "oci://registry.example.com/packages", porch.BasicAuth{Username: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if oci.Spec.Type != configapi.RepositoryTypeOCI || oci.Spec.Oci == nil || oci.Spec.Oci.Registry != "registry.example.com/packages" ||
		oci.Spec.Oci.SecretRef.Name != "images-auth" || oci.Spec.Git != nil {
		t.Fatalf("OCI registration: %+v", oci.Spec)
	}
	git, err := repos.Register(ctx, "deploy", "https://git.example.com/deploy.git", porch.Branch("prod"),
		porch.Directory("/sites/"), porch.CreateBranch, porch.AsDeployment, porch.Author{Name: "Bot", Email: "bot@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	g := git.Spec.Git
	if g.Branch != "prod" || g.Directory != "sites" || !g.CreateBranch || !git.Spec.Deployment || g.Author != "Bot" || g.Email != "bot@example.com" {
		t.Fatalf("git registration: %+v", git.Spec)
	}
	if _, err := repos.Register(ctx, "deploy", "https://git.example.com/other.git"); !errors.Is(err, porch.ErrAlreadyExists) {
		t.Fatalf("second registration: %v", err)
	}
	if _, err := repos.Register(ctx, "x", ""); !errors.Is(err, porch.ErrInvalid) {
		t.Fatalf("empty URL: %v", err)
	}
	if err := repos.Unregister(ctx, "nope"); !errors.Is(err, porch.ErrNotFound) {
		t.Fatalf("unregister missing: %v", err)
	}
}

func TestUnregisterRemovesTheAuthSecret(t *testing.T) {
	c, srv := fake.NewClientBuilder().Build(t)
	ctx := context.Background()
	cfg := srv.Config()
	cfg.ContentType = "application/json" // the fake speaks JSON
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	repos := c.Repositories("default")
	if _, err := repos.Register(ctx, "private", "https://git.example.com/private.git", porch.BasicAuth{Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	// Unregister dry-runs the Secret's delete first: a dry run must
	// leave it in place.
	if err := cs.CoreV1().Secrets("default").Delete(ctx, "private-auth", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets("default").Get(ctx, "private-auth", metav1.GetOptions{}); err != nil {
		t.Fatalf("after a dry-run delete: %v", err)
	}
	if err := repos.Unregister(ctx, "private"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets("default").Get(ctx, "private-auth", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the auth Secret after Unregister: %v, want NotFound", err)
	}
	if _, err := repos.Get(ctx, "private"); !errors.Is(err, porch.ErrNotFound) {
		t.Fatalf("the Repository after Unregister: %v, want ErrNotFound", err)
	}
}

func TestPullAsFilesAndPushBack(t *testing.T) {
	prs, _ := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := prs.Pull(ctx, d.Name)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := pkg.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pkg.ReadDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Push(ctx, pkg); err != nil {
		t.Fatal(err)
	}
	again, _ := prs.Pull(ctx, d.Name)
	if _, ok := again.Resources["sub/cm.yaml"]; !ok || len(again.Resources) != 4 {
		t.Fatalf("files after push from a directory: %d", len(again.Resources))
	}
	if err := os.WriteFile(filepath.Join(dir, "binary.bin"), []byte{0xff, 0xfe, 0x00}, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pkg.ReadDir(dir); !errors.Is(err, porch.ErrInvalid) {
		t.Fatalf("non-UTF-8 file: %v", err)
	}
	evil := &porch.Package{Name: "x", Resources: map[string]string{"../escape.yaml": "x"}}
	if err := evil.WriteDir(t.TempDir()); !errors.Is(err, porch.ErrInvalid) {
		t.Fatalf("path leaving the directory: %v", err)
	}
}
