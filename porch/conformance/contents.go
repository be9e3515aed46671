package conformance

import (
	"errors"
	"strings"
	"testing"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/porch"
)

func deletionBehaviours() []behaviour {
	return []behaviour{
		{"delete/draft-and-proposed", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, "-d"), "v1")
			p := s.init(t, s.pkgName(t, "-p"), "v1")
			if _, err := s.prs.Propose(s.ctx, p.Name); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{d.Name, p.Name} {
				if err := s.prs.Delete(s.ctx, name); err != nil {
					t.Fatalf("delete %s: %v", name, err)
				}
				_, err := s.prs.Get(s.ctx, name)
				wantErr(t, err, porch.ErrNotFound, "get after delete of "+name)
			}
		}},
		{"delete/published-refused-and-kept", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			s.publish(t, d.Name)
			err := s.prs.Delete(s.ctx, d.Name)
			wantErr(t, err, porch.ErrImmutable, "delete a published revision")
			wantLifecycle(t, s.get(t, d.Name), published)
		}},
		{"delete/published-after-proposal-and-number-reused", func(t *testing.T, s *suite) {
			v1, v2 := s.twoPublished(t, s.pkgName(t, ""))
			if err := s.prs.Delete(s.ctx, v2.Name, porch.ProposingDeletion); err != nil {
				t.Fatal(err)
			}
			if got := s.get(t, v1.Name); !isLatest(got) {
				t.Fatal("latest label did not move back to v1")
			}
			v3, err := s.prs.Copy(s.ctx, v1.Name, "v3")
			if err != nil {
				t.Fatal(err)
			}
			if pr := s.publish(t, v3.Name); pr.Spec.Revision != 2 {
				t.Fatalf("revision after deleting v2 = %d, want 2 (Porch reuses numbers)", pr.Spec.Revision)
			}
		}},
		{"delete/missing-not-found", func(t *testing.T, s *suite) {
			err := s.prs.Delete(s.ctx, s.repo+".nothing.v1")
			wantErr(t, err, porch.ErrNotFound, "delete a missing revision")
		}},
		{"delete/finalizer-defers-deletion", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			if _, err := s.prs.UpdateMetadata(s.ctx, d.Name, func(pr *porchapi.PackageRevision) error {
				pr.Finalizers = []string{"example.com/hold"}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.prs.Delete(s.ctx, d.Name); err != nil {
				t.Fatal(err)
			}
			held := s.get(t, d.Name)
			if held.DeletionTimestamp == nil {
				t.Fatal("revision with a finalizer has no deletionTimestamp after delete")
			}
			if _, err := s.prs.UpdateMetadata(s.ctx, d.Name, func(pr *porchapi.PackageRevision) error {
				pr.Finalizers = nil
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			s.eventually(t, "revision gone once its finalizer is removed", func() (bool, error) {
				_, err := s.prs.Get(s.ctx, d.Name)
				return errors.Is(err, porch.ErrNotFound), err
			})
		}},
	}
}

func contentBehaviours() []behaviour {
	return []behaviour{
		{"push/pull-round-trip-changes-version", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			pkg := s.pull(t, d.Name)
			before := pkg.ResourceVersion
			pkg.Resources["cm.yaml"] = configMap("cm", "pushed")
			if _, err := s.prs.Push(s.ctx, pkg); err != nil {
				t.Fatal(err)
			}
			if pkg.ResourceVersion == before || pkg.ResourceVersion == "" {
				t.Fatal("push did not return a new resourceVersion")
			}
			got := s.pull(t, d.Name)
			if !strings.Contains(got.Resources["cm.yaml"], "pushed") || got.ResourceVersion != pkg.ResourceVersion {
				t.Fatalf("pulled %v at %s, pushed at %s", keys(got.Resources), got.ResourceVersion, pkg.ResourceVersion)
			}
			if pr := s.get(t, d.Name); len(pr.Spec.Tasks) != 1 {
				t.Fatalf("push grew the task list: %+v", pr.Spec.Tasks)
			}
		}},
		{"push/stale-version-conflict-and-unchanged", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			first := s.pull(t, d.Name)
			second := first.DeepCopy()
			first.Resources["a.yaml"] = configMap("a", "first")
			if _, err := s.prs.Push(s.ctx, first); err != nil {
				t.Fatal(err)
			}
			second.Resources["b.yaml"] = configMap("b", "second")
			_, err := s.prs.Push(s.ctx, second)
			wantErr(t, err, porch.ErrConflict, "push with a stale resourceVersion")
			got := s.pull(t, d.Name).Resources
			if _, ok := got["b.yaml"]; ok || !strings.Contains(got["a.yaml"], "first") {
				t.Fatalf("files after the refused push: %v", keys(got))
			}
		}},
		{"push/published-immutable", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			s.publish(t, d.Name)
			pkg := s.pull(t, d.Name)
			pkg.Resources["x.yaml"] = configMap("x", "x")
			_, err := s.prs.Push(s.ctx, pkg)
			wantErr(t, err, porch.ErrImmutable, "push to a published revision")
			if _, ok := s.pull(t, d.Name).Resources["x.yaml"]; ok {
				t.Fatal("the published revision changed")
			}
		}},
		{"push/bad-content-refused", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			pkg := s.pull(t, d.Name)
			bad := pkg.DeepCopy()
			bad.Resources["broken.yaml"] = "apiVersion: v1\nkind: [unclosed\n"
			_, err := s.prs.Push(s.ctx, bad)
			wantErr(t, err, porch.ErrInvalid, "push malformed YAML")
			noKptfile := pkg.DeepCopy()
			delete(noKptfile.Resources, "Kptfile")
			_, err = s.prs.Push(s.ctx, noKptfile)
			wantErr(t, err, porch.ErrInvalid, "push without a Kptfile")
			if got := s.pull(t, d.Name); got.ResourceVersion != pkg.ResourceVersion {
				t.Fatal("a refused push changed the draft")
			}
		}},
		{"push/replaces-whole-file-set", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			pkg := s.pull(t, d.Name)
			delete(pkg.Resources, "README.md")
			if _, err := s.prs.Push(s.ctx, pkg); err != nil {
				t.Fatal(err)
			}
			if _, ok := s.pull(t, d.Name).Resources["README.md"]; ok {
				t.Fatal("a file left out of the push is still there")
			}
		}},
		{"push/oversized-refused", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			pkg := s.pull(t, d.Name)
			pkg.Resources["big.txt"] = strings.Repeat("x", 7<<20)
			_, err := s.prs.Push(s.ctx, pkg)
			if err == nil {
				t.Fatal("a 7 MiB push was accepted")
			}
			if !errors.Is(err, porch.ErrTooLarge) && !errors.Is(err, porch.ErrInvalid) {
				t.Fatalf("oversized push: %v, want ErrTooLarge", err)
			}
			if _, ok := s.pull(t, d.Name).Resources["big.txt"]; ok {
				t.Fatal("the oversized file was stored")
			}
		}},
		{"push/kyaml-nodes-round-trip", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			if _, err := s.prs.UpdateResources(s.ctx, d.Name, func(p *porch.Package) error {
				nodes, err := p.Nodes()
				if err != nil {
					return err
				}
				cm := yaml.MustParse(configMap("from-nodes", "1"))
				if err := cm.PipeE(yaml.SetAnnotation("internal.config.kubernetes.io/path", "nodes/cm.yaml")); err != nil {
					return err
				}
				return p.SetNodes(append(nodes, cm))
			}); err != nil {
				t.Fatal(err)
			}
			files := s.pull(t, d.Name).Resources
			if !strings.Contains(files["nodes/cm.yaml"], "from-nodes") || strings.Contains(files["nodes/cm.yaml"], "internal.config") {
				t.Fatalf("nodes/cm.yaml = %q", files["nodes/cm.yaml"])
			}
			if _, ok := files["README.md"]; !ok {
				t.Fatal("SetNodes dropped a non-YAML file")
			}
		}},
	}
}
