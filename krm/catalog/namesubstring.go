package catalog

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/api/filters/fieldspec"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/kustomize/kyaml/yaml"
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
// webhooks, roleRef and subjects of bindings, HPA scale targets) and the
// config.kubernetes.io/depends-on annotation; only references to resources
// in the input are changed.
func EnsureNameSubstring(rl *framework.ResourceList) error {
	fail := func(format string, args ...any) error {
		return framework.Results{{Severity: framework.Error, Message: fmt.Sprintf(format, args...)}}
	}
	fc := rl.FunctionConfig
	if fc == nil {
		return fail("ensure-name-substring needs a ConfigMap with prepend or append, or an EnsureNameSubstring")
	}
	var substring, mode string
	nameFields := []types.FieldSpec{{Path: "metadata/name"}}
	switch {
	case fc.GetKind() == "ConfigMap":
		data, err := configData(rl, "data")
		if err != nil {
			return err
		}
		if len(data) != 1 {
			return fail("only 1 entry is allowed in the ConfigMap, but got: %d", len(data))
		}
		for k, v := range data {
			mode, substring = k, v
		}
	case fc.GetKind() == "EnsureNameSubstring" && fc.GetApiVersion() == "fn.kpt.dev/v1alpha1":
		var cfg struct {
			Substring            string            `yaml:"substring"`
			EditMode             string            `yaml:"editMode"`
			AdditionalNameFields []types.FieldSpec `yaml:"additionalNameFields"`
			FieldSpecs           []types.FieldSpec `yaml:"fieldSpecs"`
		}
		if err := yaml.Unmarshal([]byte(fc.MustString()), &cfg); err != nil {
			return fail("EnsureNameSubstring: %v", err)
		}
		if len(cfg.AdditionalNameFields) > 0 && len(cfg.FieldSpecs) > 0 {
			return fail("EnsureNameSubstring: give additionalNameFields or the older fieldSpecs, not both")
		}
		substring, mode = cfg.Substring, cfg.EditMode
		if mode == "" {
			mode = "prepend"
		}
		nameFields = append(nameFields, cfg.AdditionalNameFields...)
		nameFields = append(nameFields, cfg.FieldSpecs...)
	default:
		return fail("function config must be either v1/ConfigMap or fn.kpt.dev/v1alpha1/EnsureNameSubstring, not %s/%s", fc.GetApiVersion(), fc.GetKind())
	}
	if mode != "prepend" && mode != "append" {
		return fail("unknown editMode: %s, only prepend and append are allowed", mode)
	}
	if substring == "" {
		return fail("the substring must not be empty")
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
					return fail("%s %s: %s: %v", n.GetKind(), n.GetName(), fs.Path, err)
				}
				continue
			}
			if name := n.GetName(); !strings.Contains(name, substring) {
				if err := n.SetName(edit(name)); err != nil {
					return err
				}
				renamed[refKey(groupOf(n.GetApiVersion()), n.GetKind(), n.GetNamespace(), name)] = n.GetName()
			}
		}
	}
	if len(renamed) == 0 {
		return nil
	}

	// Update references.
	for _, n := range rl.Items {
		if err := fixReferences(n, renamed); err != nil {
			return fail("%s %s: %v", n.GetKind(), n.GetName(), err)
		}
		if err := fixDependsOn(n, renamed); err != nil {
			return err
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

// fixDependsOn rewrites the config.kubernetes.io/depends-on annotation,
// "<group>/namespaces/<namespace>/<kind>/<name>" or "<group>/<kind>/<name>".
func fixDependsOn(n *yaml.RNode, renamed map[string]string) error {
	const key = "config.kubernetes.io/depends-on"
	value, ok := n.GetAnnotations()[key]
	if !ok {
		return nil
	}
	refs := strings.Split(value, ",")
	changed := false
	for i, ref := range refs {
		parts := strings.Split(strings.TrimSpace(ref), "/")
		var group, namespace, kind, name string
		switch {
		case len(parts) == 5 && parts[1] == "namespaces":
			group, namespace, kind, name = parts[0], parts[2], parts[3], parts[4]
		case len(parts) == 3:
			group, kind, name = parts[0], parts[1], parts[2]
		default:
			continue
		}
		if newName, ok := renamed[refKey(group, kind, namespace, name)]; ok {
			parts[len(parts)-1] = newName
			refs[i] = strings.Join(parts, "/")
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return n.PipeE(yaml.SetAnnotation(key, strings.Join(refs, ",")))
}
