package rbac_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nephoran/porchkit/rbac"
)

var update = flag.Bool("update", false, "rewrite the generated manifests in rbac/manifests")

// TestManifests keeps rbac/manifests equal to what the package generates:
// run "go test ./rbac -run TestManifests -update" after changing a rule.
func TestManifests(t *testing.T) {
	if *update {
		if err := rbac.WriteManifests(rbac.ManifestDir); err != nil {
			t.Fatal(err)
		}
	}
	want := t.TempDir()
	if err := rbac.WriteManifests(want); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		w, err := os.ReadFile(filepath.Join(want, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(rbac.ManifestDir, f.Name()))
		if err != nil {
			t.Fatalf("%v (run: go test ./rbac -run TestManifests -update)", err)
		}
		if !bytes.Equal(got, w) {
			t.Errorf("%s is out of date (run: go test ./rbac -run TestManifests -update):\n%s", f.Name(), w)
		}
	}
	have, err := os.ReadDir(rbac.ManifestDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(have) != len(files) {
		t.Errorf("%s holds %d files, the package generates %d", rbac.ManifestDir, len(have), len(files))
	}
}

func TestUnknownComponent(t *testing.T) {
	_, err := rbac.For("porch-admin")
	var uc *rbac.UnknownComponentError
	if !errors.Is(err, rbac.ErrUnknownComponent) || !errors.As(err, &uc) || uc.Component != "porch-admin" {
		t.Fatalf("For(porch-admin) = %v, want an *UnknownComponentError", err)
	}
	if !strings.Contains(err.Error(), `"porch-admin"`) || !strings.Contains(err.Error(), string(rbac.PorchLifecycle)) {
		t.Errorf("the error names neither the component nor the known ones: %v", err)
	}
	if _, err := rbac.Manifest(""); !errors.Is(err, rbac.ErrUnknownComponent) {
		t.Errorf("Manifest(\"\") = %v, want ErrUnknownComponent", err)
	}
}

func TestEveryRuleHasAReasonAndNoWildcard(t *testing.T) {
	for _, c := range rbac.Components() {
		p, err := rbac.For(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Namespaced)+len(p.Cluster) == 0 {
			t.Errorf("%s has no rules", c)
		}
		for _, r := range append(p.Namespaced, p.Cluster...) {
			if r.Why == "" {
				t.Errorf("%s: rule %v has no reason", c, r.PolicyRule)
			}
			for _, s := range slices.Concat(r.APIGroups, r.Resources, r.Verbs) {
				if strings.Contains(s, "*") {
					t.Errorf("%s: rule %v has a wildcard", c, r.PolicyRule)
				}
			}
		}
	}
}

// TestReaderIsPartOfLifecycle: the lifecycle component can do every
// porch.kpt.dev read the reader can.
func TestReaderIsPartOfLifecycle(t *testing.T) {
	reader, _ := rbac.For(rbac.PorchReader)
	lifecycle, _ := rbac.For(rbac.PorchLifecycle)
	for _, r := range reader.Namespaced {
		if r.APIGroups[0] != rbac.PorchGroup {
			continue
		}
		for _, v := range r.Verbs {
			found := false
			for _, l := range lifecycle.Namespaced {
				found = found || slices.Equal(l.Resources, r.Resources) && slices.Contains(l.Verbs, v)
			}
			if !found {
				t.Errorf("lifecycle cannot %s %v", v, r.Resources)
			}
		}
	}
}

func TestCheckNeedsANamespace(t *testing.T) {
	p, _ := rbac.For(rbac.PorchLifecycle)
	err := rbac.Check(context.Background(), nil, p, "")
	if err == nil || !strings.Contains(err.Error(), "namespace") {
		t.Fatalf("Check without a namespace: %v", err)
	}
}

func TestForReturnsACopy(t *testing.T) {
	p, _ := rbac.For(rbac.PorchLifecycle)
	p.Namespaced[0].Verbs[0] = "escalate"
	again, _ := rbac.For(rbac.PorchLifecycle)
	if again.Namespaced[0].Verbs[0] == "escalate" {
		t.Fatal("changing For's answer changed the rules")
	}
}

func TestWithout(t *testing.T) {
	p, _ := rbac.For(rbac.PorchLifecycle)
	less := rbac.Without(p.Namespaced, 2, "update") // the approval rule's only verb
	if len(less) != len(p.Namespaced)-1 {
		t.Fatalf("removing a rule's only verb leaves %d rules, want %d", len(less), len(p.Namespaced)-1)
	}
	less = rbac.Without(p.Namespaced, 0, "watch")
	if slices.Contains(less[0].Verbs, "watch") || !slices.Contains(p.Namespaced[0].Verbs, "watch") || len(less[0].Verbs) != len(p.Namespaced[0].Verbs)-1 {
		t.Fatalf("Without(0, watch) = %v from %v", less[0].Verbs, p.Namespaced[0].Verbs)
	}
}

func TestObjects(t *testing.T) {
	p, _ := rbac.For(rbac.DirectApplier)
	crs := p.ClusterRoles()
	if len(crs) != 2 || crs[0].Name != "porchkit-direct-applier" || crs[1].Name != "porchkit-direct-applier-cluster" {
		t.Fatalf("ClusterRoles = %v", crs)
	}
	if crs[1].Rules[0].ResourceNames[0] != "porchkit-system" {
		t.Errorf("the namespace rule is not limited to the inventory namespace: %v", crs[1].Rules[0])
	}
	role := p.Role("edge")
	b := rbac.RoleBinding("edge", "Role", role.Name, rbac.ServiceAccount("edge", "applier"))
	if role.Namespace != "edge" || b.RoleRef.Name != role.Name || b.Subjects[0].Name != "applier" || b.Subjects[0].Kind != "ServiceAccount" {
		t.Errorf("role %v, binding %v", role, b)
	}
	if crb := rbac.ClusterRoleBinding(crs[1].Name, b.Subjects...); crb.RoleRef.Kind != "ClusterRole" || crb.Name != crs[1].Name {
		t.Errorf("cluster role binding %v", crb)
	}
}
