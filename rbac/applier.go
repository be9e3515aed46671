package rbac

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster/applier"
)

// ApplierGrant is what multicluster/applier needs on one workload
// cluster: Cluster rules (for a ClusterRole and ClusterRoleBinding) and,
// per namespace, the rules of a Role there.
type ApplierGrant struct {
	Cluster    []Rule
	Namespaces map[string][]Rule
}

// ErrInvalidResource: a package resource has no apiVersion, kind or name,
// or the cluster does not serve its kind.
var ErrInvalidResource = errors.New("rbac: invalid package resource")

// ResourceError names the package resource ApplierRules could not
// derive rules for; it wraps ErrInvalidResource and the cause.
type ResourceError struct {
	// Index is the resource's position in its revision; Kind and Name are
	// as far as they could be read.
	Index      int
	Kind, Name string
	Err        error
}

// Error implements error.
func (e *ResourceError) Error() string {
	return fmt.Sprintf("%v: resource %d (%s %q): %v", ErrInvalidResource, e.Index, e.Kind, e.Name, e.Err)
}

// Unwrap returns ErrInvalidResource and the cause.
func (e *ResourceError) Unwrap() []error { return []error{ErrInvalidResource, e.Err} }

// Why of the rules ApplierRules derives.
const (
	whyApply   = "server-side apply of the package's objects (create when missing, patch), get (inventory policy, Observe), delete (prune, Remove)"
	whyWatch   = "list, watch: cli-utils' kstatus status watcher, at cluster scope when the package spans several namespaces"
	whyReaders = "list: kstatus reads a Deployment's ReplicaSets and the Pods of ReplicaSets and StatefulSets"
)

// ApplierRules returns the rules multicluster/applier needs to deliver
// one package to a cluster and to prune and remove it: the fixed
// DirectApplier rules for its inventory namespace (namespace, "" for
// applier.DefaultNamespace) and, for each object of the given revisions
// of the package (each a revision's resources, as in
// multicluster.Revision.Resources; pass every revision it delivers or
// prunes), exactly that object's verbs, restricted to its name. mapper
// (the cluster's, from discovery) tells each kind's resource and scope;
// namespaced objects that name no namespace go to the inventory
// namespace, as the applier does. A resource that cannot be mapped is a
// *ResourceError.
func ApplierRules(mapper meta.RESTMapper, namespace string, revisions ...[]*yaml.RNode) (*ApplierGrant, error) {
	if namespace == "" {
		namespace = applier.DefaultNamespace
	}
	g := newAtoms()
	for _, r := range fixed[DirectApplier].Namespaced {
		g.addRule(namespace, r)
	}
	// The fixed namespace rule, for the configured namespace.
	nsRule := cloneRules(fixed[DirectApplier].Cluster)[0]
	nsRule.ResourceNames = []string{namespace}
	g.addRule("", nsRule)

	type target struct {
		gr        schema.GroupResource
		namespace string
		kind      string
	}
	var targets []target
	spans := map[string]bool{}
	for _, rev := range revisions {
		for i, n := range rev {
			kind, name := n.GetKind(), n.GetName()
			gv, err := schema.ParseGroupVersion(n.GetApiVersion())
			switch {
			case err != nil:
				return nil, &ResourceError{Index: i, Kind: kind, Name: name, Err: err}
			case n.GetApiVersion() == "" || kind == "":
				return nil, &ResourceError{Index: i, Kind: kind, Name: name, Err: errors.New("apiVersion and kind are required")}
			case name == "":
				return nil, &ResourceError{Index: i, Kind: kind, Name: name, Err: errors.New("metadata.name is required")}
			}
			mapping, err := mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: kind}, gv.Version)
			if err != nil {
				return nil, &ResourceError{Index: i, Kind: kind, Name: name, Err: err}
			}
			ns := ""
			if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
				ns = n.GetNamespace()
				if ns == "" {
					ns = namespace
				}
			}
			spans[ns] = true
			gr := mapping.Resource.GroupResource()
			for _, v := range []string{"get", "create", "patch", "delete"} {
				g.add(ns, gr.Group, gr.Resource, name, v, whyApply)
			}
			targets = append(targets, target{gr: gr, namespace: ns, kind: kind})
		}
	}
	root := len(spans) > 1
	for _, t := range targets {
		ns := t.namespace
		if root {
			ns = ""
		}
		for _, v := range []string{"list", "watch"} {
			g.add(ns, t.gr.Group, t.gr.Resource, "", v, whyWatch)
		}
		if t.namespace == "" || t.gr.Group != "apps" {
			continue
		}
		switch t.kind {
		case "Deployment":
			g.add(t.namespace, "apps", "replicasets", "", "list", whyReaders)
			g.add(t.namespace, "", "pods", "", "list", whyReaders)
		case "ReplicaSet", "StatefulSet":
			g.add(t.namespace, "", "pods", "", "list", whyReaders)
		}
	}
	out := &ApplierGrant{Cluster: g.rules(""), Namespaces: map[string][]Rule{}}
	for ns := range g.namespaces() {
		if ns != "" {
			out.Namespaces[ns] = g.rules(ns)
		}
	}
	return out, nil
}

