package catalog

import (
	"fmt"
	"sort"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SetNamespace sets metadata.namespace on every namespaced resource,
// renames Namespace objects, and points RoleBinding subjects of kind
// ServiceAccount that were in the old namespace at the new one.
func SetNamespace(rl *framework.ResourceList) error {
	cfg, err := configData(rl, "namespace")
	if err != nil {
		return err
	}
	ns := cfg["namespace"]
	if ns == "" {
		return framework.Results{{Severity: framework.Error, Message: "functionConfig must set namespace"}}
	}
	for _, n := range rl.Items {
		kind := n.GetKind()
		switch {
		case kind == "Namespace":
			if err := n.SetName(ns); err != nil {
				return err
			}
		case clusterScoped[kind]:
		default:
			old := n.GetNamespace()
			if err := n.SetNamespace(ns); err != nil {
				return err
			}
			if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
				if err := fixSubjects(n, old, ns); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func fixSubjects(n *yaml.RNode, old, ns string) error {
	subjects, err := n.Pipe(yaml.Lookup("subjects"))
	if err != nil || subjects == nil {
		return err
	}
	return subjects.VisitElements(func(s *yaml.RNode) error {
		if yaml.GetValue(s.Field("kind").Value) != "ServiceAccount" {
			return nil
		}
		cur := ""
		if f := s.Field("namespace"); f != nil {
			cur = yaml.GetValue(f.Value)
		}
		if cur == old || cur == "default" || cur == "" {
			return s.PipeE(yaml.SetField("namespace", yaml.NewStringRNode(ns)))
		}
		return nil
	})
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
			if err := n.PipeE(yaml.SetLabel(k, labels[k])); err != nil {
				return err
			}
			for _, path := range labelPaths(n.GetKind()) {
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
			if err := n.PipeE(yaml.SetAnnotation(k, annotations[k])); err != nil {
				return err
			}
			switch n.GetKind() {
			case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job":
				field, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, "spec", "template", "metadata", "annotations"))
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
