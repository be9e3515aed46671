package krmcustomize

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/multicluster"
)

// ClusterContextName is the name of the ConfigMap a Customizer injects
// (as local config, never delivered) so that functions can read the
// cluster's facts: data name, region, zone, environment, capabilities
// (comma-separated) and label.<key> for every label.
const ClusterContextName = "cluster-context"

// Customizer customises a package for each cluster with KRM functions,
// the way Nephio specialises package variants: the functions run in order
// over the package's resources plus an injected cluster-context ConfigMap;
// local-config resources (that ConfigMap among them) are dropped from the
// result.
type Customizer struct {
	// Executor runs the functions (krm.NewRunner(krm.RunnerConfig{}) for the builtin
	// catalog).
	Executor krm.Executor
	// Functions returns the functions for a cluster, e.g. set-namespace
	// and set-labels with the cluster's values.
	Functions func(c *multicluster.Cluster) []krm.Function
}

// Customize implements multicluster.Customizer.
func (k *Customizer) Customize(ctx context.Context, c *multicluster.Cluster, pkg *multicluster.Package) ([]*yaml.RNode, error) {
	items := make([]*yaml.RNode, 0, len(pkg.Resources)+1)
	for _, n := range pkg.Resources {
		items = append(items, n.Copy())
	}
	cc, err := clusterContext(c)
	if err != nil {
		return nil, err
	}
	items = append(items, cc)
	if k.Functions != nil {
		for _, fn := range k.Functions(c) {
			out, err := k.Executor.Execute(ctx, fn, &framework.ResourceList{Items: items})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fn, err)
			}
			items = out.Items
		}
	}
	result := items[:0:0]
	for _, n := range items {
		if n.GetAnnotations()["config.kubernetes.io/local-config"] != "true" {
			result = append(result, n)
		}
	}
	return result, nil
}

// clusterContext is the injected ConfigMap of the cluster's facts.
func clusterContext(c *multicluster.Cluster) (*yaml.RNode, error) {
	data := map[string]string{"name": c.Name, "region": c.Region, "zone": c.Zone, "environment": c.Environment,
		"capabilities": strings.Join(c.Capabilities, ",")}
	for k, v := range c.Labels {
		data["label."+k] = v
	}
	n, err := yaml.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + ClusterContextName +
		"\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n")
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := n.PipeE(yaml.LookupCreate(yaml.MappingNode, "data"), yaml.SetField(k, yaml.NewStringRNode(data[k]))); err != nil {
			return nil, err
		}
	}
	return n, nil
}

var _ multicluster.Customizer = (*Customizer)(nil)
