package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/filters/fsslice"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/kustomize/kyaml/utils"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	k8syaml "sigs.k8s.io/yaml"
)

// commonAnnotationFields are kustomize's built-in commonAnnotations field
// specs, the ones the catalog's set-annotations always uses.
var commonAnnotationFields = types.FsSlice{
	{Path: "metadata/annotations", CreateIfNotPresent: true},
	{Gvk: resid.Gvk{Version: "v1", Kind: "ReplicationController"}, Path: "spec/template/metadata/annotations", CreateIfNotPresent: true},
	{Gvk: resid.Gvk{Kind: "Deployment"}, Path: "spec/template/metadata/annotations", CreateIfNotPresent: true},
	{Gvk: resid.Gvk{Kind: "ReplicaSet"}, Path: "spec/template/metadata/annotations", CreateIfNotPresent: true},
	{Gvk: resid.Gvk{Kind: "DaemonSet"}, Path: "spec/template/metadata/annotations", CreateIfNotPresent: true},
	{Gvk: resid.Gvk{Kind: "StatefulSet"}, Path: "spec/template/metadata/annotations", CreateIfNotPresent: true},
	{Gvk: resid.Gvk{Group: "batch", Kind: "Job"}, Path: "spec/template/metadata/annotations", CreateIfNotPresent: true},
	{Gvk: resid.Gvk{Group: "batch", Kind: "CronJob"}, Path: "spec/jobTemplate/metadata/annotations", CreateIfNotPresent: true},
	{Gvk: resid.Gvk{Group: "batch", Kind: "CronJob"}, Path: "spec/jobTemplate/spec/template/metadata/annotations", CreateIfNotPresent: true},
}

// SetAnnotations behaves like the catalog's set-annotations: it adds the
// annotations, in sorted key order, at kustomize's commonAnnotations
// fields (metadata.annotations of every resource, local config included,
// and the pod and job templates of the workload kinds) and at the
// additionalAnnotationFields of a SetAnnotations config (kustomize field
// specs; the older name fieldSpecs is read too). The functionConfig is a v1
// ConfigMap (data) or a fn.kpt.dev/v1alpha1 SetAnnotations (or the older
// SetAnnotationConfig). The results are the catalog's, without a
// severity as the catalog writes them:
// one per annotations field set ("set annotations: {...}", with the field
// path and the resource's file), or "no annotations applied". A config of
// another kind or without annotations is a *ConfigError; resources the
// catalog cannot take (no kind or name, two with the same identity) fail
// the run; in both cases nothing changes.
func SetAnnotations(rl *framework.ResourceList) error {
	cfg, cerr := setAnnotationsConfig(rl.FunctionConfig)
	if cerr != nil {
		cerr.Reason = "failed to configure function: " + cerr.Reason
		return reject(rl, cerr, errorResult(cerr.Reason))
	}
	fields := append(append(types.FsSlice{}, cfg.AdditionalAnnotationFields...), commonAnnotationFields...)
	failRun := func(err error) error {
		err = fmt.Errorf("failed to run function: %w", err)
		rl.Results = append(rl.Results, errorResult(err.Error()))
		return err
	}
	items, err := annotationTargets(rl.Items)
	if err != nil {
		return failRun(err)
	}
	// Kustomize's filter can stop part-way with an error; where it cannot
	// (see fieldsCannotFail) it changes the resources in place, elsewhere
	// it works on copies that replace them only once all succeed.
	work := items
	if !fieldsCannotFail(items, fields, cfg.Annotations) {
		work = make([]*yaml.RNode, len(items))
		for i, n := range items {
			work[i] = n.Copy()
		}
	}
	type resultKey struct{ path, index, field string }
	set := map[resultKey]map[string]string{}
	setters := make([]*annotationSetter, 0, len(cfg.Annotations))
	for _, k := range yaml.SortedMapKeys(cfg.Annotations) {
		setters = append(setters, &annotationSetter{key: k, value: cfg.Annotations[k],
			nonString: yaml.IsValueNonString(cfg.Annotations[k])})
	}
	var touched []annotationSet
	for _, n := range work {
		path, index := fileAnnotations(n)
		touched = touched[:0]
		track := func(key, value string, node *yaml.RNode) {
			k := resultKey{path: path, index: index, field: strings.Join(node.FieldPath(), ".")}
			if set[k] == nil {
				set[k] = map[string]string{}
			}
			set[k][key] = value
			touched = append(touched, annotationSet{annotations: node.YNode(), key: key})
		}
		// Kustomize's annotations filter: each annotation in turn, at every
		// field spec.
		for _, s := range setters {
			s.node, s.track = &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: s.value}, track
			err := n.PipeE(fsslice.Filter{FsSlice: fields, SetValue: s.set, CreateKind: yaml.MappingNode, CreateTag: yaml.NodeTagMap})
			if err != nil {
				return failRun(fmt.Errorf("failed to run transformer: %w", err))
			}
		}
		unshareValues(touched)
	}
	rl.Items = work

	if len(set) == 0 {
		rl.Results = append(rl.Results, unratedResult("no annotations applied", nil, nil))
		return nil
	}
	var results framework.Results
	for k, values := range set {
		b, err := json.Marshal(values)
		if err != nil {
			return err
		}
		index, _ := strconv.Atoi(k.index)
		results = append(results, unratedResult("set annotations: "+string(b),
			&framework.Field{Path: k.field}, &framework.File{Path: k.path, Index: index}))
	}
	results.Sort()
	rl.Results = append(rl.Results, results...)
	return nil
}

