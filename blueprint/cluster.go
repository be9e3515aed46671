package blueprint

import (
	"fmt"
	"slices"
	"strings"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
)

// ClusterContext is what the target cluster says about itself, the top
// value layer: a cluster's region and site win over anything the caller
// passed, since the package has to match where it runs.
type ClusterContext struct {
	// Name is the cluster's name (Nephio's clusterName).
	Name string
	// Region and Zone place the cluster.
	Region, Zone string
	// Site is the site code (Nephio's ClusterContext spec.siteCode).
	Site string
	// Environment is the cluster's environment ("dev", "prod").
	Environment string
	// Capabilities are what the cluster offers: CNIs ("sriov",
	// "macvlan"), hardware ("gpu"), roles ("5g-upf").
	Capabilities []string
	// Labels are the cluster's labels, addressable as "labels.<key>".
	Labels map[string]string
}

// Nephio labels that place a cluster, read by ClusterFromObject.
const (
	// NephioRegionLabel carries a cluster's region.
	NephioRegionLabel = "nephio.org/region"
	// NephioSiteLabel carries a cluster's site.
	NephioSiteLabel = "nephio.org/site"
	// NephioEnvironmentLabel carries a cluster's environment.
	NephioEnvironmentLabel = "nephio.org/environment"
)

// ClusterFromMulticluster takes the context of a multicluster.Cluster: its
// name, region, zone, environment, capabilities and labels (the site from
// the nephio.org/site label).
func ClusterFromMulticluster(c multicluster.Cluster) *ClusterContext {
	cc := &ClusterContext{
		Name:         c.Name,
		Region:       c.Region,
		Zone:         c.Zone,
		Environment:  c.Environment,
		Capabilities: slices.Clone(c.Capabilities),
		Labels:       cloneStringMap(c.Labels),
	}
	cc.Site = c.Labels[NephioSiteLabel]
	return cc
}

// ClusterFromObject reads a Nephio WorkloadCluster (spec.clusterName,
// spec.cnis, spec.masterInterface) or ClusterContext (spec.clusterName,
// spec.siteCode, spec.cniConfig.cniType) of group infra.nephio.org. Region,
// site and environment also come from the nephio.org/region, site and
// environment labels; CNIs become capabilities.
func ClusterFromObject(obj *kyaml.RNode) (*ClusterContext, error) {
	if obj == nil {
		return nil, fmt.Errorf("%w: nil cluster object", ErrInvalidValues)
	}
	g, _ := splitAPIVersion(obj.GetApiVersion())
	k := obj.GetKind()
	if g != "infra.nephio.org" || (k != "WorkloadCluster" && k != "ClusterContext") {
		return nil, fmt.Errorf("%w: cluster object is %s %s, want infra.nephio.org WorkloadCluster or ClusterContext", ErrInvalidValues, obj.GetApiVersion(), k)
	}
	labels := obj.GetLabels()
	cc := &ClusterContext{
		Name:        stringField(obj, "spec", "clusterName"),
		Region:      labels[NephioRegionLabel],
		Site:        labels[NephioSiteLabel],
		Environment: labels[NephioEnvironmentLabel],
		Labels:      labels,
	}
	if cc.Name == "" {
		cc.Name = obj.GetName()
	}
	if site := stringField(obj, "spec", "siteCode"); site != "" {
		cc.Site = site
	}
	if cnis, err := obj.Pipe(kyaml.Lookup("spec", "cnis")); err == nil && cnis != nil {
		if els, err := cnis.Elements(); err == nil {
			for _, e := range els {
				if s := strings.TrimSpace(e.YNode().Value); s != "" && e.YNode().Kind == kyaml.ScalarNode {
					cc.Capabilities = append(cc.Capabilities, s)
				}
			}
		}
	}
	if cni := stringField(obj, "spec", "cniConfig", "cniType"); cni != "" && !slices.Contains(cc.Capabilities, cni) {
		cc.Capabilities = append(cc.Capabilities, cni)
	}
	return cc, nil
}

func stringField(obj *kyaml.RNode, path ...string) string {
	n, err := obj.Pipe(kyaml.Lookup(path...))
	if err != nil || n == nil || n.YNode().Kind != kyaml.ScalarNode {
		return ""
	}
	return n.YNode().Value
}

func cloneStringMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// clusterFields are the names a Parameters' cluster map may use.
var clusterFields = []string{"name", "region", "zone", "site", "environment", "capabilities"}

