package catalog

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/filters/replacement"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ApplyReplacements copies fields from a source resource (or a literal
// sourceValue) into fields of target resources, with kustomize's
// replacements (sigs.k8s.io/kustomize/api/filters/replacement), as the
// apply-replacements Porch v1.5.3 runs as a builtin (v0.1.1). Its
// functionConfig must be an ApplyReplacements of apiVersion
// fn.kpt.dev/v1alpha1; an empty replacements list changes nothing. A
// rejected config or a failed replacement gives the catalog's error result
// (and a *ConfigError for the config), and changes nothing.
func ApplyReplacements(rl *framework.ResourceList) error {
	const fn = "apply-replacements"
	fc := rl.FunctionConfig
	switch {
	case isEmptyConfig(fc):
		return rejectPlain(rl, fn, "", "FunctionConfig is missing. Expect `ApplyReplacements`")
	case fc.GetKind() != "ApplyReplacements" || fc.GetApiVersion() != "fn.kpt.dev/v1alpha1":
		field := "kind"
		if fc.GetKind() == "ApplyReplacements" {
			field = "apiVersion"
		}
		return rejectPlain(rl, fn, field, fmt.Sprintf("received functionConfig of kind %s and apiVersion %s, "+
			"only functionConfig of kind ApplyReplacements and apiVersion fn.kpt.dev/v1alpha1 is supported",
			fc.GetKind(), fc.GetApiVersion()))
	}
	var f replacement.Filter
	if err := yaml.Unmarshal([]byte(fc.MustString()), &f); err != nil {
		return rejectPlain(rl, fn, "replacements", fmt.Sprintf("unable to convert functionConfig to replacements:\n%v", err))
	}
	items, err := f.Filter(copyItems(rl.Items))
	if err != nil {
		rl.Results = append(rl.Results, &framework.Result{Severity: framework.Error, Message: err.Error()})
		return fmt.Errorf("%s: %w", fn, err)
	}
	rl.Items = items
	return nil
}

// copyItems deep-copies resources, so a filter that fails part-way leaves
// the originals untouched.
func copyItems(items []*yaml.RNode) []*yaml.RNode {
	out := make([]*yaml.RNode, len(items))
	for i, n := range items {
		out[i] = n.Copy()
	}
	return out
}
