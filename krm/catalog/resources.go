package catalog

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// identity is a resource's group, kind, namespace and name.
func identity(n *yaml.RNode) string {
	group, _, found := strings.Cut(n.GetApiVersion(), "/")
	if !found {
		group = "" // core: "v1"
	}
	return fmt.Sprintf("%s/%s/%s/%s", group, n.GetKind(), n.GetNamespace(), n.GetName())
}

// UpsertResource adds the functionConfig as a resource, or replaces the
// resource with the same group, kind, namespace and name (keeping its file).
func UpsertResource(rl *framework.ResourceList) error {
	if rl.FunctionConfig == nil {
		return framework.Results{{Severity: framework.Error, Message: "functionConfig must be the resource to upsert"}}
	}
	res := rl.FunctionConfig.Copy()
	id := identity(res)
	for i, n := range rl.Items {
		if identity(n) == id {
			for k, v := range n.GetAnnotations() {
				if isInternal(k) {
					if err := res.PipeE(yaml.SetAnnotation(k, v)); err != nil {
						return err
					}
				}
			}
			rl.Items[i] = res
			return nil
		}
	}
	rl.Items = append(rl.Items, res)
	return nil
}

func isInternal(annotation string) bool {
	switch annotation {
	case "internal.config.kubernetes.io/path", "internal.config.kubernetes.io/index",
		"config.kubernetes.io/path", "config.kubernetes.io/index":
		return true
	}
	return false
}

// ValidateStructure reports, as error results, resources without
// apiVersion, kind or metadata.name, duplicates (same group, kind,
// namespace and name), and namespaces on cluster-scoped kinds.
func ValidateStructure(rl *framework.ResourceList) error {
	var results framework.Results
	seen := map[string]bool{}
	for _, n := range rl.Items {
		ref := resourceRef(n)
		fail := func(format string, args ...any) {
			results = append(results, &framework.Result{Severity: framework.Error, ResourceRef: ref, Message: fmt.Sprintf(format, args...)})
		}
		switch {
		case n.GetApiVersion() == "":
			fail("missing apiVersion")
		case n.GetKind() == "":
			fail("missing kind")
		case n.GetName() == "":
			fail("missing metadata.name")
		}
		if clusterScoped[n.GetKind()] && n.GetNamespace() != "" && n.GetKind() != "Kptfile" {
			fail("%s is cluster-scoped but has namespace %q", n.GetKind(), n.GetNamespace())
		}
		id := identity(n)
		if seen[id] && n.GetName() != "" {
			fail("duplicate resource %s", id)
		}
		seen[id] = true
	}
	rl.Results = append(rl.Results, results...)
	return nil
}
