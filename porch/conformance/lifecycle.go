package conformance

import (
	"errors"
	"testing"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"

	"github.com/nephoran/porchkit/porch"
)

func lifecycleBehaviours() []behaviour {
	return []behaviour{
		{"lifecycle/propose", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			pr, err := s.prs.Propose(s.ctx, d.Name)
			if err != nil {
				t.Fatal(err)
			}
			wantLifecycle(t, pr, proposed)
			wantLifecycle(t, s.get(t, d.Name), proposed)
		}},
		{"lifecycle/approve-numbers-revision-and-labels-latest", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			pr := s.publish(t, d.Name)
			wantLifecycle(t, pr, published)
			got := s.get(t, d.Name)
			if got.Spec.Revision != 1 || !isLatest(got) {
				t.Fatalf("revision %d latest %v, want 1 and latest", got.Spec.Revision, isLatest(got))
			}
			if got.Name != d.Name {
				t.Fatalf("publishing renamed %s to %s", d.Name, got.Name)
			}
		}},
		{"lifecycle/second-publish-increments-and-moves-latest", func(t *testing.T, s *suite) {
			v1, v2 := s.twoPublished(t, s.pkgName(t, ""))
			a, b := s.get(t, v1.Name), s.get(t, v2.Name)
			if b.Spec.Revision != 2 || !isLatest(b) || isLatest(a) {
				t.Fatalf("v2 revision %d latest %v; v1 latest %v", b.Spec.Revision, isLatest(b), isLatest(a))
			}
		}},
		{"lifecycle/publish-creates-branch-placeholder", func(t *testing.T, s *suite) {
			pkg := s.pkgName(t, "")
			v1 := s.init(t, pkg, "v1")
			s.publish(t, v1.Name)
			ph := s.get(t, porch.RevisionName(s.repo, pkg, "main"))
			wantLifecycle(t, ph, published)
			if ph.Spec.Revision != -1 || ph.Spec.WorkspaceName != "main" || isLatest(ph) {
				t.Fatalf("placeholder revision %d workspace %q latest %v", ph.Spec.Revision, ph.Spec.WorkspaceName, isLatest(ph))
			}
			_, err := s.prs.Init(s.ctx, s.repo, pkg, "main")
			wantErr(t, err, porch.ErrAlreadyExists, "a draft in the placeholder's workspace")
		}},
		{"lifecycle/approve-draft-refused-unchanged", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			_, err := s.prs.Approve(s.ctx, d.Name)
			wantErr(t, err, porch.ErrInvalidTransition, "approve a draft")
			var te *porch.TransitionError
			if !errors.As(err, &te) || te.From != draft || te.To != published {
				t.Fatalf("error %v is not a TransitionError Draft->Published", err)
			}
			got := s.get(t, d.Name)
			wantLifecycle(t, got, draft)
			if got.ResourceVersion != d.ResourceVersion {
				t.Fatal("a refused approve changed the revision")
			}
		}},
		{"lifecycle/propose-published-refused", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			s.publish(t, d.Name)
			_, err := s.prs.Propose(s.ctx, d.Name)
			wantErr(t, err, porch.ErrInvalidTransition, "propose a published revision")
		}},
		{"lifecycle/reject-proposed-back-to-draft", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			if _, err := s.prs.Propose(s.ctx, d.Name); err != nil {
				t.Fatal(err)
			}
			pr, err := s.prs.Reject(s.ctx, d.Name)
			if err != nil {
				t.Fatal(err)
			}
			wantLifecycle(t, pr, draft)
			_, err = s.prs.Reject(s.ctx, d.Name)
			wantErr(t, err, porch.ErrInvalidTransition, "reject a draft")
		}},
		{"lifecycle/propose-delete-and-reject", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			s.publish(t, d.Name)
			pr, err := s.prs.ProposeDelete(s.ctx, d.Name)
			if err != nil {
				t.Fatal(err)
			}
			wantLifecycle(t, pr, deletionProposed)
			if got := s.get(t, d.Name); !isLatest(got) || got.Spec.Revision != 1 {
				t.Fatalf("DeletionProposed revision lost latest label or number: %v %d", got.Labels, got.Spec.Revision)
			}
			pr, err = s.prs.Reject(s.ctx, d.Name)
			if err != nil {
				t.Fatal(err)
			}
			wantLifecycle(t, pr, published)
		}},
		{"lifecycle/approve-restores-deletion-proposed", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			s.publish(t, d.Name)
			if _, err := s.prs.ProposeDelete(s.ctx, d.Name); err != nil {
				t.Fatal(err)
			}
			pr, err := s.prs.Approve(s.ctx, d.Name)
			if err != nil {
				t.Fatal(err)
			}
			wantLifecycle(t, pr, published)
			if pr.Spec.Revision != 1 {
				t.Fatalf("revision %d after undoing the deletion proposal, want 1", pr.Spec.Revision)
			}
		}},
		{"lifecycle/repeated-transitions-are-no-ops", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			if _, err := s.prs.Propose(s.ctx, d.Name); err != nil {
				t.Fatal(err)
			}
			if _, err := s.prs.Propose(s.ctx, d.Name); err != nil {
				t.Fatalf("second propose: %v", err)
			}
			s.publish(t, d.Name)
			pr, err := s.prs.Approve(s.ctx, d.Name)
			if err != nil || pr.Spec.Revision != 1 {
				t.Fatalf("second approve: %v (revision %d)", err, pr.Spec.Revision)
			}
		}},
		{"lifecycle/readiness-gates-block-propose", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			if _, err := s.prs.UpdateMetadata(s.ctx, d.Name, func(pr *porchapi.PackageRevision) error {
				pr.Spec.ReadinessGates = []porchapi.ReadinessGate{{ConditionType: "example.com/validated"}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			_, err := s.prs.Propose(s.ctx, d.Name)
			wantErr(t, err, porch.ErrInvalid, "propose with an unmet readiness gate")
			if _, err := s.prs.UpdateMetadata(s.ctx, d.Name, func(pr *porchapi.PackageRevision) error {
				pr.Status.Conditions = []porchapi.Condition{{Type: "example.com/validated", Status: porchapi.ConditionTrue}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.prs.Propose(s.ctx, d.Name); err != nil {
				t.Fatalf("propose with the gate met: %v", err)
			}
		}},
		{"metadata/labels-survive-lifecycle", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			if _, err := s.prs.UpdateMetadata(s.ctx, d.Name, func(pr *porchapi.PackageRevision) error {
				pr.Labels = map[string]string{"team": "blue"}
				pr.Annotations = map[string]string{"note": "kept"}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			s.publish(t, d.Name)
			got := s.get(t, d.Name)
			if got.Labels["team"] != "blue" || got.Annotations["note"] != "kept" || !isLatest(got) {
				t.Fatalf("labels %v annotations %v after publishing", got.Labels, got.Annotations)
			}
		}},
		{"metadata/latest-label-cannot-be-removed", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			s.publish(t, d.Name)
			if _, err := s.prs.UpdateMetadata(s.ctx, d.Name, func(pr *porchapi.PackageRevision) error {
				delete(pr.Labels, porchapi.LatestPackageRevisionKey)
				pr.Labels["extra"] = "x"
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got := s.get(t, d.Name)
			if !isLatest(got) || got.Labels["extra"] != "x" {
				t.Fatalf("labels after update: %v", got.Labels)
			}
		}},
		{"metadata/published-spec-immutable", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			s.publish(t, d.Name)
			_, err := s.prs.UpdateMetadata(s.ctx, d.Name, func(pr *porchapi.PackageRevision) error {
				pr.Spec.ReadinessGates = []porchapi.ReadinessGate{{ConditionType: "x"}}
				return nil
			})
			wantErr(t, err, porch.ErrImmutable, "change the spec of a published revision")
		}},
	}
}