// annotationTargets returns the resources set-annotations works on, as
// kustomize's resource map takes them (the catalog builds one): empty
// documents are left out, every other resource needs a kind and a name
// (a List no name), and no two may share an identity (group, version,
// kind, name and namespace, an unset namespace being "default" and a
// cluster-scoped kind having none). The errors are the resource map's.
func annotationTargets(items []*yaml.RNode) ([]*yaml.RNode, error) {
	out, dropped := items, false
	for i, n := range items {
		if n.IsNilOrEmpty() {
			if !dropped {
				out, dropped = append(make([]*yaml.RNode, 0, len(items)), items[:i]...), true
			}
			continue
		}
		if dropped {
			out = append(out, n)
		}
		if !hasValidatedMetadata(n) {
			if _, err := n.GetValidatedMetadata(); err != nil {
				return nil, err
			}
		}
	}
	type identity struct{ group, version, kind, name, namespace string }
	seen := make(map[identity]bool, len(out))
	for _, n := range out {
		id := resid.NewResIdWithNamespace(resid.GvkFromNode(n), n.GetName(), n.GetNamespace())
		k := identity{id.Group, id.Version, id.Kind, id.Name, id.EffectiveNamespace()}
		if seen[k] {
			return nil, fmt.Errorf("may not add resource with an already registered id: %s", id)
		}
		seen[k] = true
	}
	return out, nil
}

// annotationsPlugin is the catalog's set-annotations config.
type annotationsPlugin struct {
	Annotations                map[string]string `json:"annotations,omitempty"`
	FieldSpecs                 []types.FieldSpec `json:"fieldSpecs,omitempty"`
	AdditionalAnnotationFields []types.FieldSpec `json:"additionalAnnotationFields,omitempty"`
}

