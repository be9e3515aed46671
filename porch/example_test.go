package porch_test

import (
	"context"
	"fmt"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// Create a package, edit its files and publish it with an approval policy.
func Example() {
	srv, err := fake.NewClientBuilder().BuildServer() // a real cluster's *rest.Config works the same
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()

	c, err := porch.New(srv.Config(), porch.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if _, err := c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/blueprints.git"); err != nil {
		panic(err)
	}
	if _, err := c.Repositories("default").WaitReady(ctx, "blueprints"); err != nil {
		panic(err)
	}

	prs := c.PackageRevisions("default")
	draft, err := prs.Init(ctx, "blueprints", "team-a/app", "v1", porch.Description("an app"))
	if err != nil {
		panic(err)
	}
	if _, err := prs.UpdateResources(ctx, draft.Name, func(p *porch.Package) error {
		p.Resources["config.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  replicas: \"3\"\n"
		return nil
	}); err != nil {
		panic(err)
	}

	policy, err := porch.CELPolicy(`revision.spec.packageName.startsWith("team-a/") && resources.all(r, r.kind != "Secret")`)
	if err != nil {
		panic(err)
	}
	pr, err := porch.NewLifecycleManager(prs, porch.LifecycleOptions{Policy: policy, Actor: "ci"}).
		Promote(ctx, draft.Name, porchapi.PackageRevisionLifecyclePublished)
	if err != nil {
		panic(err)
	}
	fmt.Println(pr.Name, pr.Spec.Lifecycle, pr.Spec.Revision)
	// Output: blueprints.team-a.app.v1 Published 1
}

// Errors are typed: branch with errors.Is.
func ExampleErrImmutable() {
	srv, _ := fake.NewClientBuilder().BuildServer()
	defer srv.Close()
	ctx := context.Background()
	c, _ := porch.New(srv.Config(), porch.Options{})
	defer c.Close()
	_, _ = c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/blueprints.git")
	prs := c.PackageRevisions("default")
	d, _ := prs.Init(ctx, "blueprints", "app", "v1")
	_, _ = prs.Propose(ctx, d.Name)
	_, _ = prs.Approve(ctx, d.Name)

	err := prs.Delete(ctx, d.Name)
	fmt.Println(errorsIs(err, porch.ErrImmutable))
	err = prs.Delete(ctx, d.Name, porch.ProposingDeletion)
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}
