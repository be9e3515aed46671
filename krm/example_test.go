package krm_test

import (
	"context"
	"fmt"

	"github.com/nephoran/porchkit/krm"
)

// Render a package the way Porch gives it (file name -> content) through its
// Kptfile pipeline, in-process.
func ExampleRender() {
	files := map[string]string{
		"Kptfile": `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: app
pipeline:
  mutators:
  - image: gcr.io/kpt-fn/set-namespace:v0.4.1
    configMap:
      namespace: prod
    selectors:
    - kind: Deployment
`,
		"deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app # the app\n",
	}
	out, result, err := krm.Render(context.Background(), krm.NewRunner(krm.RunnerConfig{}), files)
	if err != nil {
		panic(err)
	}
	fmt.Print(out["deploy.yaml"])
	fmt.Println(len(result.Runs), "function run,", result.Runs[0].Run.Runtime)
	// Output:
	// apiVersion: apps/v1
	// kind: Deployment
	// metadata:
	//   name: app # the app
	//   namespace: prod
	// 1 function run, builtin
}
