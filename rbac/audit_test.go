package rbac_test

import (
	"testing"

	"k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/audit/policy"
	authuser "k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/nephoran/porchkit/rbac"
)

// TestAuditPolicyLevels loads the generated policy with the API server's
// own loader (which validates it) and evaluates it as the server does.
func TestAuditPolicyLevels(t *testing.T) {
	b, err := rbac.AuditPolicyYAML()
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.LoadPolicyFromBytes(b)
	if err != nil {
		t.Fatalf("kube-apiserver would refuse the policy: %v", err)
	}
	eval := policy.NewPolicyRuleEvaluator(p)
	who := &authuser.DefaultInfo{Name: "system:serviceaccount:team-a:publisher"}
	res := func(verb, group, resource, sub string) authorizer.Attributes {
		return authorizer.AttributesRecord{User: who, Verb: verb, APIGroup: group, Resource: resource, Subresource: sub,
			Namespace: "team-a", Name: "x", ResourceRequest: true}
	}
	for _, c := range []struct {
		name  string
		attrs authorizer.Attributes
		want  audit.Level
	}{
		{"approval", res("update", rbac.PorchGroup, "packagerevisions", "approval"), audit.LevelRequestResponse},
		{"propose", res("update", rbac.PorchGroup, "packagerevisions", ""), audit.LevelRequestResponse},
		{"init", res("create", rbac.PorchGroup, "packagerevisions", ""), audit.LevelRequestResponse},
		{"delete", res("delete", rbac.PorchGroup, "packagerevisions", ""), audit.LevelRequestResponse},
		{"push", res("update", rbac.PorchGroup, "packagerevisionresources", ""), audit.LevelRequest},
		{"register", res("create", rbac.PorchConfigGroup, "repositories", ""), audit.LevelRequestResponse},
		{"get revision", res("get", rbac.PorchGroup, "packagerevisions", ""), audit.LevelMetadata},
		{"watch revisions", res("watch", rbac.PorchGroup, "packagerevisions", ""), audit.LevelMetadata},
		{"pull", res("get", rbac.PorchGroup, "packagerevisionresources", ""), audit.LevelMetadata},
		{"list repositories", res("list", rbac.PorchConfigGroup, "repositories", ""), audit.LevelMetadata},
		{"secret write", res("create", "", "secrets", ""), audit.LevelMetadata},
		{"secret read", res("get", "", "secrets", ""), audit.LevelMetadata},
		{"token request", res("create", "", "serviceaccounts", "token"), audit.LevelMetadata},
		{"rollout state", res("update", "", "configmaps", ""), audit.LevelMetadata},
		{"lease renewal", res("update", rbac.CoordinationGroup, "leases", ""), audit.LevelNone},
		{"event", res("create", "", "events", ""), audit.LevelNone},
		{"applied deployment", res("patch", "apps", "deployments", ""), audit.LevelMetadata},
		{"readiness probe", authorizer.AttributesRecord{User: who, Verb: "get", Path: "/readyz"}, audit.LevelNone},
		{"discovery", authorizer.AttributesRecord{User: who, Verb: "get", Path: "/apis/porch.kpt.dev/v1alpha1"}, audit.LevelNone},
		{"metrics", authorizer.AttributesRecord{User: who, Verb: "get", Path: "/metrics"}, audit.LevelMetadata},
	} {
		got := eval.EvaluatePolicyRule(c.attrs)
		if got.Level != c.want {
			t.Errorf("%s: level %s, want %s", c.name, got.Level, c.want)
		}
		if got.Level.GreaterOrEqual(audit.LevelRequest) && !got.OmitManagedFields {
			t.Errorf("%s: managed fields are recorded", c.name)
		}
	}
	if len(p.OmitStages) != 1 || p.OmitStages[0] != audit.StageRequestReceived {
		t.Errorf("omitted stages %v, want RequestReceived", p.OmitStages)
	}
}
