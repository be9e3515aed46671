package catalog_test

import (
	"fmt"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm/catalog"
)

// BenchmarkFunctions runs each function of krm's render benchmark alone,
// in place, over the same 1,000 resources (500 Deployments and 500
// ConfigMaps, each with its file annotations); ns/op, B/op and allocs/op
// are one run's:
//
//	go test ./krm/catalog -run '^$' -bench Functions -benchmem
func BenchmarkFunctions(b *testing.B) {
	var resources []string
	for f := 0; f < 10; f++ {
		for i := 0; i < 50; i++ {
			resources = append(resources, fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%d-%d\n"+
				"  annotations:\n    internal.config.kubernetes.io/path: res%02d.yaml\n    internal.config.kubernetes.io/index: '%d'\n"+
				"spec:\n  replicas: 1 # kpt-set: ${replicas}\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.25\n",
				f, i, f, 2*i), fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-%d-%d\n"+
				"  annotations:\n    internal.config.kubernetes.io/path: res%02d.yaml\n    internal.config.kubernetes.io/index: '%d'\n"+
				"data:\n  key: value\n", f, i, f, 2*i+1))
		}
	}
	configMap := func(data string) *yaml.RNode {
		return yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n" + data)
	}
	for _, fn := range []struct {
		name   string
		run    func(*framework.ResourceList) error
		config *yaml.RNode
	}{
		{"set-namespace", catalog.SetNamespace, configMap("  namespace: prod\n")},
		{"set-labels", catalog.SetLabels, configMap("  team: blue\n")},
		{"set-annotations", catalog.SetAnnotations, configMap("  owner: ops\n")},
		{"set-image", catalog.SetImage, configMap("  name: nginx\n  newTag: \"1.27\"\n")},
		{"apply-setters", catalog.ApplySetters, configMap("  replicas: \"3\"\n")},
	} {
		b.Run(fn.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				rl := &framework.ResourceList{FunctionConfig: fn.config.Copy()}
				for _, r := range resources {
					rl.Items = append(rl.Items, yaml.MustParse(r))
				}
				b.StartTimer()
				if err := fn.run(rl); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
