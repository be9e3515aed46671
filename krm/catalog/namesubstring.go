package catalog

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"sigs.k8s.io/kustomize/api/filters/fieldspec"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	k8syaml "sigs.k8s.io/yaml"
)

// EnsureNameSubstring prepends or appends a substring to resource names
// that do not already contain it, and then updates the references to the
// renamed resources, as the catalog's ensure-name-substring does. Its
// functionConfig is a ConfigMap with exactly one of prepend or append, or
// an EnsureNameSubstring (fn.kpt.dev/v1alpha1) with substring, editMode
// (prepend, the default, or append) and additionalNameFields (kustomize
// field specs such as {kind: MyResource, path: spec/name}).
//
// CustomResourceDefinitions, Namespaces, APIServices and the Kptfile keep
// their names; metadata.namespace is never changed. References follow
// kustomize's name-reference rules for the built-in kinds (ConfigMap and
// Secret references of workloads, ServiceAccounts, PersistentVolumeClaims,
// PriorityClasses, Services of StatefulSets, Ingresses, APIServices and
// webhooks, roleRef and subjects of bindings, HPA scale targets); only
// references to resources in the input are changed. As in the catalog, a
// renamed resource's own config.kubernetes.io/depends-on annotation, when
// it names one resource of the input, gets the substring on that name.
//
// A config the catalog rejects (another kind or apiVersion, no
// metadata.name, a ConfigMap without exactly one prepend or append entry,
// an empty substring, both fieldSpecs and additionalNameFields) is a
// *ConfigError and nothing changes; the catalog reports no results.
func EnsureNameSubstring(rl *framework.ResourceList) error {
	const fnName = "ensure-name-substring"
	fail := func(field, format string, args ...any) error {
		return &ConfigError{Function: fnName, Field: field,
			Reason: "failed to load the `functionConfig`: " + fmt.Sprintf(format, args...)}
	}
	fc := rl.FunctionConfig
	var apiVersion, kind string
	if fc != nil {
		apiVersion, kind = fc.GetApiVersion(), fc.GetKind()
		if _, err := fc.GetValidatedMetadata(); err != nil {
			return fail("metadata", "%v", err)
		}
	}
	var substring, mode string
	nameFields := []types.FieldSpec{{Path: "metadata/name"}}
	switch {
	case apiVersion == "v1" && kind == "ConfigMap":
		data := fc.GetDataMap()
		if len(data) != 1 {
			return fail("data", "only 1 entry is allowed in the ConfigMap, but got: %d", len(data))
		}
		for k, v := range data {
			if k != "prepend" && k != "append" {
				return fail("data."+k, "unknown editMode: %v, only prepend and append are allowed", k)
			}
			mode, substring = k, v
		}
	case apiVersion == "fn.kpt.dev/v1alpha1" && kind == "EnsureNameSubstring":
		var cfg struct {
			Substring            string            `json:"substring"`
			EditMode             string            `json:"editMode,omitempty"`
			AdditionalNameFields []types.FieldSpec `json:"additionalNameFields,omitempty"`
			FieldSpecs           []types.FieldSpec `json:"fieldSpecs,omitempty"`
		}
		if err := k8syaml.Unmarshal([]byte(fc.MustString()), &cfg); err != nil {
			return fail("substring", "%v", err)
		}
		substring, mode = cfg.Substring, cfg.EditMode
		if mode == "" {
			mode = "prepend"
		}
		if cfg.AdditionalNameFields == nil {
			cfg.AdditionalNameFields, cfg.FieldSpecs = cfg.FieldSpecs, nil
		}
		if substring == "" {
			return fail("substring", "substring must not be empty")
		}
		if cfg.AdditionalNameFields != nil && cfg.FieldSpecs != nil {
			return fail("fieldSpecs", "`fieldSpecs` has been deprecated, please rename it to `additionalNameFields`")
		}
		nameFields = append(nameFields, cfg.AdditionalNameFields...)
	default:
		got := schema.FromAPIVersionAndKind(apiVersion, kind)
		return fail("kind", "function config must be either %v or %v, but we got: %v",
			schema.FromAPIVersionAndKind("v1", "ConfigMap"), schema.FromAPIVersionAndKind("fn.kpt.dev/v1alpha1", "EnsureNameSubstring"), got)
	}
	if substring == "" {
		return fail("data."+mode, "substring must not be empty")
	}
	if mode != "prepend" && mode != "append" {
		// The catalog takes any editMode of an EnsureNameSubstring and then
		// neither prepends nor appends.
		return nil
	}
	// The resources of the input, by group, kind and name, for the
	// depends-on annotations.
	input := map[string]bool{}
	for _, n := range rl.Items {
		input[groupOf(n.GetApiVersion())+"/"+n.GetKind()+"/"+n.GetName()] = true
	}
	edit := func(name string) string {
		if mode == "prepend" {
			return substring + name
		}
		return name + substring
	}

	// Rename.
	renamed := map[string]string{} // group/kind/namespace/old name -> new name
	for _, n := range rl.Items {
		if keepsName(n) {
			continue
		}
		for _, fs := range nameFields {
			if fs.Path != "metadata/name" {
				err := n.PipeE(fieldspec.Filter{FieldSpec: fs, SetValue: func(v *yaml.RNode) error {
					if v.YNode().Kind == yaml.ScalarNode && !strings.Contains(v.YNode().Value, substring) {
						v.YNode().Value = edit(v.YNode().Value)
					}
					return nil
				}})
				if err != nil {
					return fmt.Errorf("failed to transform name substring: %s %s: %s: %w", n.GetKind(), n.GetName(), fs.Path, err)
				}
				if err := dependsOnSubstring(n, input, edit); err != nil {
					return err
				}
				continue
			}
			if name := n.GetName(); !strings.Contains(name, substring) {
				if err := n.SetName(edit(name)); err != nil {
					return err
				}
				renamed[refKey(groupOf(n.GetApiVersion()), n.GetKind(), n.GetNamespace(), name)] = n.GetName()
				if err := dependsOnSubstring(n, input, edit); err != nil {
					return err
				}
			}
		}
	}
	if len(renamed) == 0 {
		return nil
	}

	// Update references.
	for _, n := range rl.Items {
		if err := fixReferences(n, renamed); err != nil {
			return fmt.Errorf("failed to fix name back reference: %s %s: %w", n.GetKind(), n.GetName(), err)
		}
	}
	return nil
}

