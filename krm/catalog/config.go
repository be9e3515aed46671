package catalog

import (
	"errors"
	"fmt"
	"slices"
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
	return annotation(n, "config.kubernetes.io/local-config") == "true"
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

// firstField is the value of the first key named name in a mapping node,
// as kyaml looks fields up, or nil.
func firstField(m *yaml.Node, name string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	return pairValue(m.Content, name)
}

// isPlainMapping is a well-formed mapping node: pairs of nodes.
func isPlainMapping(n *yaml.Node) bool {
	return n.Kind == yaml.MappingNode && len(n.Content)%2 == 0 && !slices.Contains(n.Content, nil)
}

// pipeNode is the node kyaml's RNode.Pipe starts from: the content of a
// document node, else the node itself.
func pipeNode(rn *yaml.RNode) *yaml.Node {
	n := rn.YNode()
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// lookupField is the field kyaml's Lookup finds in m: nil when m is
// missing, null, not a mapping or malformed, or has no such field.
func lookupField(m *yaml.Node, name string) *yaml.Node {
	if m == nil || m.Tag == yaml.NodeTagNull || !isPlainMapping(m) {
		return nil
	}
	return firstField(m, name)
}

// annotation is a resource's annotation key, as kyaml's
// RNode.GetAnnotations()[key] reads it (the last of repeated keys), without
// building the map.
func annotation(rn *yaml.RNode, key string) string {
	n := objectNode(rn)
	if n == nil {
		return ""
	}
	md := pairValue(n.Content, yaml.MetadataField)
	if yaml.IsYNodeNilOrEmpty(md) {
		return ""
	}
	a := pairValue(md.Content, yaml.AnnotationsField)
	if a == nil {
		return ""
	}
	v := ""
	for i := 0; i+1 < len(a.Content); i += 2 {
		if k := a.Content[i]; k != nil && k.Value == key && a.Content[i+1] != nil {
			v = a.Content[i+1].Value
		}
	}
	return v
}

// pairValue is the value of the first key named name in content read as
// key-value pairs, whatever the node's kind, as kyaml's metadata getters
// read it.
func pairValue(content []*yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(content); i += 2 {
		if k := content[i]; k != nil && k.Value == name {
			return content[i+1]
		}
	}
	return nil
}

// objectNode is the mapping of a resource, looking through a document
// node, or nil for a missing or null resource.
func objectNode(rn *yaml.RNode) *yaml.Node {
	if yaml.IsMissingOrNull(rn) {
		return nil
	}
	n := rn.YNode()
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	return n
}

// hasValidatedMetadata reports that kyaml's GetValidatedMetadata accepts
// the resource (a kind, and a name unless the kind is a List), without
// building its metadata.
func hasValidatedMetadata(rn *yaml.RNode) bool {
	n := objectNode(rn)
	kind := firstField(n, yaml.KindField)
	if yaml.IsYNodeNilOrEmpty(kind) || kind.Value == "" {
		return false
	}
	if strings.HasSuffix(kind.Value, "List") {
		return true
	}
	name := firstField(firstField(n, yaml.MetadataField), yaml.NameField)
	return !yaml.IsYNodeNilOrEmpty(name) && name.Value != ""
}

// fileAnnotations is a resource's path and index annotations (the legacy
// ones where they are absent), read as kioutil.GetFileAnnotations reads
// them, without building the resource's whole metadata.
func fileAnnotations(rn *yaml.RNode) (path, index string) {
	var a *yaml.Node
	if md := firstField(objectNode(rn), yaml.MetadataField); !yaml.IsYNodeNilOrEmpty(md) {
		a = firstField(md, yaml.AnnotationsField)
	}
	if yaml.IsYNodeNilOrEmpty(a) || a.Kind != yaml.MappingNode || len(a.Content)%2 != 0 {
		return "", ""
	}
	get := func(key, legacy string) string {
		for _, k := range []string{key, legacy} {
			for i := 0; i < len(a.Content); i += 2 {
				if a.Content[i] == nil || a.Content[i].Value != k {
					continue
				}
				if a.Content[i].Tag == yaml.NodeTagNull {
					// kyaml files this one under the empty key.
					break
				}
				if v := a.Content[i+1]; v != nil && v.Tag != yaml.NodeTagNull {
					return v.Value
				}
				return ""
			}
		}
		return ""
	}
	//lint:ignore SA1019 kioutil.GetFileAnnotations still falls back to the legacy annotations, and so does the catalog
	return get(kioutil.PathAnnotation, kioutil.LegacyPathAnnotation), get(kioutil.IndexAnnotation, kioutil.LegacyIndexAnnotation)
}
