package krmtest_test

import (
	"context"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/krm/krmtest"
)

// Render a package through the fake instead of real functions: one
// function is scripted to annotate every resource, the validator is left
// unscripted and passes its input through. The recorded calls show what
// the renderer asked for, in order; each got the package's two resources
// (the Kptfile and the ConfigMap).
func Example() {
	fake := krmtest.NewExecutor().On("example.com/annotate:v1",
		func(_ context.Context, fn krm.Function, in *framework.ResourceList) (*krm.Output, error) {
			for _, n := range in.Items {
				a := n.GetAnnotations()
				a["owner"] = "team-blue"
				if err := n.SetAnnotations(a); err != nil {
					return nil, err
				}
			}
			return &krm.Output{Items: in.Items, Run: krm.RunInfo{Function: fn.String(), Runtime: "fake"}}, nil
		})

	files := map[string]string{
		"Kptfile": `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: app
pipeline:
  mutators:
  - image: example.com/annotate:v1
  validators:
  - image: example.com/validate:v1
`,
		"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
	}
	out, _, err := krm.Render(context.Background(), fake, files)
	if err != nil {
		panic(err)
	}
	fmt.Print(out["cm.yaml"])
	for _, c := range fake.Calls() {
		fmt.Println("called", c.Function, "with", len(c.Items), "items")
	}
	// Output:
	// apiVersion: v1
	// kind: ConfigMap
	// metadata:
	//   name: app
	//   annotations:
	//     owner: team-blue
	// called example.com/annotate:v1 with 2 items
	// called example.com/validate:v1 with 2 items
}
