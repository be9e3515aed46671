package catalog

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// configData returns a functionConfig's string pairs: a ConfigMap's data,
// or the map under field of a typed config (SetLabels.labels, ...).
func configData(rl *framework.ResourceList, field string) (map[string]string, error) {
	fc := rl.FunctionConfig
	if fc == nil {
		return map[string]string{}, nil
	}
	var node *yaml.RNode
	if fc.GetKind() == "ConfigMap" {
		f := fc.Field("data")
		if f == nil || f.Value == nil {
			return map[string]string{}, nil
		}
		node = f.Value
	} else {
		f := fc.Field(field)
		if f == nil {
			return nil, fmt.Errorf("functionConfig %s has no field %q", fc.GetKind(), field)
		}
		node = f.Value
	}
	out := map[string]string{}
	if node.YNode().Kind == yaml.ScalarNode {
		return map[string]string{field: node.YNode().Value}, nil
	}
	err := node.VisitFields(func(n *yaml.MapNode) error {
		out[n.Key.YNode().Value] = n.Value.YNode().Value
		return nil
	})
	return out, err
}

// isLocalConfig reports kpt's local-config marker (the Kptfile,
// package-context.yaml): such objects are never deployed.
func isLocalConfig(n *yaml.RNode) bool {
	return n.GetAnnotations()["config.kubernetes.io/local-config"] == "true"
}

// clusterScoped lists the built-in kinds without a namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"CustomResourceDefinition": true, "StorageClass": true, "PriorityClass": true, "IngressClass": true,
	"APIService": true, "MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true, "CSIDriver": true, "CSINode": true,
	"RuntimeClass": true, "VolumeAttachment": true, "CertificateSigningRequest": true, "ComponentStatus": true,
	"FlowSchema": true, "PriorityLevelConfiguration": true, "Kptfile": true,
}
