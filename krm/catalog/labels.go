package catalog

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SetLabels behaves like the catalog's set-labels (the Go SDK version that
// the catalog's examples run): every resource that is not local config (the
// Kptfile, package-context.yaml) gets the labels in metadata.labels, and:
//
//   - a v1 Service or ReplicationController in spec.selector;
//   - a Deployment, ReplicaSet, DaemonSet or apps StatefulSet in
//     spec.selector.matchLabels;
//   - the pod template (spec.template) of a v1 ReplicationController, a
//     Deployment, ReplicaSet, DaemonSet, apps StatefulSet or batch Job, and
//     the job template and its pod template of a batch CronJob;
//   - the volumeClaimTemplates of an apps StatefulSet.
//
// Existing keys are also updated, never created, in the selectors of Jobs,
// PodDisruptionBudgets, CronJob job templates, NetworkPolicy pod selectors
// and rules, and pod topologySpreadConstraints. Keys are written in sorted
// order. The functionConfig is a ConfigMap (data) or a SetLabels
// (fn.kpt.dev, labels); results are the catalog's: an info result with the
// count of label fields visited, a warning for an empty label list, and an
// error result for a field of the wrong type (the other resources are still
// labelled). A functionConfig of another kind, labels that are not strings,
// or no functionConfig at all is a *ConfigError and nothing changes.
func SetLabels(rl *framework.ResourceList) error {
	const fnName = "set-labels"
	fc := rl.FunctionConfig
	var labels map[string]string
	if sdkConfigIsEmpty(fc) {
		rl.Results = append(rl.Results, infoResult("`FunctionConfig` is not given"))
	} else {
		var err *ConfigError
		if labels, err = setLabelsConfig(fc); err != nil {
			return reject(rl, err, errorResult(err.Reason))
		}
	}
	var objects []*yaml.RNode
	for _, n := range rl.Items {
		if !sdkIsLocalConfig(n) {
			objects = append(objects, n)
		}
	}
	if len(objects) == 0 {
		rl.Results = append(rl.Results, infoResult("no input resources"))
		return nil
	}
	if setLabelsNoConfig(fc) {
		// The catalog fails here without a result of its own.
		return &ConfigError{Function: fnName, Field: "labels", Reason: "no functionConfig is given"}
	}
	if len(labels) == 0 {
		rl.Results = append(rl.Results, &framework.Result{Severity: framework.Warning,
			Message: "no `labels` arguments are given in FunctionConfig"})
		return nil
	}
	s := &labelSetter{labels: labels, keys: sortedKeys(labels)}
	for _, n := range objects {
		if err := s.object(newKubeObject(n)); err != nil {
			rl.Results = append(rl.Results, errorResult(err.Error()))
		}
	}
	rl.Results = append(rl.Results, infoResult(fmt.Sprintf("set %v labels in total", s.count)))
	return nil
}

// setLabelsConfig reads the labels of a ConfigMap or SetLabels config.
func setLabelsConfig(fc *yaml.RNode) (map[string]string, *ConfigError) {
	gvk := sdkGVK(fc)
	switch gvk.GroupKind() {
	case schema.GroupKind{Kind: "ConfigMap"}:
		data := fc.Field("data")
		if data == nil {
			return nil, nil
		}
		if data.Value.YNode().Kind != yaml.MappingNode {
			return nil, &ConfigError{Function: "set-labels", Field: "data",
				Reason: newKubeObject(fc).root().unmatched([]string{"data"}, "map[string]string").Error()}
		}
		return scalarMap(data.Value.YNode()), nil
	case schema.GroupKind{Group: "fn.kpt.dev", Kind: "SetLabels"}:
		f := fc.Field("labels")
		if f == nil || isNull(f.Value.YNode()) {
			return nil, nil
		}
		labels, bad := jsonStringMap(f.Value.YNode())
		if bad != "" {
			want := "string"
			if f.Value.YNode().Kind != yaml.MappingNode {
				want = "map[string]string"
			}
			return nil, &ConfigError{Function: "set-labels", Field: "labels",
				Reason: fmt.Sprintf("unable to convert object to *setlabels.SetLabels with error: "+
					"json: cannot unmarshal %s into Go struct field SetLabels.labels of type %s", bad, want)}
		}
		return labels, nil
	default:
		return nil, &ConfigError{Function: "set-labels", Field: "kind",
			Reason: fmt.Sprintf("unknown FunctionConfig `%v`, expect `SetLabels.fn.kpt.dev` or `ConfigMap.v1`", gvk.GroupKind())}
	}
}

