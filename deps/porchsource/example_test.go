package porchsource_test

import (
	"context"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/deps"
	"github.com/nephoran/porchkit/deps/porchsource"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// Resolve over the published revisions of a Porch repository, here on the
// in-memory Porch.
func Example() {
	ctx := context.Background()
	server, err := fake.NewClientBuilder().BuildServer()
	if err != nil {
		panic(err)
	}
	defer server.Close()
	client, err := porch.New(server.Config(), porch.Options{})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	if _, err := client.Repositories("default").Register(ctx, "catalog", "https://git.example.com/catalog.git"); err != nil {
		panic(err)
	}
	prs := client.PackageRevisions("default")
	for _, r := range []struct{ pkg, workspace, release string }{
		{"nrf", "v1", "version: 2.0.0"},
		{"nrf", "v2", "version: 3.0.0"},
		{"smf", "v1", "version: 1.4.0\nrequires: [\"nrf <3\"]"},
	} {
		pr, err := prs.Init(ctx, "catalog", r.pkg, r.workspace)
		if err != nil {
			panic(err)
		}
		if _, err := prs.UpdateResources(ctx, pr.Name, func(p *porch.Package) error {
			k := yaml.MustParse(p.Resources["Kptfile"])
			if err := k.PipeE(yaml.SetAnnotation(deps.ReleaseAnnotation, r.release)); err != nil {
				return err
			}
			p.Resources["Kptfile"] = k.MustString()
			return nil
		}); err != nil {
			panic(err)
		}
		if _, err := prs.Propose(ctx, pr.Name); err != nil {
			panic(err)
		}
		if _, err := prs.Approve(ctx, pr.Name); err != nil {
			panic(err)
		}
	}

	u, err := deps.UniverseFromPorch(ctx, porchsource.New(client, porchsource.Config{Namespace: "default"}), "catalog")
	if err != nil {
		panic(err)
	}
	plan, err := deps.NewSATResolver(deps.ResolverConfig{}).Resolve(ctx, u, deps.Request{Roots: []deps.Dependency{deps.MustParseDependency("smf")}})
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Len(), "releases;", plan)
	// Output:
	// 3 releases; [[nrf@2.0.0] [smf@1.4.0]]
}
