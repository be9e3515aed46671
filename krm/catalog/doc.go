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
//   - apply-replacements: ApplyReplacements, kustomize's replacements;
//   - search-replace: ConfigMap by-value, by-value-regex, by-path,
//     by-file-path, put-value, put-comment;
//   - ensure-name-substring: ConfigMap prepend or append, or
//     EnsureNameSubstring; references to renamed resources follow;
//   - starlark: StarlarkRun source and params, or ConfigMap data.source;
//   - upsert-resource: the functionConfig is the resource;
//   - validate-structure: a validator of apiVersion, kind and name,
//     duplicates and namespace rules;
//   - kubeconform: a schema validator for the built-in Kubernetes kinds,
//     from the OpenAPI schema of k8s.io/api that client-go ships.
//
// Functions returns them keyed by catalog image; krm registers them. Each
// type's comment says where it differs from the container function.
package catalog

import "sigs.k8s.io/kustomize/kyaml/fn/framework"

// Functions returns the builtin functions, keyed by image name and version
// (without a registry prefix; krm resolves the catalog prefixes). Every call
// returns new instances.
//
// A function is registered under each release tag the catalog published
// for the behaviour it implements: set-namespace v0.3.0 to v0.4.1 (Porch
// runs its v0.4.1 code for all of them; v0.3 differs in refusing resources
// of several namespaces, see SetNamespace), starlark v0.4.0 to v0.5.0,
// apply-replacements v0.1.0 and v0.1.1, as Porch's builtin runtime maps its
// aliases.
func Functions() map[string]framework.ResourceListProcessor {
	fns := map[string]framework.ResourceListProcessor{
		"set-labels:v0.2.0":            framework.ResourceListProcessorFunc(SetLabels),
		"set-annotations:v0.1.4":       framework.ResourceListProcessorFunc(SetAnnotations),
		"set-image:v0.1.1":             framework.ResourceListProcessorFunc(SetImage),
		"apply-setters:v0.2.0":         framework.ResourceListProcessorFunc(ApplySetters),
		"upsert-resource:v0.2.0":       framework.ResourceListProcessorFunc(UpsertResource),
		"validate-structure:v0.1.0":    framework.ResourceListProcessorFunc(ValidateStructure),
		"search-replace:v0.2.0":        framework.ResourceListProcessorFunc(SearchReplace),
		"ensure-name-substring:v0.2.0": framework.ResourceListProcessorFunc(EnsureNameSubstring),
		"kubeconform:v0.1.1":           NewSchemaValidator(),
	}
	for _, v := range []string{"v0.3.0", "v0.3.1", "v0.3.2", "v0.3.3", "v0.3.4", "v0.4.0", "v0.4.1"} {
		fns["set-namespace:"+v] = framework.ResourceListProcessorFunc(SetNamespace)
	}
	for _, v := range []string{"v0.4.0", "v0.4.1", "v0.4.2", "v0.4.3", "v0.5.0"} {
		fns["starlark:"+v] = &Starlark{}
	}
	for _, v := range []string{"v0.1.0", "v0.1.1"} {
		fns["apply-replacements:"+v] = framework.ResourceListProcessorFunc(ApplyReplacements)
	}
	return fns
}