// field returns the context's value for a cluster field name, and whether
// the cluster sets it.
func (c *ClusterContext) field(name string) (any, bool) {
	switch name {
	case "name":
		return c.Name, c.Name != ""
	case "region":
		return c.Region, c.Region != ""
	case "zone":
		return c.Zone, c.Zone != ""
	case "site":
		return c.Site, c.Site != ""
	case "environment":
		return c.Environment, c.Environment != ""
	case "capabilities":
		if len(c.Capabilities) == 0 {
			return nil, false
		}
		out := make([]any, len(c.Capabilities))
		for i, s := range c.Capabilities {
			out[i] = s
		}
		return out, true
	}
	if key, ok := strings.CutPrefix(name, "labels."); ok {
		v, set := c.Labels[key]
		return v, set
	}
	return nil, false
}

// clusterValues returns the values the cluster context supplies under the
// declaration's cluster map (or, without one, for each top-level schema
// property named like a cluster field).
func (p *Parameters) clusterValues(s *Schema, c *ClusterContext) (Values, error) {
	out := Values{}
	if c == nil {
		return out, nil
	}
	mapping := p.Cluster
	if mapping == nil {
		mapping = map[string]string{}
		for _, f := range clusterFields {
			if sch := deref(s.root); sch != nil {
				if _, ok := sch.Properties[f]; ok {
					mapping[f] = f
				}
			}
		}
	}
	for _, path := range sortedKeys(mapping) {
		field := mapping[path]
		if !slices.Contains(clusterFields, field) && !strings.HasPrefix(field, "labels.") {
			return nil, &ParametersError{File: p.File, Field: "spec.cluster." + path, Err: fmt.Errorf("unknown cluster field %q (want one of %s or labels.<key>)", field, strings.Join(clusterFields, ", "))}
		}
		if v, ok := c.field(field); ok {
			if err := out.Set(path, v); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Layer computes the effective values Generate validates and binds:
// schema defaults < the environment overlay env ("" for none; the
// cluster's environment when declared) < values < the cluster context, and
// the layer each leaf came from. Objects merge key by key; anything else
// is replaced by the higher layer. An undeclared environment is a
// *ValuesError wrapping ErrUnknownEnvironment.
func (p *Parameters) Layer(values Values, env string, cluster *ClusterContext) (Values, Origins, error) {
	s, err := p.Compile()
	if err != nil {
		return nil, nil, err
	}
	return p.layer(s, values, env, cluster)
}

func (p *Parameters) layer(s *Schema, values Values, env string, cluster *ClusterContext) (Values, Origins, error) {
	caller, err := normalizeValues(values)
	if err != nil {
		return nil, nil, &ValuesError{Err: err, Errors: []SchemaError{{InstanceLocation: pointerOf(err), Keyword: "type", Message: err.Error()}}}
	}
	if env == "" && cluster != nil && cluster.Environment != "" {
		if _, ok := p.Environments[cluster.Environment]; ok {
			env = cluster.Environment
		}
	}
	var overlay Values
	if env != "" {
		ov, ok := p.Environments[env]
		if !ok {
			return nil, nil, &ValuesError{Err: fmt.Errorf("%w %q (declared: %s)", ErrUnknownEnvironment, env, strings.Join(sortedKeys(p.Environments), ", "))}
		}
		overlay = ov
	}
	cv, err := p.clusterValues(s, cluster)
	if err != nil {
		return nil, nil, err
	}
	eff := map[string]any{}
	origins := Origins{}
	for _, l := range []struct {
		layer Layer
		vals  map[string]any
	}{
		{LayerDefault, s.Defaults()},
		{LayerEnvironment, overlay},
		{LayerValues, caller},
		{LayerCluster, cv},
	} {
		norm, err := normalizeValues(l.vals)
		if err != nil {
			return nil, nil, &ValuesError{Err: fmt.Errorf("%s layer: %w", l.layer, err)}
		}
		merge(eff, norm, l.layer, "", origins)
	}
	return eff, origins, nil
}

func pointerOf(err error) string {
	if ne, ok := err.(*normalizeError); ok {
		return ne.pointer
	}
	return ""
}

// splitAPIVersion splits "group/version" ("v1" has no group).
func splitAPIVersion(apiVersion string) (group, version string) {
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		return apiVersion[:i], apiVersion[i+1:]
	}
	return "", apiVersion
}
