package porch_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// newFakeRepo returns the package revisions of namespace default, through
// a client with opts, on a fake with one registered repository
// "blueprints".
func newFakeRepo(t *testing.T, opts porch.Options) (porch.PackageRevisions, *fake.Server) {
	t.Helper()
	return newFakeRepoOn(t, fake.NewClientBuilder().WithClientOptions(opts))
}

// newFakeRepoOn is newFakeRepo on the fake and client b builds.
func newFakeRepoOn(t *testing.T, b *fake.ClientBuilder) (porch.PackageRevisions, *fake.Server) {
	t.Helper()
	c, f := b.Build(t)
	ctx := context.Background()
	if _, err := c.Repositories("default").Register(ctx, "blueprints", "http://git.invalid/blueprints.git"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Repositories("default").WaitReady(ctx, "blueprints"); err != nil {
		t.Fatal(err)
	}
	return c.PackageRevisions("default"), f
}

type auditLog struct {
	mu      sync.Mutex
	records []porch.AuditRecord
}

func (a *auditLog) Record(_ context.Context, r porch.AuditRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.records = append(a.records, r)
	return nil
}

func TestPromoteWalksToPublishedAndAudits(t *testing.T) {
	prs, _ := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	audit := &auditLog{}
	m := porch.NewLifecycleManager(prs, porch.LifecycleOptions{AuditSink: audit, Actor: "alice"})
	pr, err := m.Promote(ctx, d.Name, porchapi.PackageRevisionLifecyclePublished)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Spec.Lifecycle != porchapi.PackageRevisionLifecyclePublished || pr.Spec.Revision != 1 {
		t.Fatalf("promoted to %s revision %d", pr.Spec.Lifecycle, pr.Spec.Revision)
	}
	if len(audit.records) != 2 {
		t.Fatalf("%d audit records, want 2 (propose, approve)", len(audit.records))
	}
	for i, want := range []porchapi.PackageRevisionLifecycle{porchapi.PackageRevisionLifecycleProposed, porchapi.PackageRevisionLifecyclePublished} {
		r := audit.records[i]
		if r.To != want || r.Actor != "alice" || !r.Allowed || r.Time.IsZero() || r.Name != d.Name {
			t.Errorf("record %d = %+v", i, r)
		}
	}
}

func TestPromoteRefusesBackwardsBeforeCallingPorch(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	d, _ := prs.Init(ctx, "blueprints", "app", "v1")
	if _, err := prs.Propose(ctx, d.Name); err != nil {
		t.Fatal(err)
	}
	m := porch.NewLifecycleManager(prs, porch.LifecycleOptions{AuditSink: &auditLog{}})
	before := f.Requests()
	_, err := m.Promote(ctx, d.Name, porchapi.PackageRevisionLifecycleDraft)
	var te *porch.TransitionError
	if !errors.As(err, &te) || !errors.Is(err, porch.ErrInvalidTransition) {
		t.Fatalf("err = %v, want a TransitionError", err)
	}
	if sent := f.Requests() - before; sent > 1 {
		t.Fatalf("%d requests for a refused transition, want only the read", sent)
	}
}

func TestApprovalPolicies(t *testing.T) {
	ctx := context.Background()
	cel, err := porch.CELPolicy(`revision.spec.packageName.startsWith("team-a/") && resources.all(r, r.kind != "Secret")`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		policy  porch.Policy
		pkg     string
		prepare func(t *testing.T, prs porch.PackageRevisions, name string)
		allowed bool
	}{
		{name: "two approvers, one recorded", policy: porch.RequireApprovers(2), pkg: "app",
			prepare: annotate("alice"), allowed: false},
		{name: "two approvers, two recorded", policy: porch.RequireApprovers(2), pkg: "app",
			prepare: annotate("alice, bob"), allowed: true},
		{name: "two approvers, one repeated", policy: porch.RequireApprovers(2), pkg: "app",
			prepare: annotate("alice,alice"), allowed: false},
		{name: "cel allows", policy: cel, pkg: "team-a/app", allowed: true},
		{name: "cel refuses wrong package", policy: cel, pkg: "team-b/app", allowed: false},
		{name: "cel refuses a secret", policy: cel, pkg: "team-a/app", prepare: addSecret, allowed: false},
		{name: "condition missing", policy: porch.RequireCondition("validated"), pkg: "app", allowed: false},
		{name: "condition true", policy: porch.RequireCondition("validated"), pkg: "app", prepare: condition("validated"), allowed: true},
		{name: "initial auto-approved", policy: porch.AutoApproveInitial(), pkg: "app", allowed: true},
		{name: "all-of refuses on one", policy: porch.AllOf(porch.AutoApproveInitial(), porch.RequireApprovers(1)), pkg: "app", allowed: false},
		{name: "any-of allows on one", policy: porch.AnyOf(porch.RequireApprovers(1), porch.AutoApproveInitial()), pkg: "app", allowed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prs, _ := newFakeRepo(t, porch.Options{})
			d, err := prs.Init(ctx, "blueprints", tc.pkg, "v1")
			if err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				tc.prepare(t, prs, d.Name)
			}
			audit := &auditLog{}
			m := porch.NewLifecycleManager(prs, porch.LifecycleOptions{Policy: tc.policy, AuditSink: audit})
			pr, err := m.Promote(ctx, d.Name, porchapi.PackageRevisionLifecyclePublished)
			last := audit.records[len(audit.records)-1]
			if tc.allowed {
				if err != nil || pr.Spec.Lifecycle != porchapi.PackageRevisionLifecyclePublished {
					t.Fatalf("want published, got %v", err)
				}
				if !last.Allowed || last.Policy == "" || last.Reason == "" {
					t.Fatalf("audit = %+v", last)
				}
				return
			}
			var de *porch.DeniedError
			if !errors.As(err, &de) || !errors.Is(err, porch.ErrApprovalDenied) {
				t.Fatalf("err = %v, want DeniedError", err)
			}
			if last.Allowed || last.Reason == "" {
				t.Fatalf("audit of a denial = %+v", last)
			}
			got, _ := prs.Get(ctx, d.Name)
			if got.Spec.Lifecycle != porchapi.PackageRevisionLifecycleProposed {
				t.Fatalf("denied revision is %s, want it left Proposed", got.Spec.Lifecycle)
			}
		})
	}
}

