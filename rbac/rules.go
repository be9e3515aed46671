package rbac

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/nephoran/porchkit/multicluster/applier"
)

// Component names one part of porchkit that talks to a Kubernetes API
// server, and so one set of permissions.
type Component string

// The components with fixed rules. The direct applier's rules on a
// workload cluster also depend on the package it applies: see
// ApplierRules.
const (
	// PorchReader reads Porch: porch.Client's PackageRevisionReader, Pull,
	// and Repositories' Get, List and WaitReady.
	PorchReader Component = "porch-reader"
	// PorchLifecycle authors and approves package revisions: everything
	// porch.Client's PackageRevisions does (init, clone, copy, upgrade,
	// push, propose, approve, reject, propose-delete, delete, metadata).
	PorchLifecycle Component = "porch-lifecycle"
	// RepositoryRegistration registers Porch repositories and their
	// credentials: porch.Client's Repositories.
	RepositoryRegistration Component = "repository-registration"
	// PropagatorState is the Propagator's state on the management cluster:
	// multicluster.ConfigMapStore and the Lease that makes one replica the
	// owner of a rollout.
	PropagatorState Component = "propagator-state"
	// GitOpsBackend is multicluster/gitops: it publishes a revision per
	// cluster in the cluster's Porch deployment repository.
	GitOpsBackend Component = "gitops-backend"
	// DirectApplier is the fixed part of multicluster/applier's rules on a
	// workload cluster: its inventory namespace and ConfigMaps. Add
	// ApplierRules for the package's own resources.
	DirectApplier Component = "direct-applier"
)

// API groups porchkit uses.
const (
	// PorchGroup serves package revisions (aggregated by kube-apiserver).
	PorchGroup = "porch.kpt.dev"
	// PorchConfigGroup serves Repository objects (a CRD).
	PorchConfigGroup = "config.porch.kpt.dev"
	// CoordinationGroup serves Leases.
	CoordinationGroup = "coordination.k8s.io"
)

// Rule is one RBAC rule and the reason porchkit needs it.
type Rule struct {
	rbacv1.PolicyRule
	// Why names the calls that need the rule.
	Why string
}

// Permissions are the rules of one component: Namespaced ones are
// granted in each namespace the component works in (a Role there, or
// the component's ClusterRole bound by a RoleBinding there); Cluster ones
// are about cluster-scoped resources and need a ClusterRoleBinding.
type Permissions struct {
	Component  Component
	Namespaced []Rule
	Cluster    []Rule
}

// ErrUnknownComponent: no component of that name has rules.
var ErrUnknownComponent = errors.New("rbac: unknown component")

// UnknownComponentError names the component asked for and the known
// ones; it wraps ErrUnknownComponent.
type UnknownComponentError struct {
	Component Component
}

// Error implements error.
func (e *UnknownComponentError) Error() string {
	known := make([]string, 0, len(fixed))
	for _, c := range Components() {
		known = append(known, string(c))
	}
	return fmt.Sprintf("%v %q (known: %s)", ErrUnknownComponent, string(e.Component), strings.Join(known, ", "))
}

// Unwrap makes errors.Is(err, ErrUnknownComponent) true.
func (e *UnknownComponentError) Unwrap() error { return ErrUnknownComponent }

func rule(group string, resources []string, verbs []string, why string) Rule {
	return Rule{PolicyRule: rbacv1.PolicyRule{APIGroups: []string{group}, Resources: resources, Verbs: verbs}, Why: why}
}

var (
	revisionReads = rule(PorchGroup, []string{"packagerevisions"}, []string{"get", "list", "watch"},
		"Get, List and every verb's read of the current lifecycle; watch: Watch and the read cache")
	resourceReads = rule(PorchGroup, []string{"packagerevisionresources"}, []string{"get"},
		"Pull, and UpdateResources' read of the files")
	repositoryReads = rule(PorchConfigGroup, []string{"repositories"}, []string{"get", "list"},
		"Repositories.Get, WaitReady and List")
)

