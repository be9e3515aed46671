package blueprint_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/nephoran/porchkit/blueprint"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// publishExample publishes files as a new revision (Init, or Copy of from).
func publishExample(ctx context.Context, prs porch.PackageRevisions, repo, pkg, ws, from string, edit func(map[string]string)) string {
	var name string
	if from == "" {
		d, err := prs.Init(ctx, repo, pkg, ws)
		if err != nil {
			panic(err)
		}
		name = d.Name
	} else {
		d, err := prs.Copy(ctx, from, ws)
		if err != nil {
			panic(err)
		}
		name = d.Name
	}
	p, err := prs.Pull(ctx, name)
	if err != nil {
		panic(err)
	}
	edit(p.Resources)
	if _, err := prs.Push(ctx, p); err != nil {
		panic(err)
	}
	if _, err := prs.Propose(ctx, name); err != nil {
		panic(err)
	}
	if _, err := prs.Approve(ctx, name); err != nil {
		panic(err)
	}
	return name
}

// Generate a downstream package into a deployment repository, customise
// it, and upgrade it to a new blueprint version: the preview lists the
// conflict before any draft exists, and the customisations are kept.
func ExampleUpgrade() {
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
	_, _ = c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/blueprints.git")
	_, _ = c.Repositories("default").Register(ctx, "edge", "https://git.example.com/edge.git", porch.AsDeployment)
	prs := c.PackageRevisions("default")

	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: amf\ndata:\n  logLevel: info\n  replicas: \"1\"\n"
	v1 := publishExample(ctx, prs, "blueprints", "amf", "v1", "", func(f map[string]string) { f["amf.yaml"] = cm })
	res, err := blueprint.GenerateInto(ctx, c, v1, nil, blueprint.IntoTarget{Repository: "edge", Package: "amf-edge"},
		blueprint.RequireDeployment(true), blueprint.AsPublished)
	if err != nil {
		panic(err)
	}
	local := publishExample(ctx, prs, "", "", "v2", res.Revision.Name, func(f map[string]string) {
		f["amf.yaml"] = strings.NewReplacer("logLevel: info", "logLevel: debug", `replicas: "1"`, `replicas: "3"`).Replace(f["amf.yaml"])
	})
	v2 := publishExample(ctx, prs, "", "", "v2", v1, func(f map[string]string) {
		f["amf.yaml"] = strings.Replace(f["amf.yaml"], "logLevel: info", "logLevel: warn", 1)
	})

	target := blueprint.UpgradeTarget{Downstream: local, NewUpstream: v2, Workspace: "v3"}
	preview, err := blueprint.Upgrade(ctx, c, target, nil, &blueprint.IntoOptions{DryRun: true})
	if err != nil {
		panic(err)
	}
	for _, conflict := range preview.Preview.Conflicts {
		fmt.Println(conflict)
	}
	up, err := blueprint.Upgrade(ctx, c, target, nil, blueprint.AsPublished)
	if err != nil {
		panic(err)
	}
	p, err := prs.Pull(ctx, up.Revision.Name)
	if err != nil {
		panic(err)
	}
	fmt.Println(up.Revision.Spec.Lifecycle, len(up.Preview.Lost), "lost")
	fmt.Print(p.Resources["amf.yaml"])
	// Output:
	// ConfigMap/amf data.logLevel: local "debug", upstream "warn" (was "info"), policy keep-local
	// Published 0 lost
	// apiVersion: v1
	// kind: ConfigMap
	// metadata:
	//   name: amf
	// data:
	//   logLevel: debug
	//   replicas: "3"
}