// setAnnotationsConfig reads a ConfigMap or SetAnnotations config as the
// catalog does; the error's Reason is the catalog's message.
func setAnnotationsConfig(fc *yaml.RNode) (*annotationsPlugin, *ConfigError) {
	bad := func(field, format string, args ...any) *ConfigError {
		return &ConfigError{Function: "set-annotations", Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	var apiVersion, kind string
	if fc != nil {
		apiVersion, kind = fc.GetApiVersion(), fc.GetKind()
	}
	p := &annotationsPlugin{}
	switch {
	case apiVersion == "v1" && kind == "ConfigMap":
		p.Annotations = fc.GetDataMap()
	case apiVersion == "fn.kpt.dev/v1alpha1" && (kind == "SetAnnotations" || kind == "SetAnnotationConfig"):
		text, err := fc.String()
		if err != nil {
			return nil, bad("kind", "cannot get YAML from RNode: %v", err)
		}
		if err := k8syaml.Unmarshal([]byte(text), p); err != nil {
			return nil, bad("annotations", "failed to unmarshal config %#v: %v", text, err)
		}
		if p.AdditionalAnnotationFields != nil && p.FieldSpecs != nil {
			return nil, bad("fieldSpecs", "`fieldSpecs` has been deprecated, please rename it to `additionalAnnotationFields`")
		}
		if p.AdditionalAnnotationFields == nil {
			p.AdditionalAnnotationFields = p.FieldSpecs
		}
	default:
		return nil, bad("kind", "`functionConfig` must be a `ConfigMap` or `SetAnnotations`")
	}
	if len(p.Annotations) == 0 {
		return nil, bad("annotations", "input annotation list cannot be empty")
	}
	return p, nil
}

// fieldsCannotFail reports that kustomize's field-spec filter, setting
// annotations at fields, cannot fail on any of items, so that it may
// change them in place: every path it follows, on every resource whose
// type a field spec selects, goes through mappings by plain field names
// (no list, alias or index parts) and ends in a mapping or where a
// mapping is created; and no path runs through an annotation another
// path sets (which would turn a mapping on the way into a string). It
// answers false whenever it is not sure.
func fieldsCannotFail(items []*yaml.RNode, fields types.FsSlice, annotations map[string]string) bool {
	paths := make([][]string, len(fields))
	for i, fs := range fields {
		paths[i] = utils.PathSplitter(fs.Path, "/")
	}
	for _, a := range paths {
		for _, b := range paths {
			if len(b) > len(a) && slices.Equal(a, b[:len(a)]) {
				if _, ok := annotations[b[len(a)]]; ok {
					return false
				}
			}
		}
	}
	plain := make([]bool, len(paths))
	for i, p := range paths {
		plain[i] = !slices.ContainsFunc(p, func(name string) bool { return !isPlainFieldName(name) })
	}
	for _, n := range items {
		kind := n.GetKind()
		group, version := resid.ParseGroupVersion(n.GetApiVersion())
		for i, fs := range fields {
			if fs.Kind != "" && fs.Kind != kind || fs.Group != "" && fs.Group != group || fs.Version != "" && fs.Version != version {
				continue
			}
			if !plain[i] || !pathCannotFail(n.YNode(), paths[i], fs.CreateIfNotPresent) {
				return false
			}
		}
	}
	return true
}

// pathCannotFail follows path, plain field names, from node as
// kustomize's field-spec filter does (creating missing mappings when
// create is set, stopping at a null or a missing field otherwise) and
// reports that it reaches the mapping to set without an error.
func pathCannotFail(node *yaml.Node, path []string, create bool) bool {
	for ; len(path) > 0; path = path[1:] {
		if node.Tag == yaml.NodeTagNull {
			return true
		}
		if !isPlainMapping(node) {
			return false
		}
		next := firstField(node, path[0])
		if next == nil || create && next.Tag == yaml.NodeTagNull {
			// Missing (or null, made a mapping): the rest is created, or
			// the filter stops here.
			return true
		}
		node = next
	}
	return isPlainMapping(node)
}

// isPlainFieldName is a path part that kyaml looks up as a field name, as
// it is: not a list index, element match, wildcard or "[]" list part,
// nor empty or padded with spaces.
func isPlainFieldName(name string) bool {
	if name == "" || name == "-" || name == "*" || strings.TrimSpace(name) != name || strings.ContainsAny(name, "[]") {
		return false
	}
	_, err := strconv.Atoi(name)
	return err != nil
}

// annotationSetter sets one annotation of one resource where kustomize's
// field specs lead, as kustomize's annotations filter does through kyaml's
// FieldSetter: the resource's value node is shared by all the fields (see
// unshareValues), a replaced value keeps its style, and a new value YAML
// 1.1 would read as another type is double-quoted; nonString, that test,
// is made once for all resources.
type annotationSetter struct {
	key, value string
	nonString  bool
	node       *yaml.Node
	track      func(key, value string, annotations *yaml.RNode)
}

func (s *annotationSetter) set(rn *yaml.RNode) error {
	s.track(s.key, s.value, rn)
	m := rn.YNode()
	if m == nil || m.Tag == yaml.NodeTagNull || !isPlainMapping(m) {
		return rn.PipeE(yaml.FieldSetter{Name: s.key, Value: yaml.NewRNode(s.node)})
	}
	if s.node.Style == 0 && s.nonString {
		s.node.Style = yaml.DoubleQuotedStyle
	}
	if v := firstField(m, s.key); v != nil {
		s.node.Style = v.Style
		*v = *s.node
		return nil
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: s.key}, s.node)
	return nil
}

// annotationSet is one annotation the filter set: key in the annotations
// mapping.
type annotationSet struct {
	annotations *yaml.Node
	key         string
}

// unshareValues gives each annotation set in one resource its own value
// node: kustomize's filter puts the same node at every field of the
// resource where it adds the key, and a later in-place change to one of
// them must not show at the others.
func unshareValues(sets []annotationSet) {
	var seen []*yaml.Node
	for _, s := range sets {
		content := s.annotations.Content
		for i := 0; i+1 < len(content); i += 2 {
			if content[i] == nil || content[i].Value != s.key {
				continue
			}
			if v := content[i+1]; slices.Contains(seen, v) {
				c := *v
				content[i+1] = &c
			} else {
				seen = append(seen, v)
			}
			break
		}
	}
}