// Merge returns the union of grants, for a cluster that receives several
// packages.
func Merge(grants ...*ApplierGrant) *ApplierGrant {
	g := newAtoms()
	for _, gr := range grants {
		for _, r := range gr.Cluster {
			g.addRule("", r)
		}
		for ns, rs := range gr.Namespaces {
			for _, r := range rs {
				g.addRule(ns, r)
			}
		}
	}
	out := &ApplierGrant{Cluster: g.rules(""), Namespaces: map[string][]Rule{}}
	for ns := range g.namespaces() {
		if ns != "" {
			out.Namespaces[ns] = g.rules(ns)
		}
	}
	return out
}

// atoms collects (namespace, group, resource, name, verb) grants and
// folds them back into few rules.
type atoms struct {
	// names[ns, group, resource][name] is the verb set; name "" is any.
	names map[[3]string]map[string]map[string]bool
	why   map[[3]string][]string
}

func newAtoms() *atoms {
	return &atoms{names: map[[3]string]map[string]map[string]bool{}, why: map[[3]string][]string{}}
}

func (a *atoms) add(ns, group, resource, name, verb, why string) {
	k := [3]string{ns, group, resource}
	if a.names[k] == nil {
		a.names[k] = map[string]map[string]bool{}
	}
	if a.names[k][name] == nil {
		a.names[k][name] = map[string]bool{}
	}
	a.names[k][name][verb] = true
	if why != "" && !slices.Contains(a.why[k], why) {
		a.why[k] = append(a.why[k], why)
	}
}

func (a *atoms) addRule(ns string, r Rule) {
	names := r.ResourceNames
	if len(names) == 0 {
		names = []string{""}
	}
	for _, grp := range r.APIGroups {
		for _, res := range r.Resources {
			for _, n := range names {
				for _, v := range r.Verbs {
					a.add(ns, grp, res, n, v, r.Why)
				}
			}
		}
	}
}

func (a *atoms) namespaces() map[string]bool {
	out := map[string]bool{}
	for k := range a.names {
		out[k[0]] = true
	}
	return out
}

// rules folds the grants of namespace ns: verbs on any name absorb the
// same verbs on single names, names with equal verbs share a rule, and
// resources of one group with equal names and verbs share one too.
func (a *atoms) rules(ns string) []Rule {
	type key struct{ group, names, verbs string }
	merged := map[key]*Rule{}
	for k, byName := range a.names {
		if k[0] != ns {
			continue
		}
		anyName := byName[""]
		verbsOf := map[string][]string{} // verbs (joined) -> names
		for name, vs := range byName {
			var verbs []string
			for v := range vs {
				if name == "" || !anyName[v] {
					verbs = append(verbs, v)
				}
			}
			if len(verbs) == 0 {
				continue
			}
			slices.SortFunc(verbs, compareVerbs)
			j := strings.Join(verbs, ",")
			verbsOf[j] = append(verbsOf[j], name)
		}
		for verbs, names := range verbsOf {
			slices.Sort(names)
			if names[0] == "" {
				names = nil
			}
			mk := key{k[1], strings.Join(names, ","), verbs}
			r := merged[mk]
			if r == nil {
				r = &Rule{}
				r.APIGroups, r.ResourceNames, r.Verbs = []string{k[1]}, names, strings.Split(verbs, ",")
				merged[mk] = r
			}
			r.Resources = append(r.Resources, k[2])
			for _, w := range a.why[k] {
				if !strings.Contains(r.Why, w) {
					r.Why = strings.TrimPrefix(r.Why+"; "+w, "; ")
				}
			}
		}
	}
	keys := slices.SortedFunc(maps.Keys(merged), func(x, y key) int {
		return strings.Compare(x.group+"\x00"+x.names+"\x00"+x.verbs, y.group+"\x00"+y.names+"\x00"+y.verbs)
	})
	out := make([]Rule, 0, len(keys))
	for _, k := range keys {
		r := merged[k]
		slices.Sort(r.Resources)
		out = append(out, *r)
	}
	return out
}

// verbOrder is the order verbs are written in: reads, then writes.
var verbOrder = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

func compareVerbs(x, y string) int {
	ix, iy := slices.Index(verbOrder, x), slices.Index(verbOrder, y)
	if ix < 0 {
		ix = len(verbOrder)
	}
	if iy < 0 {
		iy = len(verbOrder)
	}
	if ix != iy {
		return ix - iy
	}
	return strings.Compare(x, y)
}

// Objects returns the grant as RBAC objects named name: a ClusterRole
// for the cluster rules and a Role per namespace, sorted by namespace.
func (g *ApplierGrant) Objects(name string) (*rbacv1.ClusterRole, []*rbacv1.Role) {
	var roles []*rbacv1.Role
	for _, ns := range slices.Sorted(maps.Keys(g.Namespaces)) {
		roles = append(roles, Role(ns, name, DirectApplier, g.Namespaces[ns]))
	}
	return ClusterRole(name, DirectApplier, g.Cluster), roles
}
