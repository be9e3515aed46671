package catalog

import (
	"fmt"
	"sort"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

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
