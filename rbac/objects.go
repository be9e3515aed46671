package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ComponentLabel marks the RBAC objects made for a component.
const ComponentLabel = "porchkit.io/component"

// RoleName is the name of a component's ClusterRole for its namespaced
// rules (bind it with a RoleBinding in each namespace) and of the Role
// Permissions.Role makes: "porchkit-<component>".
func RoleName(c Component) string { return "porchkit-" + string(c) }

// ClusterRoleName is the name of a component's ClusterRole for its
// cluster rules (bind it with a ClusterRoleBinding):
// "porchkit-<component>-cluster".
func ClusterRoleName(c Component) string { return RoleName(c) + "-cluster" }

func labels(c Component) map[string]string {
	return map[string]string{"app.kubernetes.io/part-of": "porchkit", ComponentLabel: string(c)}
}

// ClusterRole returns a ClusterRole named name with rules rs.
func ClusterRole(name string, c Component, rs []Rule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels(c)},
		Rules:      PolicyRules(rs),
	}
}

// Role returns a Role named name in namespace with rules rs.
func Role(namespace, name string, c Component, rs []Rule) *rbacv1.Role {
	return &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels(c)},
		Rules:      PolicyRules(rs),
	}
}

// ClusterRoles returns the component's ClusterRoles: RoleName for the
// namespaced rules (bound per namespace) and, when there are cluster
// rules, ClusterRoleName for them.
func (p Permissions) ClusterRoles() []*rbacv1.ClusterRole {
	var out []*rbacv1.ClusterRole
	if len(p.Namespaced) > 0 {
		out = append(out, ClusterRole(RoleName(p.Component), p.Component, p.Namespaced))
	}
	if len(p.Cluster) > 0 {
		out = append(out, ClusterRole(ClusterRoleName(p.Component), p.Component, p.Cluster))
	}
	return out
}

// Role returns the component's namespaced rules as a Role in namespace.
func (p Permissions) Role(namespace string) *rbacv1.Role {
	return Role(namespace, RoleName(p.Component), p.Component, p.Namespaced)
}

// ServiceAccount returns the RBAC subject of a ServiceAccount.
func ServiceAccount(namespace, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}
}

// RoleBinding binds roleRef ("Role" or "ClusterRole" named roleName) to
// subjects in namespace; the binding has the role's name.
func RoleBinding(namespace, roleKind, roleName string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: roleName, Namespace: namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: roleKind, Name: roleName},
		Subjects:   subjects,
	}
}

// ClusterRoleBinding binds the ClusterRole roleName to subjects in every
// namespace; the binding has the role's name.
func ClusterRoleBinding(roleName string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: roleName},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName},
		Subjects:   subjects,
	}
}