// keepsName reports the kinds ensure-name-substring never renames.
func keepsName(n *yaml.RNode) bool {
	group := groupOf(n.GetApiVersion())
	switch n.GetKind() {
	case "CustomResourceDefinition", "Namespace":
		return true
	case "APIService":
		return group == "apiregistration.k8s.io"
	case "Kptfile":
		return group == "kpt.dev"
	}
	return false
}

func groupOf(apiVersion string) string {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		return ""
	}
	return group
}

func refKey(group, kind, namespace, name string) string {
	return group + "/" + kind + "/" + namespace + "/" + name
}

// nameReference says where resources of kind Target are referred to.
type nameReference struct {
	Group, Target string
	Referrers     []types.FieldSpec
}

// podSpecs are the kinds holding a pod spec, and where.
var podSpecs = map[string]string{
	"Pod": "spec", "PodTemplate": "template/spec",
	"Deployment": "spec/template/spec", "ReplicaSet": "spec/template/spec", "DaemonSet": "spec/template/spec",
	"StatefulSet": "spec/template/spec", "Job": "spec/template/spec", "ReplicationController": "spec/template/spec",
	"CronJob": "spec/jobTemplate/spec/template/spec",
}

func inPodSpecs(paths ...string) []types.FieldSpec {
	var out []types.FieldSpec
	for kind, prefix := range podSpecs {
		for _, p := range paths {
			out = append(out, types.FieldSpec{Gvk: resid.Gvk{Kind: kind}, Path: prefix + "/" + p})
		}
	}
	return out
}

func in(kind string, paths ...string) []types.FieldSpec {
	out := make([]types.FieldSpec, 0, len(paths))
	for _, p := range paths {
		out = append(out, types.FieldSpec{Gvk: resid.Gvk{Kind: kind}, Path: p})
	}
	return out
}

