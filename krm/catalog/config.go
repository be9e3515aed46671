package catalog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ErrInvalidConfig is wrapped by every ConfigError: the functionConfig is
// one the catalog function rejects.
var ErrInvalidConfig = errors.New("invalid functionConfig")

// ConfigError is a functionConfig the catalog function rejects, naming the
// field at fault. The function changes nothing; its results carry the
// catalog's own error result for the same config.
type ConfigError struct {
	// Function is the catalog function, e.g. set-namespace.
	Function string
	// Field is the functionConfig field at fault, e.g. data.namespace
	// ("" when the config as a whole is wrong: missing or of another kind).
	Field string
	// Reason is the catalog's message.
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s: %s", e.Function, ErrInvalidConfig, e.Reason)
	}
	return fmt.Sprintf("%s: %s: field %s: %s", e.Function, ErrInvalidConfig, e.Field, e.Reason)
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// configObjectResult is the kpt functions SDK's ErrorConfigObjectResult:
// an error result naming the functionConfig and its file.
func configObjectResult(msg string, fc *yaml.RNode) *framework.Result {
	r := &framework.Result{Severity: framework.Error, Message: msg, ResourceRef: &yaml.ResourceIdentifier{},
		File: &framework.File{Index: -1}}
	if fc == nil {
		return r
	}
	r.ResourceRef = &yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: fc.GetApiVersion(), Kind: fc.GetKind()},
		NameMeta: yaml.NameMeta{Name: fc.GetName(), Namespace: fc.GetNamespace()}}
	annotations := fc.GetAnnotations()
	r.File.Path = annotations[kioutil.PathAnnotation]
	if i, err := strconv.Atoi(annotations[kioutil.IndexAnnotation]); err == nil {
		r.File.Index = i
	} else if annotations[kioutil.IndexAnnotation] != "" {
		r.File.Index = 0
	}
	return r
}

// rejectConfig records the catalog's error result for a rejected
// functionConfig and returns the typed error.
func rejectConfig(rl *framework.ResourceList, fn, field, reason string) error {
	rl.Results = append(rl.Results, configObjectResult(reason, rl.FunctionConfig))
	return &ConfigError{Function: fn, Field: field, Reason: reason}
}

// rejectPlain is rejectConfig for the functions whose catalog code reports
// a plain error result, naming no resource (starlark, apply-replacements).
func rejectPlain(rl *framework.ResourceList, fn, field, reason string) error {
	rl.Results = append(rl.Results, &framework.Result{Severity: framework.Error, Message: reason})
	return &ConfigError{Function: fn, Field: field, Reason: reason}
}

// isEmptyConfig reports a missing functionConfig or an empty mapping, which
// the catalog functions read as no config at all.
func isEmptyConfig(fc *yaml.RNode) bool {
	return fc == nil || fc.IsNilOrEmpty() || fc.YNode().Kind == yaml.MappingNode && len(fc.YNode().Content) == 0
}

// groupVersion splits an apiVersion as Kubernetes does: "v1" is the core
// group's v1; more than one slash is no group-version at all.
func groupVersion(apiVersion string) (group, version string, ok bool) {
	switch strings.Count(apiVersion, "/") {
	case 0:
		return "", apiVersion, true
	case 1:
		group, version, _ = strings.Cut(apiVersion, "/")
		return group, version, true
	}
	return "", "", false
}

// isGVK matches a resource as the kpt functions SDK's KubeObject.IsGVK
// does: an empty group, version or kind on either side matches anything.
func isGVK(n *yaml.RNode, group, version, kind string) bool {
	g, v, ok := groupVersion(n.GetApiVersion())
	if !ok {
		g, v = "", ""
	}
	k := n.GetKind()
	return (k == "" || kind == "" || k == kind) && (g == "" || group == "" || g == group) &&
		(v == "" || version == "" || v == version)
}

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
