package fake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nephoran/porchkit/porch/fake"
)

// TestControllerRuntimeClient: a controller-runtime client, which finds
// resources through discovery, gets and lists package revisions and gets a
// repository on the fake.
func TestControllerRuntimeClient(t *testing.T) {
	c, srv := fake.NewClientBuilder().Build(t)
	ctx := context.Background()
	if _, err := c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/blueprints.git"); err != nil {
		t.Fatal(err)
	}
	d, err := c.PackageRevisions("default").Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}

	scheme := runtime.NewScheme()
	if err := porchapi.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := configapi.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	cr, err := client.New(srv.Config(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	var pr porchapi.PackageRevision
	if err := cr.Get(ctx, client.ObjectKey{Namespace: "default", Name: d.Name}, &pr); err != nil {
		t.Fatalf("get package revision: %v", err)
	}
	if pr.Spec.PackageName != "app" || pr.Spec.Lifecycle != porchapi.PackageRevisionLifecycleDraft {
		t.Fatalf("got %+v", pr.Spec)
	}
	var list porchapi.PackageRevisionList
	if err := cr.List(ctx, &list, client.InNamespace("default")); err != nil {
		t.Fatalf("list package revisions: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != d.Name {
		t.Fatalf("listed %d revisions: %+v", len(list.Items), list.Items)
	}
	var repo configapi.Repository
	if err := cr.Get(ctx, client.ObjectKey{Namespace: "default", Name: "blueprints"}, &repo); err != nil {
		t.Fatalf("get repository: %v", err)
	}
	if repo.Spec.Git == nil || repo.Spec.Git.Repo != "https://git.example.com/blueprints.git" {
		t.Fatalf("repository spec %+v", repo.Spec)
	}
}

// TestDiscovery: discovery names exactly the resources the fake serves.
func TestDiscovery(t *testing.T) {
	_, srv := fake.NewClientBuilder().Build(t)
	dc, err := discovery.NewDiscoveryClientForConfig(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, l := range lists {
		for _, r := range l.APIResources {
			got[l.GroupVersion+" "+r.Name] = r.Namespaced
		}
	}
	want := []string{
		"porch.kpt.dev/v1alpha1 packagerevisions", "porch.kpt.dev/v1alpha1 packagerevisions/approval",
		"porch.kpt.dev/v1alpha1 packagerevisionresources", "config.porch.kpt.dev/v1alpha1 repositories", "v1 secrets",
	}
	for _, w := range want {
		if namespaced, ok := got[w]; !ok || !namespaced {
			t.Errorf("discovery lacks namespaced %s (has %v)", w, got)
		}
	}
	v, err := dc.ServerVersion()
	if err != nil || v.Major == "" {
		t.Fatalf("version %+v: %v", v, err)
	}
}

// TestHealthAndVersion: /healthz, /readyz and /livez answer ok, also when
// the fake requires a token; /version is a version.Info.
func TestHealthAndVersion(t *testing.T) {
	_, srv := fake.NewClientBuilder().WithBearerToken("tok").Build(t)
	for _, p := range []string{"/healthz", "/readyz", "/livez", "/readyz/ping"} {
		resp, err := http.Get(srv.Config().Host + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Errorf("%s: %d %q", p, resp.StatusCode, body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, srv.Config().Host+"/version", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var v version.Info
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.GitVersion == "" {
		t.Fatalf("version %+v: %v", v, err)
	}
	if resp, err := http.Get(srv.Config().Host + "/apis"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("discovery without the token: %v %v", resp.StatusCode, err)
	}
}
