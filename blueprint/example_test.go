package blueprint_test

import (
	"context"
	"fmt"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/blueprint"
)

// A blueprint with a declaration: the schema types the values, the binding
// writes replicas as an integer, the prod overlay and the cluster context
// layer over the caller's values, and the generated package is ready for
// the porch client's Push.
func Example() {
	bp := &blueprint.Blueprint{Name: "amf", Version: "v1.0.0", Files: map[string]string{
		"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: amf\n",
		"parameters.yaml": `apiVersion: blueprint.porchkit.io/v1alpha1
kind: Parameters
metadata:
  name: amf
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  schema:
    type: object
    additionalProperties: false
    properties:
      replicas: {type: integer, minimum: 1, maximum: 10, default: 1, description: AMF replicas}
      region: {type: string, description: where it runs}
  bindings:
  - value: replicas
    resource: {kind: Deployment, name: amf}
    field: spec.replicas
  - value: region
    resource: {kind: Deployment, name: amf}
    field: metadata.labels.region
  environments:
    prod: {replicas: 3}
`,
		"deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: amf\nspec:\n  replicas: 1\n",
	}}
	eng := blueprint.NewEngine(blueprint.Blueprints{bp})
	pkg, err := eng.Generate(context.Background(), blueprint.Ref{Name: "amf"}, blueprint.Values{"region": "eu-west"},
		blueprint.Name("amf-edge01"), blueprint.Environment("prod"), &blueprint.ClusterContext{Region: "eu-central"})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := kyaml.MustParse(pkg.Files["deployment.yaml"])
	replicas, _ := d.Pipe(kyaml.Lookup("spec", "replicas"))
	fmt.Println("replicas:", replicas.YNode().Value, replicas.YNode().ShortTag())
	fmt.Println("region:", d.GetLabels()["region"])
	fmt.Println("replicas from:", pkg.Origins["replicas"], "region from:", pkg.Origins["region"])

	// Values the schema rejects come back as one error listing each failure.
	_, err = eng.Generate(context.Background(), blueprint.Ref{Name: "amf"}, blueprint.Values{"replicas": 20, "zone": "a"})
	fmt.Println(err)
	// Output:
	// replicas: 3 !!int
	// region: eu-central
	// replicas from: environment region from: cluster
	// blueprint amf: invalid values; /replicas: maximum: got 20, want 10 (/properties/replicas/maximum); /zone: additional properties 'zone' not allowed (/additionalProperties)
}

// Describe lists the parameters of a package without a declaration, such
// as a Nephio blueprint, from what Infer finds.
func ExampleParameters_Describe() {
	files := map[string]string{
		"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: upf\n",
		"workload-cluster.yaml": `apiVersion: infra.nephio.org/v1alpha1
kind: WorkloadCluster
metadata:
  name: workload-cluster
  annotations:
    config.kubernetes.io/local-config: "true"
    kpt.dev/config-injection: required
spec:
  clusterName: example
`,
	}
	p, err := blueprint.Infer(files)
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _ := p.Describe()
	for _, info := range d.Parameters {
		fmt.Println(info.Path, info.Type, info.Bindings)
	}
	// Output:
	// WorkloadCluster object []
	// WorkloadCluster.workload-cluster object [injection point infra.nephio.org/v1alpha1/WorkloadCluster/workload-cluster]
	// WorkloadCluster.workload-cluster.clusterName string []
}
