package rbac_test

import (
	"errors"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/rbac"
)

func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Service"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	return m
}

func parse(t *testing.T, docs ...string) []*yaml.RNode {
	t.Helper()
	var out []*yaml.RNode
	for _, d := range docs {
		out = append(out, yaml.MustParse(d))
	}
	return out
}

// ruleFor finds the rule of resource in rs that names name ("" for the
// rule without names).
func ruleFor(rs []rbac.Rule, group, resource, name string) *rbac.Rule {
	for i, r := range rs {
		if r.APIGroups[0] == group && slices.Contains(r.Resources, resource) &&
			(name == "" && len(r.ResourceNames) == 0 || name != "" && slices.Contains(r.ResourceNames, name)) {
			return &rs[i]
		}
	}
	return nil
}

func TestApplierRulesOneNamespace(t *testing.T) {
	v1 := parse(t,
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: shop\n",
	)
	v2 := parse(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n")
	g, err := rbac.ApplierRules(testMapper(), "", v1, v2)
	if err != nil {
		t.Fatal(err)
	}
	shop := g.Namespaces["shop"]
	dep := ruleFor(shop, "apps", "deployments", "web")
	if dep == nil || !slices.Equal(dep.Verbs, []string{"get", "create", "patch", "delete"}) {
		t.Fatalf("the Deployment's rule: %+v in %+v", dep, shop)
	}
	if cm := ruleFor(shop, "", "configmaps", "web-config"); cm == nil || !slices.Equal(cm.Verbs, []string{"get", "create", "patch", "delete"}) {
		t.Errorf("the ConfigMap of v1 (pruned by v2) has no rule of its own: %+v", shop)
	}
	if w := ruleFor(shop, "apps", "deployments", ""); w == nil || !slices.Equal(w.Verbs, []string{"list", "watch"}) {
		t.Errorf("the status watcher's rule for deployments: %+v", w)
	}
	if rs := ruleFor(shop, "apps", "replicasets", ""); rs == nil || !slices.Equal(rs.Verbs, []string{"list"}) {
		t.Errorf("kstatus' read of the Deployment's ReplicaSets: %+v", rs)
	}
	if pods := ruleFor(shop, "", "pods", ""); pods == nil || !slices.Equal(pods.Verbs, []string{"list"}) {
		t.Errorf("kstatus' read of the Pods: %+v", pods)
	}
	inv := g.Namespaces["porchkit-system"]
	if r := ruleFor(inv, "", "configmaps", ""); r == nil || !slices.Equal(r.Verbs, []string{"get", "list", "create", "update", "patch", "delete"}) {
		t.Errorf("the inventory namespace's rules: %+v", inv)
	}
	if len(g.Cluster) != 1 || g.Cluster[0].Resources[0] != "namespaces" || !slices.Equal(g.Cluster[0].ResourceNames, []string{"porchkit-system"}) {
		t.Errorf("cluster rules %+v: want only the inventory namespace's", g.Cluster)
	}
	cr, roles := g.Objects("porchkit-applier-web")
	if cr.Name != "porchkit-applier-web" || len(roles) != 2 || roles[0].Namespace != "porchkit-system" || roles[1].Namespace != "shop" {
		t.Errorf("objects: %v %v", cr, roles)
	}
}

// A package with a Namespace and namespaced objects spans two scopes: the
// status watcher then lists and watches at cluster scope.
func TestApplierRulesSeveralNamespaces(t *testing.T) {
	rev := parse(t,
		"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n", // no namespace: the inventory namespace
	)
	g, err := rbac.ApplierRules(testMapper(), "delivery", rev)
	if err != nil {
		t.Fatal(err)
	}
	if r := ruleFor(g.Cluster, "", "namespaces", "shop"); r == nil || !slices.Equal(r.Verbs, []string{"get", "create", "patch", "delete"}) {
		t.Errorf("the package's Namespace: %+v", g.Cluster)
	}
	if r := ruleFor(g.Cluster, "", "namespaces", "delivery"); r == nil || !slices.Equal(r.Verbs, []string{"create", "patch"}) {
		t.Errorf("the inventory namespace: %+v", g.Cluster)
	}
	for _, res := range []string{"namespaces", "services"} {
		if r := ruleFor(g.Cluster, "", res, ""); r == nil || !slices.Equal(r.Verbs, []string{"list", "watch"}) {
			t.Errorf("cluster-wide list and watch of %s: %+v", res, g.Cluster)
		}
	}
	if r := ruleFor(g.Namespaces["delivery"], "", "services", "web"); r == nil {
		t.Errorf("the Service without a namespace is not granted in the inventory namespace: %+v", g.Namespaces)
	}
	merged := rbac.Merge(g, g)
	if len(merged.Cluster) != len(g.Cluster) || len(merged.Namespaces["delivery"]) != len(g.Namespaces["delivery"]) {
		t.Errorf("merging a grant with itself changed it: %+v", merged)
	}
}

func TestApplierRulesBadResource(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown kind": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
		"no kind":      "apiVersion: v1\nmetadata:\n  name: w\n",
		"no name":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
	} {
		_, err := rbac.ApplierRules(testMapper(), "", parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n", doc))
		var re *rbac.ResourceError
		if !errors.Is(err, rbac.ErrInvalidResource) || !errors.As(err, &re) || re.Index != 1 {
			t.Errorf("%s: %v, want a *ResourceError for resource 1", name, err)
		}
	}
}