func TestAutoApproveInitialRefusesSecondRevision(t *testing.T) {
	prs, _ := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	m := porch.NewLifecycleManager(prs, porch.LifecycleOptions{Policy: porch.AutoApproveInitial(), AuditSink: &auditLog{}})
	v1, _ := prs.Init(ctx, "blueprints", "app", "v1")
	if _, err := m.Promote(ctx, v1.Name, porchapi.PackageRevisionLifecyclePublished); err != nil {
		t.Fatal(err)
	}
	v2, err := prs.Copy(ctx, v1.Name, "v2")
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Promote(ctx, v2.Name, porchapi.PackageRevisionLifecyclePublished)
	if !errors.Is(err, porch.ErrApprovalDenied) || !strings.Contains(err.Error(), "revision 1") {
		t.Fatalf("second revision: %v", err)
	}
}

func TestAuditFailureStopsTransition(t *testing.T) {
	prs, _ := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	d, _ := prs.Init(ctx, "blueprints", "app", "v1")
	boom := errors.New("audit store down")
	m := porch.NewLifecycleManager(prs, porch.LifecycleOptions{AuditSink: porch.AuditFunc(func(context.Context, porch.AuditRecord) error { return boom })})
	if _, err := m.Promote(ctx, d.Name, porchapi.PackageRevisionLifecycleProposed); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	got, _ := prs.Get(ctx, d.Name)
	if got.Spec.Lifecycle != porchapi.PackageRevisionLifecycleDraft {
		t.Fatalf("an unaudited transition happened: %s", got.Spec.Lifecycle)
	}
}

func TestCELPolicyCompileErrors(t *testing.T) {
	for _, expr := range []string{`revision.spec.`, `"a string"`, `unknown_var == 1`} {
		if _, err := porch.CELPolicy(expr); !errors.Is(err, porch.ErrInvalid) {
			t.Errorf("CELPolicy(%q) = %v, want ErrInvalid", expr, err)
		}
	}
}

func annotate(approvers string) func(t *testing.T, prs porch.PackageRevisions, name string) {
	return func(t *testing.T, prs porch.PackageRevisions, name string) {
		if _, err := prs.UpdateMetadata(context.Background(), name, func(pr *porchapi.PackageRevision) error {
			pr.Annotations = map[string]string{porch.ApproversAnnotation: approvers}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func condition(ctype string) func(t *testing.T, prs porch.PackageRevisions, name string) {
	return func(t *testing.T, prs porch.PackageRevisions, name string) {
		if _, err := prs.UpdateMetadata(context.Background(), name, func(pr *porchapi.PackageRevision) error {
			pr.Status.Conditions = []porchapi.Condition{{Type: ctype, Status: porchapi.ConditionTrue, Message: "ok"}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func addSecret(t *testing.T, prs porch.PackageRevisions, name string) {
	if _, err := prs.UpdateResources(context.Background(), name, func(p *porch.Package) error {
		p.Resources["secret.yaml"] = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
