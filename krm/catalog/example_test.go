package catalog_test

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm/catalog"
)

// Run set-namespace and then set-labels, looked up by catalog image, on a
// small ResourceList: the Deployment moves to the namespace, the
// ClusterRole (cluster-scoped) does not, and the label reaches the
// Deployment's selector and pod template as well as every object's
// metadata. Comments survive.
func ExampleFunctions() {
	rl := &framework.ResourceList{Items: []*yaml.RNode{
		yaml.MustParse(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: app # the app
spec:
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
`),
		yaml.MustParse("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n"),
	}}
	fns := catalog.Functions()

	rl.FunctionConfig = yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ns\ndata:\n  namespace: prod\n")
	if err := fns["set-namespace:v0.4.1"].Process(rl); err != nil {
		panic(err)
	}
	rl.FunctionConfig = yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: labels\ndata:\n  team: blue\n")
	if err := fns["set-labels:v0.2.0"].Process(rl); err != nil {
		panic(err)
	}

	out, err := kio.StringAll(rl.Items)
	if err != nil {
		panic(err)
	}
	fmt.Print(out)
	// Output:
	// apiVersion: apps/v1
	// kind: Deployment
	// metadata:
	//   name: app # the app
	//   namespace: prod
	//   labels:
	//     team: blue
	// spec:
	//   selector:
	//     matchLabels:
	//       app: app
	//       team: blue
	//   template:
	//     metadata:
	//       labels:
	//         app: app
	//         team: blue
	// ---
	// apiVersion: rbac.authorization.k8s.io/v1
	// kind: ClusterRole
	// metadata:
	//   name: reader
	//   labels:
	//     team: blue
}
