package catalog

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// SchemaValidator validates resources of built-in Kubernetes kinds against
// the OpenAPI schema of k8s.io/api (the one client-go ships for
// server-side apply), in the place of the catalog's kubeconform. Its
// functionConfig is a ConfigMap with kubeconform's keys:
//
//   - strict: "true" rejects fields the schema does not declare (default
//     "false": only wrong types and malformed values are errors);
//   - skip_kinds: comma-separated kinds not to validate;
//   - ignore_missing_schemas: "true" passes kinds without a schema (custom
//     resources); by default they are errors;
//   - schema_location: only "default" (or empty) is accepted; remote and
//     mounted schemas are not fetched.
//
// Local-config objects (the Kptfile) are never validated. Each problem is
// an error result naming the resource and the field.
type SchemaValidator struct {
	once      sync.Once
	converter managedfields.TypeConverter
}

// NewSchemaValidator returns a SchemaValidator; the schema is parsed on
// first use.
func NewSchemaValidator() *SchemaValidator { return &SchemaValidator{} }

// Process implements framework.ResourceListProcessor.
func (v *SchemaValidator) Process(rl *framework.ResourceList) error {
	cfg, err := configData(rl, "data")
	if err != nil {
		return err
	}
	if loc := cfg["schema_location"]; loc != "" && loc != "default" {
		return framework.Results{{Severity: framework.Error,
			Message: fmt.Sprintf("schema_location %q is not supported: only the built-in Kubernetes schema is available in-process", loc)}}
	}
	strict := cfg["strict"] == "true"
	ignoreMissing := cfg["ignore_missing_schemas"] == "true"
	skip := map[string]bool{}
	for _, k := range strings.Split(cfg["skip_kinds"], ",") {
		if k = strings.TrimSpace(k); k != "" {
			skip[k] = true
		}
	}
	v.once.Do(func() { v.converter = applyconfigurations.NewTypeConverter(scheme.Scheme) })

	for _, n := range rl.Items {
		if isLocalConfig(n) || skip[n.GetKind()] {
			continue
		}
		ref := resourceRef(n)
		obj, err := n.Map()
		if err != nil {
			rl.Results = append(rl.Results, &framework.Result{Severity: framework.Error, ResourceRef: ref,
				Message: fmt.Sprintf("not a mapping: %v", err)})
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		gvk := u.GroupVersionKind()
		if !scheme.Scheme.Recognizes(gvk) {
			if !ignoreMissing {
				rl.Results = append(rl.Results, &framework.Result{Severity: framework.Error, ResourceRef: ref,
					Message: fmt.Sprintf("no schema for %s (set ignore_missing_schemas to pass it)", gvk)})
			}
			continue
		}
		_, err = v.converter.ObjectToTyped(u)
		if err == nil {
			continue
		}
		var verrs typed.ValidationErrors
		if !errors.As(err, &verrs) {
			rl.Results = append(rl.Results, &framework.Result{Severity: framework.Error, ResourceRef: ref, Message: err.Error()})
			continue
		}
		// The schema walker visits maps in random order: report by path.
		sort.SliceStable(verrs, func(i, j int) bool { return verrs[i].Path < verrs[j].Path })
		for _, ve := range verrs {
			if !strict && strings.Contains(ve.ErrorMessage, "field not declared in schema") {
				continue
			}
			rl.Results = append(rl.Results, &framework.Result{Severity: framework.Error, ResourceRef: ref,
				Message: ve.ErrorMessage, Field: &framework.Field{Path: ve.Path}})
		}
	}
	return nil
}

// resourceRef names n in a result.
func resourceRef(n *yaml.RNode) *yaml.ResourceIdentifier {
	return &yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: n.GetApiVersion(), Kind: n.GetKind()},
		NameMeta: yaml.NameMeta{Name: n.GetName(), Namespace: n.GetNamespace()}}
}