func concat(lists ...[]types.FieldSpec) []types.FieldSpec {
	var out []types.FieldSpec
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// nameReferences follows kustomize's name-reference configuration for the
// built-in kinds.
var nameReferences = []nameReference{
	{Target: "ConfigMap", Referrers: inPodSpecs("volumes/configMap/name", "containers/env/valueFrom/configMapKeyRef/name",
		"initContainers/env/valueFrom/configMapKeyRef/name", "containers/envFrom/configMapRef/name",
		"initContainers/envFrom/configMapRef/name", "volumes/projected/sources/configMap/name")},
	{Target: "Secret", Referrers: concat(inPodSpecs("volumes/secret/secretName", "containers/env/valueFrom/secretKeyRef/name",
		"initContainers/env/valueFrom/secretKeyRef/name", "containers/envFrom/secretRef/name",
		"initContainers/envFrom/secretRef/name", "imagePullSecrets/name", "volumes/projected/sources/secret/name"),
		in("Ingress", "spec/tls/secretName"), in("ServiceAccount", "secrets/name", "imagePullSecrets/name"))},
	{Target: "ServiceAccount", Referrers: concat(inPodSpecs("serviceAccountName", "serviceAccount"),
		in("RoleBinding", "subjects"), in("ClusterRoleBinding", "subjects"))},
	{Target: "PersistentVolumeClaim", Referrers: inPodSpecs("volumes/persistentVolumeClaim/claimName")},
	{Target: "PriorityClass", Referrers: inPodSpecs("priorityClassName")},
	{Target: "Service", Referrers: concat(in("StatefulSet", "spec/serviceName"),
		in("Ingress", "spec/rules/http/paths/backend/service/name", "spec/defaultBackend/service/name"),
		in("APIService", "spec/service"),
		in("ValidatingWebhookConfiguration", "webhooks/clientConfig/service"),
		in("MutatingWebhookConfiguration", "webhooks/clientConfig/service"))},
	{Group: "rbac.authorization.k8s.io", Target: "Role", Referrers: in("RoleBinding", "roleRef")},
	{Group: "rbac.authorization.k8s.io", Target: "ClusterRole", Referrers: concat(in("RoleBinding", "roleRef"), in("ClusterRoleBinding", "roleRef"))},
	{Group: "apps", Target: "Deployment", Referrers: in("HorizontalPodAutoscaler", "spec/scaleTargetRef")},
	{Group: "apps", Target: "StatefulSet", Referrers: in("HorizontalPodAutoscaler", "spec/scaleTargetRef")},
	{Group: "apps", Target: "ReplicaSet", Referrers: in("HorizontalPodAutoscaler", "spec/scaleTargetRef")},
	{Target: "PersistentVolume", Referrers: in("PersistentVolumeClaim", "spec/volumeName")},
	{Group: "storage.k8s.io", Target: "StorageClass", Referrers: concat(in("PersistentVolumeClaim", "spec/storageClassName"), in("PersistentVolume", "spec/storageClassName"))},
}

// fixReferences rewrites n's references to renamed resources.
func fixReferences(n *yaml.RNode, renamed map[string]string) error {
	namespace := n.GetNamespace()
	for _, ref := range nameReferences {
		lookup := func(refNamespace, name string) (string, bool) {
			if clusterScoped[ref.Target] {
				refNamespace = ""
			}
			newName, ok := renamed[refKey(ref.Group, ref.Target, refNamespace, name)]
			return newName, ok
		}
		var set func(v *yaml.RNode) error
		set = func(v *yaml.RNode) error {
			switch v.YNode().Kind {
			case yaml.ScalarNode:
				if newName, ok := lookup(namespace, v.YNode().Value); ok {
					v.YNode().Value = newName
				}
			case yaml.SequenceNode:
				return v.VisitElements(set)
			case yaml.MappingNode: // roleRef, subjects, scaleTargetRef, service references
				if kind := v.Field("kind"); kind != nil && kind.Value.YNode().Value != ref.Target {
					return nil
				}
				name := v.Field("name")
				if name == nil {
					return nil
				}
				refNamespace := namespace
				if ns := v.Field("namespace"); ns != nil {
					refNamespace = ns.Value.YNode().Value
				}
				if newName, ok := lookup(refNamespace, name.Value.YNode().Value); ok {
					name.Value.YNode().Value = newName
				}
			}
			return nil
		}
		for _, fs := range ref.Referrers {
			if err := n.PipeE(fieldspec.Filter{FieldSpec: fs, SetValue: set}); err != nil {
				return err
			}
		}
	}
	return nil
}

// dependsOn matches a config.kubernetes.io/depends-on value naming one
// namespaced or cluster-scoped resource.
var (
	dependsOnNamespaced = regexp.MustCompile(`\A([-.\w]*)/namespaces/([-.\w]*)/([-.\w]*)/([-.\w]*)\z`)
	dependsOnCluster    = regexp.MustCompile(`\A([-.\w]*)/([-.\w]*)/([-.\w]*)\z`)
)

// dependsOnSubstring edits the name in a renamed resource's depends-on
// annotation as the catalog does: when it names one resource of the input
// (by group, kind and original name), that name gets the substring.
func dependsOnSubstring(n *yaml.RNode, input map[string]bool, edit func(string) string) error {
	const key = "config.kubernetes.io/depends-on"
	value, ok := n.GetAnnotations()[key]
	if !ok {
		return nil
	}
	parts := strings.Split(value, "/")
	var kind, name int
	switch {
	case dependsOnNamespaced.MatchString(value):
		kind, name = 3, 4
	case dependsOnCluster.MatchString(value):
		kind, name = 1, 2
	default:
		return nil
	}
	if !input[parts[0]+"/"+parts[kind]+"/"+parts[name]] {
		return nil
	}
	parts[name] = edit(parts[name])
	return n.PipeE(yaml.SetAnnotation(key, strings.Join(parts, "/")))
}
