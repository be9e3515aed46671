package catalog

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/filters/annotations"
	"sigs.k8s.io/kustomize/api/hasher"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/resid"
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

	factory := resource.NewFactory(&hasher.Hasher{})
	factory.IncludeLocalConfigs = true
	copies := make([]*yaml.RNode, len(rl.Items))
	for i, n := range rl.Items {
		copies[i] = n.Copy()
	}
	failRun := func(err error) error {
		err = fmt.Errorf("failed to run function: %w", err)
		rl.Results = append(rl.Results, errorResult(err.Error()))
		return err
	}
	m, err := resmap.NewFactory(factory).NewResMapFromRNodeSlice(copies)
	if err != nil {
		return failRun(err)
	}
	type resultKey struct{ path, index, field string }
	set := map[resultKey]map[string]string{}
	for _, r := range m.Resources() {
		path, index, err := kioutil.GetFileAnnotations(&r.RNode)
		if err != nil {
			return failRun(fmt.Errorf("failed to run transformer: %w", err))
		}
		f := annotations.Filter{Annotations: cfg.Annotations, FsSlice: fields}
		f.WithMutationTracker(func(key, value, _ string, node *yaml.RNode) {
			k := resultKey{path: path, index: index, field: strings.Join(node.FieldPath(), ".")}
			if set[k] == nil {
				set[k] = map[string]string{}
			}
			set[k][key] = value
		})
		if err := r.ApplyFilter(f); err != nil {
			return failRun(fmt.Errorf("failed to run transformer: %w", err))
		}
	}
	rl.Items = m.ToRNodeSlice()

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
