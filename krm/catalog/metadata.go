package catalog

import (
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SetNamespace behaves like the catalog's set-namespace v0.4.1 as Porch's
// builtin runtime runs it: it sets metadata.namespace on every namespaced
// resource, renames Namespace objects, and points a
// CustomResourceDefinition's conversion webhook service and an APIService's
// service at the namespace. Binding subjects keep their namespaces (checked
// against the real Porch, whatever the catalog's README says).
func SetNamespace(rl *framework.ResourceList) error {
	cfg, err := configData(rl, "namespace")
	if err != nil {
		return err
	}
	ns := cfg["namespace"]
	if ns == "" {
		return framework.Results{{Severity: framework.Error, Message: "functionConfig must set namespace"}}
	}
	setAt := func(n *yaml.RNode, path ...string) error {
		field, err := n.Pipe(yaml.Lookup(path...))
		if err != nil || field == nil {
			return err
		}
		return field.PipeE(yaml.SetField("namespace", yaml.NewStringRNode(ns)))
	}
	for _, n := range rl.Items {
		kind := n.GetKind()
		switch {
		case kind == "Namespace":
			err = n.SetName(ns)
		case kind == "CustomResourceDefinition":
			err = setAt(n, "spec", "conversion", "webhook", "clientConfig", "service")
		case kind == "APIService":
			err = setAt(n, "spec", "service")
		case clusterScoped[kind]:
		default:
			err = n.SetNamespace(ns)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
