//lint:file-ignore SA1019 the catalog's upsert-resource writes the legacy path and index annotations, which kpt still reads

package catalog

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// identity is a resource's group, kind, namespace and name.
func identity(n *yaml.RNode) string {
	group, _, found := strings.Cut(n.GetApiVersion(), "/")
	if !found {
		group = "" // core: "v1"
	}
	return fmt.Sprintf("%s/%s/%s/%s", group, n.GetKind(), n.GetNamespace(), n.GetName())
}

// UpsertResource behaves like the catalog's upsert-resource v0.2.0: the
// functionConfig is a resource, or a List (any apiVersion) whose items are
// resources. Each replaces every resource with the same group, kind,
// namespace and name (and, when it has a config.kubernetes.io/target-path
// annotation, the same file), keeping that resource's file and position;
// one that matches none is added, in the file target-path names or, without
// it, where the orchestrator puts new resources. Like the catalog, the
// replacement's annotations are the config's own (sorted, at the end of
// metadata), less target-path and the legacy function annotations, and
// resources that are themselves function configs (legacy
// config.kubernetes.io/function annotation) are never replaced.
func UpsertResource(rl *framework.ResourceList) error {
	const fn = "upsert-resource"
	if isEmptyConfig(rl.FunctionConfig) {
		return rejectConfig(rl, fn, "", "functionConfig must be the resource to upsert, or a List of them")
	}
	resources := []*yaml.RNode{rl.FunctionConfig}
	if rl.FunctionConfig.GetKind() == "List" {
		resources = nil
		if f := rl.FunctionConfig.Field("items"); f != nil && f.Value != nil {
			if f.Value.YNode().Kind != yaml.SequenceNode {
				return rejectConfig(rl, fn, "items", "List items must be a list of resources")
			}
			for _, it := range f.Value.YNode().Content {
				resources = append(resources, yaml.NewRNode(it))
			}
		}
	}
	for i, r := range resources {
		if _, err := r.GetMeta(); err != nil || r.YNode().Kind != yaml.MappingNode {
			field := ""
			if len(resources) > 1 || rl.FunctionConfig.GetKind() == "List" {
				field = fmt.Sprintf("items[%d]", i)
			}
			return rejectConfig(rl, fn, field, fmt.Sprintf("not a resource: %v", err))
		}
	}
	items := append([]*yaml.RNode(nil), rl.Items...)
	for _, r := range resources {
		var err error
		if items, err = upsertOne(items, r); err != nil {
			return err
		}
	}
	rl.Items = items
	return nil
}

// Annotations upsert-resource reads or drops.
const (
	targetPathKey        = "config.kubernetes.io/target-path"
	legacyFunctionKey    = "config.kubernetes.io/function"
	oldLegacyFunctionKey = "config.k8s.io/function"
)

func upsertOne(items []*yaml.RNode, res *yaml.RNode) ([]*yaml.RNode, error) {
	annotations := res.GetAnnotations()
	target := annotations[targetPathKey]
	group, _, _ := strings.Cut(res.GetApiVersion(), "/")
	if !strings.Contains(res.GetApiVersion(), "/") {
		group = ""
	}
	replaced := false
	for i, n := range items {
		na := n.GetAnnotations()
		if na[legacyFunctionKey] != "" || na[oldLegacyFunctionKey] != "" {
			continue
		}
		g, _, _ := strings.Cut(n.GetApiVersion(), "/")
		if !strings.Contains(n.GetApiVersion(), "/") {
			g = ""
		}
		path, index, _ := kioutil.GetFileAnnotations(n)
		if g != group || n.GetKind() != res.GetKind() || n.GetName() != res.GetName() ||
			n.GetNamespace() != res.GetNamespace() || target != "" && target != path {
			continue
		}
		out := res.Copy()
		keep := upsertAnnotations(annotations)
		for k, v := range map[string]string{kioutil.PathAnnotation: path, kioutil.LegacyPathAnnotation: path,
			kioutil.IndexAnnotation: index, kioutil.LegacyIndexAnnotation: index} {
			if v != "" {
				keep[k] = v
			}
		}
		if err := out.SetAnnotations(keep); err != nil {
			return nil, err
		}
		items[i] = out
		replaced = true
	}
	if replaced {
		return items, nil
	}
	out := res.Copy()
	keep := upsertAnnotations(annotations)
	for _, k := range []string{kioutil.PathAnnotation, kioutil.LegacyPathAnnotation, kioutil.IndexAnnotation,
		kioutil.LegacyIndexAnnotation} {
		delete(keep, k)
	}
	if target != "" {
		keep[kioutil.PathAnnotation], keep[kioutil.LegacyPathAnnotation] = target, target
	}
	if err := out.SetAnnotations(keep); err != nil {
		return nil, err
	}
	return append(items, out), nil
}

// upsertAnnotations are the config's annotations a written resource keeps.
func upsertAnnotations(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		switch k {
		case targetPathKey, legacyFunctionKey, oldLegacyFunctionKey:
		default:
			out[k] = v
		}
	}
	return out
}

// ValidateStructure reports, as error results, resources without
// apiVersion, kind or metadata.name, duplicates (same group, kind,
// namespace and name), and namespaces on cluster-scoped kinds.
func ValidateStructure(rl *framework.ResourceList) error {
	var results framework.Results
	seen := map[string]bool{}
	for _, n := range rl.Items {
		ref := resourceRef(n)
		fail := func(format string, args ...any) {
			results = append(results, &framework.Result{Severity: framework.Error, ResourceRef: ref, Message: fmt.Sprintf(format, args...)})
		}
		switch {
		case n.GetApiVersion() == "":
			fail("missing apiVersion")
		case n.GetKind() == "":
			fail("missing kind")
		case n.GetName() == "":
			fail("missing metadata.name")
		}
		if clusterScoped[n.GetKind()] && n.GetNamespace() != "" && n.GetKind() != "Kptfile" {
			fail("%s is cluster-scoped but has namespace %q", n.GetKind(), n.GetNamespace())
		}
		id := identity(n)
		if seen[id] && n.GetName() != "" {
			fail("duplicate resource %s", id)
		}
		seen[id] = true
	}
	rl.Results = append(rl.Results, results...)
	return nil
}
