package fake_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// Build a client on the fake, write a package and publish it.
func Example() {
	srv, err := fake.NewClientBuilder().BuildServer() // in a test: c, srv := fake.NewClientBuilder().Build(t)
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := porch.New(srv.Config(), porch.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()

	if _, err := c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/blueprints.git"); err != nil {
		panic(err)
	}
	prs := c.PackageRevisions("default")
	draft, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		panic(err)
	}
	pkg, err := prs.Pull(ctx, draft.Name)
	if err != nil {
		panic(err)
	}
	pkg.Resources["cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n"
	if _, err := prs.Push(ctx, pkg); err != nil {
		panic(err)
	}
	if _, err := prs.Propose(ctx, draft.Name); err != nil {
		panic(err)
	}
	pr, err := prs.Approve(ctx, draft.Name)
	if err != nil {
		panic(err)
	}
	fmt.Println(pr.Name, pr.Spec.Lifecycle, pr.Spec.Revision)
	// Output: blueprints.app.v1 Published 1
}

// Make the next two reads of a revision fail with 503, as an overloaded
// Porch does; the client retries them.
func ExampleFail() {
	srv, err := fake.NewClientBuilder().BuildServer()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := porch.New(srv.Config(), porch.Options{Cache: porch.CacheOptions{Disabled: true}})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()
	_, _ = c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/blueprints.git")
	d, _ := c.PackageRevisions("default").Init(ctx, "blueprints", "app", "v1")

	srv.Intercept(fake.Funcs{Get: fake.Fail("packagerevisions", http.StatusServiceUnavailable, "", 2)})
	before := srv.RequestsFor(fake.VerbGet, "packagerevisions")
	_, err = c.PackageRevisions("default").Get(ctx, d.Name)
	fmt.Println(err, srv.RequestsFor(fake.VerbGet, "packagerevisions")-before)
	// Output: <nil> 3
}
