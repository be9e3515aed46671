package catalog

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/filters/replacement"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ApplyReplacements copies fields from a source resource (or a literal
// sourceValue) into fields of target resources, with kustomize's
// replacements (sigs.k8s.io/kustomize/api/filters/replacement). Its
// functionConfig is the catalog's ApplyReplacements (fn.kpt.dev/v1alpha1)
// with a replacements list.
func ApplyReplacements(rl *framework.ResourceList) error {
	fc := rl.FunctionConfig
	if fc == nil || fc.GetKind() != "ApplyReplacements" {
		return framework.Results{{Severity: framework.Error, Message: "functionConfig must be an ApplyReplacements with a replacements list"}}
	}
	var f replacement.Filter
	if err := yaml.Unmarshal([]byte(fc.MustString()), &f); err != nil {
		return framework.Results{{Severity: framework.Error, Message: fmt.Sprintf("ApplyReplacements: %v", err)}}
	}
	if len(f.Replacements) == 0 {
		return framework.Results{{Severity: framework.Error, Message: "ApplyReplacements has no replacements"}}
	}
	items, err := f.Filter(rl.Items)
	if err != nil {
		return framework.Results{{Severity: framework.Error, Message: err.Error()}}
	}
	rl.Items = items
	return nil
}