// setLabelsNoConfig is the catalog's test for the empty default config kpt
// passes when the user gives none.
func setLabelsNoConfig(fc *yaml.RNode) bool {
	if fc == nil {
		return true
	}
	if fc.GetKind() == "ConfigMap" && fc.GetName() == "function-input" {
		data := fc.Field("data")
		return data == nil || len(data.Value.YNode().Content) == 0
	}
	return fc.GetKind() == "" && fc.GetName() == ""
}

// labelSetter writes the labels where the catalog's set-labels does and
// counts the label fields it visits, as the catalog reports them.
type labelSetter struct {
	labels map[string]string
	keys   []string
	count  int
}

func (s *labelSetter) object(o *kubeObject) error {
	if err := s.update(o.root(), []string{"metadata", "labels"}, true); err != nil {
		return err
	}
	// Selectors.
	if o.isGVK("", "v1", "Service") || o.isGVK("", "v1", "ReplicationController") {
		if err := s.update(o.root(), []string{"spec", "selector"}, true); err != nil {
			return err
		}
	}
	switch {
	case o.isGVK("", "", "Deployment") || o.isGVK("", "", "ReplicaSet") || o.isGVK("", "", "DaemonSet") || o.isGVK("apps", "", "StatefulSet"):
		if err := s.update(o.root(), []string{"spec", "selector", "matchLabels"}, true); err != nil {
			return err
		}
	case o.isGVK("batch", "", "Job") || o.isGVK("policy", "", "PodDisruptionBudget"):
		if err := s.update(o.root(), []string{"spec", "selector", "matchLabels"}, false); err != nil {
			return err
		}
	}
	networkPolicy := o.isGVK("networking.k8s.io", "", "NetworkPolicy")
	if networkPolicy {
		if err := s.update(o.root(), []string{"spec", "podSelector", "matchLabels"}, false); err != nil {
			return err
		}
	}
	spec := o.root().getMap("spec")
	if spec == nil {
		return nil
	}
	if o.isGVK("", "v1", "ReplicationController") || o.isGVK("", "", "Deployment") || o.isGVK("", "", "ReplicaSet") ||
		o.isGVK("", "", "DaemonSet") || o.isGVK("apps", "", "StatefulSet") || o.isGVK("batch", "", "Job") {
		if err := s.pod(spec.getMap("template")); err != nil {
			// The catalog drops the error and stops with this resource.
			return nil
		}
	}
	if o.isGVK("batch", "", "CronJob") {
		if job := spec.getMap("jobTemplate"); job != nil {
			if err := s.update(job, []string{"metadata", "labels"}, true); err != nil {
				return err
			}
			if jobSpec := job.getMap("spec"); jobSpec != nil {
				if err := s.update(jobSpec, []string{"selector", "matchLabels"}, false); err != nil {
					return err
				}
				if err := s.pod(jobSpec.getMap("template")); err != nil {
					return err
				}
			}
		}
	}
	if o.isGVK("apps", "", "StatefulSet") {
		volumes, err := spec.nestedSlice("volumeClaimTemplates")
		if err != nil {
			return err
		}
		for _, v := range volumes {
			if err := s.update(v, []string{"metadata", "labels"}, true); err != nil {
				return err
			}
			if err := s.update(v, []string{"selector", "matchLabels"}, false); err != nil {
				return err
			}
		}
	}
	if networkPolicy {
		for _, rules := range [][2]string{{"ingress", "from"}, {"egress", "to"}} {
			for _, rule := range spec.getSlice(rules[0]) {
				for _, peer := range rule.getSlice(rules[1]) {
					if err := s.update(peer, []string{"podSelector", "matchLabels"}, false); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// pod labels a pod template and updates the label selectors of its spec.
func (s *labelSetter) pod(pod *subObject) error {
	if pod == nil {
		return nil
	}
	if err := s.update(pod, []string{"metadata", "labels"}, true); err != nil {
		return err
	}
	spec := pod.getMap("spec")
	if spec == nil {
		return nil
	}
	for _, c := range spec.getSlice("topologySpreadConstraints") {
		if err := s.update(c, []string{"labelSelector", "matchLabels"}, false); err != nil {
			return err
		}
	}
	affinity := spec.getMap("affinity")
	if affinity == nil {
		return nil
	}
	// Like the catalog, the terms are looked up beside podAffinity and
	// podAntiAffinity (once for each of them that is present), not in them.
	for _, kind := range []string{"podAffinity", "podAntiAffinity"} {
		if affinity.getMap(kind) == nil {
			continue
		}
		for _, term := range affinity.getSlice("preferredDuringSchedulingIgnoredDuringExecution") {
			if t := term.getMap("podAffinityTerm"); t != nil {
				if err := s.update(t, []string{"labelSelector", "matchLabels"}, false); err != nil {
					return err
				}
			}
		}
		for _, term := range affinity.getSlice("requiredDuringSchedulingIgnoredDuringExecution") {
			if err := s.update(term, []string{"labelSelector", "matchLabels"}, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// update sets every label under path in o: an existing key with another
// value is overwritten, a missing one is added only when create is set.
// Every key visited counts, changed or not.
func (s *labelSetter) update(o *subObject, path []string, create bool) error {
	if o == nil {
		return nil
	}
	for _, k := range s.keys {
		fields := append(path[:len(path):len(path)], k)
		old, found, err := o.nestedString(fields...)
		if err != nil {
			return err
		}
		if (found && old != s.labels[k]) || (!found && create) {
			o.setNestedString(s.labels[k], fields...)
		}
		s.count++
	}
	return nil
}

// kubeObject is a resource as the catalog's Go SDK sees it.
type kubeObject struct {
	node *yaml.RNode
	gvk  schema.GroupVersionKind
	// parent is the SDK's record of the object's type for its error
	// messages: the top-level group, version and kind fields.
	parent schema.GroupVersionKind
}

func newKubeObject(n *yaml.RNode) *kubeObject {
	top := func(f string) string {
		v, _ := scalarField(n.YNode(), f)
		return v
	}
	return &kubeObject{node: n, gvk: sdkGVK(n),
		parent: schema.GroupVersionKind{Group: top("group"), Version: top("version"), Kind: top("kind")}}
}

func (o *kubeObject) root() *subObject {
	return &subObject{node: o.node.YNode(), parent: o.parent}
}

// isGVK matches like the SDK's IsGVK: an empty argument, or an empty part
// of the object's type, matches anything.
func (o *kubeObject) isGVK(group, version, kind string) bool {
	return (o.gvk.Kind == "" || kind == "" || o.gvk.Kind == kind) &&
		(o.gvk.Group == "" || group == "" || o.gvk.Group == group) &&
		(o.gvk.Version == "" || version == "" || o.gvk.Version == version)
}

// sdkGVK is the object's type; an apiVersion that does not parse gives
// the empty type, as in the SDK.
func sdkGVK(n *yaml.RNode) schema.GroupVersionKind {
	if n == nil {
		return schema.GroupVersionKind{}
	}
	gv, err := schema.ParseGroupVersion(n.GetApiVersion())
	if err != nil {
		return schema.GroupVersionKind{}
	}
	return gv.WithKind(n.GetKind())
}

// sdkIsLocalConfig is the SDK's local-config test: any value but "" and
// "false".
func sdkIsLocalConfig(n *yaml.RNode) bool {
	v := annotation(n, "config.kubernetes.io/local-config")
	return v != "" && v != "false"
}

// sdkConfigIsEmpty reports the functionConfig the SDK treats as absent: none,
// an empty object, or kpt's empty default ConfigMap (function-input, no data).
func sdkConfigIsEmpty(fc *yaml.RNode) bool {
	if fc == nil || fc.YNode().Kind != yaml.MappingNode || len(fc.YNode().Content) == 0 {
		return true
	}
	data := fc.Field("data")
	if data == nil || data.Value.YNode().Kind != yaml.MappingNode {
		return false
	}
	return fc.GetKind() == "ConfigMap" && fc.GetName() == "function-input" && len(data.Value.YNode().Content) == 0
}

// subObject is a map inside a resource, with the path the SDK names in its
// error messages.
type subObject struct {
	node   *yaml.Node
	parent schema.GroupVersionKind
	path   string
}

// getMap returns the map under key, or nil when there is none.
func (o *subObject) getMap(key string) *subObject {
	v := mapValue(o.node, key)
	if v == nil || v.Kind != yaml.MappingNode {
		return nil
	}
	return &subObject{node: v, parent: o.parent, path: o.path + "." + key}
}

// getSlice returns the maps of the list under key; nil when there is no
// list or an element is not a map.
func (o *subObject) getSlice(key string) []*subObject {
	items, _ := o.nestedSlice(key)
	return items
}

func (o *subObject) nestedSlice(key string) ([]*subObject, error) {
	v := mapValue(o.node, key)
	if v == nil {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, o.unmatched([]string{key}, "struct {}")
	}
	var out []*subObject
	for _, e := range v.Content {
		if e.Kind != yaml.MappingNode {
			return nil, nil
		}
		out = append(out, &subObject{node: e})
	}
	return out, nil
}

// nestedString reads the string at fields; a field of another type on the
// way is an error, as in the SDK.
func (o *subObject) nestedString(fields ...string) (string, bool, error) {
	cur := o.node
	for i, f := range fields {
		v := mapValue(cur, f)
		if v == nil {
			return "", false, nil
		}
		if i == len(fields)-1 {
			if v.Kind != yaml.ScalarNode || v.ShortTag() != yaml.NodeTagString {
				return "", true, o.unmatched(fields, "string")
			}
			return v.Value, true, nil
		}
		if v.Kind != yaml.MappingNode {
			return "", true, o.unmatched(fields, "string")
		}
		cur = v
	}
	return "", false, nil
}

// setNestedString sets the string at fields, creating the maps on the way
// (nestedString has checked that the fields there are maps). A replaced
// value keeps its comments but not its quoting.
func (o *subObject) setNestedString(value string, fields ...string) {
	cur := o.node
	for i, f := range fields {
		v := mapValue(cur, f)
		if i == len(fields)-1 {
			if v != nil {
				*v = yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: value,
					HeadComment: v.HeadComment, LineComment: v.LineComment, FootComment: v.FootComment}
				return
			}
			cur.Content = append(cur.Content, stringNode(f), stringNode(value))
			return
		}
		if v == nil {
			v = &yaml.Node{Kind: yaml.MappingNode}
			cur.Content = append(cur.Content, stringNode(f), v)
		}
		cur = v
	}
}

// unmatched is the SDK's error for a field of an unexpected type.
func (o *subObject) unmatched(fields []string, want string) error {
	return fmt.Errorf("Resource(apiVersion=%v, kind=%v) has unmatched field type %q in fieldpath %v",
		o.parent.GroupVersion(), o.parent.Kind, want, o.path+"."+strings.Join(fields, "."))
}

// mapValue is the value under key in a mapping node, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == yaml.NodeTagString && k.Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// scalarField is a string field of a mapping node.
func scalarField(m *yaml.Node, key string) (string, bool) {
	v := mapValue(m, key)
	if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() != yaml.NodeTagString {
		return "", false
	}
	return v.Value, true
}

func stringNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: s}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == yaml.NodeTagNull
}

// scalarMap is a mapping's scalar entries as strings (a ConfigMap's
// data); null is the empty string and other values are left out.
func scalarMap(m *yaml.Node) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch v := m.Content[i+1]; {
		case isNull(v):
			out[m.Content[i].Value] = ""
		case v.Kind == yaml.ScalarNode:
			out[m.Content[i].Value] = v.Value
		}
	}
	return out
}

// jsonStringMap decodes a map of strings the way encoding/json does after
// the SDK's conversion to JSON: null values are empty strings. bad is the
// JSON type of the first value that is not a string ("number", "bool",
// "object", "array"), or of the whole node when it is not a map.
func jsonStringMap(n *yaml.Node) (out map[string]string, bad string) {
	if n.Kind != yaml.MappingNode {
		return nil, jsonType(n)
	}
	out = map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		switch t := jsonType(v); t {
		case "string":
			out[n.Content[i].Value] = v.Value
		case "null":
			out[n.Content[i].Value] = ""
		default:
			return nil, t
		}
	}
	return out, ""
}

func jsonType(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "object"
	case yaml.SequenceNode:
		return "array"
	case yaml.AliasNode:
		return jsonType(n.Alias)
	}
	switch n.ShortTag() {
	case yaml.NodeTagInt, yaml.NodeTagFloat:
		return "number"
	case yaml.NodeTagBool:
		return "bool"
	case yaml.NodeTagNull:
		return "null"
	}
	return "string"
}
