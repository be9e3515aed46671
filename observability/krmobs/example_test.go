package krmobs_test

import (
	"context"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/observability"
	"github.com/nephoran/porchkit/observability/krmobs"
)

// Metrics of KRM function runs, gathered from the provider's registry.
func Example() {
	obs := observability.New(observability.Config{})
	runner := krm.NewRunner(krm.RunnerConfig{Instrumentation: krmobs.New(obs)})
	in := &framework.ResourceList{Items: []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")}}
	fn := krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1",
		Config: yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ns\ndata:\n  namespace: prod\n")}
	if _, err := runner.Execute(context.Background(), fn, in); err != nil {
		panic(err)
	}
	families, err := obs.Registry().Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		if f.GetName() == "porchkit_krm_runs_total" {
			for _, m := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				fmt.Println(f.GetName(), labels["function"], labels["outcome"], m.GetCounter().GetValue())
			}
		}
	}
	// Output:
	// porchkit_krm_runs_total gcr.io/kpt-fn/set-namespace ok 1
}