// fixed holds every component's rules; the order of rules is the order
// of the generated YAML.
var fixed = map[Component]Permissions{
	PorchReader: {Namespaced: []Rule{revisionReads, resourceReads, repositoryReads}},
	PorchLifecycle: {Namespaced: []Rule{
		rule(PorchGroup, []string{"packagerevisions"}, []string{"get", "list", "watch", "create", "update", "delete"},
			"reads as porch-reader; create: Init, Clone, Copy, Upgrade; update: Propose, ProposeDelete, UpdateMetadata; delete: Delete"),
		rule(PorchGroup, []string{"packagerevisionresources"}, []string{"get", "update"},
			"get: Pull; update: Push and UpdateResources"),
		rule(PorchGroup, []string{"packagerevisions/approval"}, []string{"update"},
			"Approve, and Reject of a Proposed revision: Porch moves a Proposed revision on (to Published) or back (to Draft) only through the approval subresource"),
	}},
	RepositoryRegistration: {Namespaced: []Rule{
		rule(PorchConfigGroup, []string{"repositories"}, []string{"get", "list", "create", "patch", "delete"},
			"get: Get, WaitReady, Unregister; list: List; create: Register; patch: Refresh; delete: Unregister"),
		rule("", []string{"secrets"}, []string{"create", "delete"},
			"create: Register with BasicAuth (the <name>-auth Secret); delete: Unregister, and Register's clean-up when the Repository is refused"),
	}},
	PropagatorState: {Namespaced: []Rule{
		rule("", []string{"configmaps"}, []string{"get", "create", "update"},
			"ConfigMapStore: get: Load; update, then create when missing: Save"),
		rule(CoordinationGroup, []string{"leases"}, []string{"get", "create", "update"},
			"rollout ownership by Lease: get to read the holder, create to take a free rollout, update to renew, take over or release"),
	}},
	GitOpsBackend: {Namespaced: []Rule{
		rule(PorchGroup, []string{"packagerevisions"}, []string{"get", "list", "watch", "create", "update", "delete"},
			"list: the cluster's revisions of the package; create: Init, Clone or Copy of the next revision; update: Propose, ProposeDelete; delete: Remove and a failed delivery's draft"),
		rule(PorchGroup, []string{"packagerevisionresources"}, []string{"get", "update"},
			"get: Current and Get (Pull); update: the delivered resources (UpdateResources)"),
		rule(PorchGroup, []string{"packagerevisions/approval"}, []string{"update"},
			"Approve publishes each delivered revision"),
	}},
	DirectApplier: {
		Namespaced: []Rule{
			rule("", []string{"configmaps"}, []string{"get", "list", "create", "update", "patch", "delete"},
				"cli-utils inventory: list by label, get, create, update, delete on Remove; revision history: get, server-side apply (patch, create), delete on Remove"),
		},
		Cluster: []Rule{{
			PolicyRule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"},
				ResourceNames: []string{applier.DefaultNamespace}, Verbs: []string{"create", "patch"}},
			Why: "server-side apply of the inventory namespace (patch, and create when it is missing); ApplierRules names the configured namespace",
		}},
	},
}

// Components lists the components with fixed rules, sorted.
func Components() []Component {
	out := make([]Component, 0, len(fixed))
	for c := range fixed {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// For returns the rules of component c, a copy the caller may change. An
// unknown component is an *UnknownComponentError.
func For(c Component) (Permissions, error) {
	p, ok := fixed[c]
	if !ok {
		return Permissions{}, &UnknownComponentError{Component: c}
	}
	return Permissions{Component: c, Namespaced: cloneRules(p.Namespaced), Cluster: cloneRules(p.Cluster)}, nil
}

func cloneRules(rs []Rule) []Rule {
	if rs == nil {
		return nil
	}
	out := make([]Rule, len(rs))
	for i, r := range rs {
		out[i] = Rule{PolicyRule: *r.DeepCopy(), Why: r.Why}
	}
	return out
}

// PolicyRules returns the RBAC rules of rs, without the reasons.
func PolicyRules(rs []Rule) []rbacv1.PolicyRule {
	out := make([]rbacv1.PolicyRule, len(rs))
	for i, r := range rs {
		out[i] = *r.DeepCopy()
	}
	return out
}

// Without returns rs with one verb of one rule taken away (the whole rule
// when it had no other verb): what a test of least privilege runs with,
// to see the step that needs the verb fail. An index out of range
// removes nothing.
func Without(rs []Rule, index int, verb string) []Rule {
	out := cloneRules(rs)
	if index < 0 || index >= len(out) {
		return out
	}
	out[index].Verbs = slices.DeleteFunc(out[index].Verbs, func(v string) bool { return v == verb })
	if len(out[index].Verbs) == 0 {
		out = slices.Delete(out, index, index+1)
	}
	return out
}
