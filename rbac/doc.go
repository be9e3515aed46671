// Package rbac says which Kubernetes permissions each part of porchkit
// needs, and nothing more: the rules per component as Go values (For,
// ApplierRules for the direct applier's package-dependent part), the
// same rules as generated ClusterRole manifests (Manifest, kept in the
// manifests directory), helpers that make Roles, ClusterRoles and their
// bindings, and an audit policy for porchkit's requests (AuditPolicy).
//
// The rules are proven on a real local Porch (porch/porchenv): a
// ServiceAccount bound to exactly a component's rules runs the
// component's whole flow through kube-apiserver, which authorises every
// request, aggregated porch.kpt.dev ones included, before it proxies
// them to porch-server; without any one verb of any one rule the flow
// fails at the first step that needs it, with Forbidden and the server's
// reason, and that step changes nothing.
//
// A component's namespaced rules are granted in each namespace it works
// in, by its ClusterRole (RoleName) and a RoleBinding there, so a token
// of one namespace sees nothing of another:
//
//	p, err := rbac.For(rbac.PorchLifecycle)
//	role := p.Role("team-a")
//	binding := rbac.RoleBinding("team-a", "Role", role.Name, rbac.ServiceAccount("team-a", "publisher"))
package rbac
