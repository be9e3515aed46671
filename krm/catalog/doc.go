// Package catalog implements functions of the kpt function catalog in Go,
// with the catalog's functionConfig formats, to run in-process (as Porch's
// builtin runtime does for a few of them):
//
//   - set-namespace: ConfigMap data.namespace, or SetNamespace namespace;
//   - set-labels, set-annotations: ConfigMap data, or SetLabels labels /
//     SetAnnotations annotations;
//   - set-image: ConfigMap name/newName/newTag/digest, or SetImage image;
//   - apply-setters: ConfigMap data name -> value, for "# kpt-set: ${name}"
//     comments;
//   - upsert-resource: the functionConfig is the resource;
//   - validate-structure: a validator of apiVersion, kind and name,
//     duplicates and namespace rules.
//
// Functions returns them keyed by catalog image; krm registers them.
package catalog

import "sigs.k8s.io/kustomize/kyaml/fn/framework"

// Functions returns the builtin functions, keyed by image name and version
// (without a registry prefix; krm resolves the catalog prefixes).
func Functions() map[string]framework.ResourceListProcessor {
	return map[string]framework.ResourceListProcessor{
		"set-namespace:v0.4.1":      framework.ResourceListProcessorFunc(SetNamespace),
		"set-labels:v0.2.0":         framework.ResourceListProcessorFunc(SetLabels),
		"set-annotations:v0.1.4":    framework.ResourceListProcessorFunc(SetAnnotations),
		"set-image:v0.1.1":          framework.ResourceListProcessorFunc(SetImage),
		"apply-setters:v0.2.0":      framework.ResourceListProcessorFunc(ApplySetters),
		"upsert-resource:v0.2.0":    framework.ResourceListProcessorFunc(UpsertResource),
		"validate-structure:v0.1.0": framework.ResourceListProcessorFunc(ValidateStructure),
	}
}
