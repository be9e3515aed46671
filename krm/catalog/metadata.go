package catalog

import (
	"fmt"
	"sort"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SetNamespace behaves like the catalog's set-namespace v0.4.1 as Porch's
// builtin runtime runs it: it sets metadata.namespace on every namespaced
// resource, renames Namespace objects, and points a
// CustomResourceDefinition's conversion webhook service and an APIService's
// service at the namespace. Binding subjects keep their namespaces (checked
// against the real Porch, whatever the catalog's README says).
func SetNamespace(rl *framework.ResourceList) error {
	cfg, err := configData(rl, "namespace")
	if err != nil {
		return err
	}
	ns := cfg["namespace"]
	if ns == "" {
		return framework.Results{{Severity: framework.Error, Message: "functionConfig must set namespace"}}
	}
	setAt := func(n *yaml.RNode, path ...string) error {
		field, err := n.Pipe(yaml.Lookup(path...))
		if err != nil || field == nil {
			return err
		}
		return field.PipeE(yaml.SetField("namespace", yaml.NewStringRNode(ns)))
	}
	for _, n := range rl.Items {
		kind := n.GetKind()
		switch {
		case kind == "Namespace":
			err = n.SetName(ns)
		case kind == "CustomResourceDefinition":
			err = setAt(n, "spec", "conversion", "webhook", "clientConfig", "service")
		case kind == "APIService":
			err = setAt(n, "spec", "service")
		case clusterScoped[kind]:
		default:
			err = n.SetNamespace(ns)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// SetLabels sets labels on metadata and on the selectors and pod templates
// of workloads (kustomize's commonLabels fields).
func SetLabels(rl *framework.ResourceList) error {
	labels, err := configData(rl, "labels")
	if err != nil {
		return err
	}
	for _, n := range rl.Items {
		for _, k := range sortedKeys(labels) {
			for _, path := range append([][]string{{"metadata", "labels"}}, labelPaths(n.GetKind())...) {
				field, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, path...))
				if err != nil {
					return fmt.Errorf("%s/%s: %w", n.GetKind(), n.GetName(), err)
				}
				if err := field.PipeE(yaml.SetField(k, yaml.NewStringRNode(labels[k]))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// labelPaths are the fields beside metadata.labels that carry labels.
func labelPaths(kind string) [][]string {
	switch kind {
	case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet":
		return [][]string{{"spec", "selector", "matchLabels"}, {"spec", "template", "metadata", "labels"}}
	case "Job":
		return [][]string{{"spec", "template", "metadata", "labels"}}
	case "CronJob":
		return [][]string{{"spec", "jobTemplate", "spec", "template", "metadata", "labels"}}
	case "Service", "ReplicationController":
		return [][]string{{"spec", "selector"}}
	}
	return nil
}

// SetAnnotations sets annotations on metadata and on pod templates.
func SetAnnotations(rl *framework.ResourceList) error {
	annotations, err := configData(rl, "annotations")
	if err != nil {
		return err
	}
	for _, n := range rl.Items {
		for _, k := range sortedKeys(annotations) {
			paths := [][]string{{"metadata", "annotations"}}
			switch n.GetKind() {
			case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job":
				paths = append(paths, []string{"spec", "template", "metadata", "annotations"})
			}
			for _, path := range paths {
				field, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, path...))
				if err != nil {
					return err
				}
				if err := field.PipeE(yaml.SetField(k, yaml.NewStringRNode(annotations[k]))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
