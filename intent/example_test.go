package intent_test

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/blueprint"
	"github.com/nephoran/porchkit/blueprint/library"
	"github.com/nephoran/porchkit/intent"
)

// Decide picks the rule for an intent: a production UPF matches both the
// base upf rule and upf-prod, and upf-prod's higher priority wins.
func ExampleRules_Decide() {
	d, err := intent.LibraryRules().Decide(intent.Intent{
		Name: "upf-edge01", NetworkFunction: intent.UPF, Environment: intent.Prod, Site: "edge01",
		Scale: intent.Scale{Replicas: 1, MaxUplinkThroughput: "10G"},
		PLMN:  intent.PLMN{MCC: "001", MNC: "01"}, Slices: []intent.Slice{{SST: 1, SD: "ffffff"}}, DNN: "internet",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Rule.Name, d.Blueprint.Name, d.Blueprint.Version, d.Matched)
	fmt.Println(d.Values["replicas"], d.Values["ha_enabled"], d.Values["region"], d.Values["capacity"])
	// Output:
	// upf-prod upf ^1.0.0 [upf-prod upf]
	// 2 true edge01 map[maxUplinkThroughput:10G]
}

// A network function no rule covers fails with every rule's reason.
func ExampleNoMatchError() {
	rules, _ := intent.ParseRules("rules.yaml", []byte(`
apiVersion: intent.porchkit.io/v1alpha1
kind: Rules
spec:
  rules:
  - name: amf
    when: ['intent.networkFunction == "AMF"']
    blueprint: {name: amf}
`))
	_, err := rules.Decide(intent.Intent{Name: "du-1", NetworkFunction: intent.DU, Environment: intent.Dev, Site: "cell-9"})
	var nm *intent.NoMatchError
	fmt.Println(errors.As(err, &nm), nm.Rejections[0].Reasons)
	// Output: true [when[0] intent.networkFunction == "AMF" is false]
}

// FromIntent generates the package: the library catalog resolves the
// rule's "^1.0.0" to amf v1.0.0, the prod overlay sets 3 replicas and the
// cluster is injected into the blueprint's WorkloadCluster point.
func ExampleMapper_FromIntent() {
	ctx := context.Background()
	cat, err := library.Catalog(ctx)
	if err != nil {
		panic(err)
	}
	defer cat.Close()
	wc, err := yaml.Parse("apiVersion: infra.nephio.org/v1alpha1\nkind: WorkloadCluster\nmetadata:\n  name: core01\nspec:\n  clusterName: core01\n")
	if err != nil {
		panic(err)
	}
	res, err := intent.NewLibraryMapper(cat).FromIntent(ctx, intent.Intent{
		Name: "amf-core01", NetworkFunction: intent.AMF, Environment: intent.Prod, Region: "eu-west",
		Scale: intent.Scale{MaxSubscribers: 200000}, PLMN: intent.PLMN{MCC: "001", MNC: "01"},
	}, blueprint.Inject(wc))
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Decision.Rule.Name, res.Package.Name, res.Package.Blueprint)
	fmt.Println(res.Package.Values["replicas"], res.Package.Origins["replicas"], res.Package.Values["capacity"])
	// Output:
	// amf-prod amf-core01 amf@v1.0.0
	// 3 environment map[maxNFConnections:10 maxSubscribers:200000]
}
