package rbac_test

import (
	"fmt"
	"strings"

	"github.com/nephoran/porchkit/rbac"
)

// The rules of the component that authors and approves package
// revisions, and the Role and RoleBinding that grant them to a
// ServiceAccount in one namespace.
func ExampleFor() {
	p, err := rbac.For(rbac.PorchLifecycle)
	if err != nil {
		panic(err)
	}
	for _, r := range p.Namespaced {
		fmt.Printf("%s %s: %s\n", r.APIGroups[0], r.Resources[0], strings.Join(r.Verbs, ","))
	}
	role := p.Role("team-a")
	binding := rbac.RoleBinding("team-a", "Role", role.Name, rbac.ServiceAccount("team-a", "publisher"))
	fmt.Println(role.Kind, role.Namespace+"/"+role.Name, "bound to", binding.Subjects[0].Name)
	// Output:
	// porch.kpt.dev packagerevisions: get,list,watch,create,update,delete
	// porch.kpt.dev packagerevisionresources: get,update
	// porch.kpt.dev packagerevisions/approval: update
	// Role team-a/porchkit-porch-lifecycle bound to publisher
}

func ExampleFor_unknown() {
	_, err := rbac.For("porch-admin")
	fmt.Println(err)
	// Output:
	// rbac: unknown component "porch-admin" (known: direct-applier, gitops-backend, porch-lifecycle, porch-reader, propagator-state, repository-registration)
}

// The audit policy's levels, first match wins.
func ExampleAuditRules() {
	for _, r := range rbac.AuditRules() {
		fmt.Println(r.Level)
	}
	// Output:
	// None
	// None
	// Metadata
	// RequestResponse
	// Request
	// RequestResponse
	// Metadata
	// Metadata
}
