package conformance

import (
	"fmt"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/nephoran/porchkit/porch"
)

func listWatchBehaviours() []behaviour {
	return []behaviour{
		{"list/filters-are-exact", func(t *testing.T, s *suite) {
			base := s.pkgName(t, "")
			a := s.init(t, "x/"+base, "v1")
			s.init(t, "y/"+base, "v1") // same leaf name in another directory
			b := s.init(t, base+"-other", "v2")
			s.publish(t, a.Name)
			check := func(what string, want []string, opts ...porch.ListOption) {
				t.Helper()
				list, err := s.prs.List(s.ctx, append([]porch.ListOption{porch.InRepository(s.repo)}, opts...)...)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				var got []string
				for _, pr := range list {
					got = append(got, pr.Name)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s: got %v, want %v", what, got, want)
				}
			}
			check("package by full path", []string{a.Name}, porch.ForPackage("x/"+base), porch.InWorkspace("v1"))
			check("workspace", []string{b.Name}, porch.ForPackage(base+"-other"), porch.InWorkspace("v2"))
			// The branch placeholder is Published too.
			check("lifecycle", []string{porch.RevisionName(s.repo, "x/"+base, "main"), a.Name}, porch.ForPackage("x/"+base), porch.InLifecycle(published))
			check("revision", []string{a.Name}, porch.ForPackage("x/"+base), porch.Revision(1))
			check("placeholder revision", []string{porch.RevisionName(s.repo, "x/"+base, "main")}, porch.ForPackage("x/"+base), porch.Revision(-1))
			check("latest only", []string{a.Name}, porch.ForPackage("x/"+base), porch.LatestOnly)
		}},
		{"list/label-selector", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			s.init(t, s.pkgName(t, ""), "v2")
			if _, err := s.prs.UpdateMetadata(s.ctx, d.Name, func(pr *porchapi.PackageRevision) error {
				pr.Labels = map[string]string{"tier": s.pkgName(t, "")}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			list, err := s.prs.List(s.ctx, porch.MatchingLabels(map[string]string{"tier": s.pkgName(t, "")}))
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Name != d.Name {
				t.Fatalf("label selector matched %d revisions", len(list))
			}
		}},
		{"list/reads-own-writes", func(t *testing.T, s *suite) {
			pkg := s.pkgName(t, "")
			for i := 0; i < 3; i++ {
				before, err := s.prs.List(s.ctx, porch.ForPackage(pkg))
				if err != nil {
					t.Fatal(err)
				}
				s.init(t, pkg, fmt.Sprintf("w%d", i))
				after, err := s.prs.List(s.ctx, porch.ForPackage(pkg))
				if err != nil {
					t.Fatal(err)
				}
				if len(after) != len(before)+1 {
					t.Fatalf("list after create has %d, before %d", len(after), len(before))
				}
			}
		}},
		{"watch/filtered-events-in-order", func(t *testing.T, s *suite) {
			pkg := s.pkgName(t, "")
			w, err := s.prs.Watch(s.ctx, porch.ForPackage(pkg))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			s.init(t, pkg+"-noise", "v1") // another package: must not be seen
			d := s.init(t, pkg, "v1")
			if _, err := s.prs.Propose(s.ctx, d.Name); err != nil {
				t.Fatal(err)
			}
			if err := s.prs.Delete(s.ctx, d.Name); err != nil {
				t.Fatal(err)
			}
			want := []watch.EventType{watch.Added, watch.Modified, watch.Deleted}
			var got []watch.EventType
			deadline := time.After(30 * time.Second)
			for len(got) == 0 || got[len(got)-1] != watch.Deleted {
				select {
				case ev, ok := <-w.ResultChan():
					if !ok {
						t.Fatalf("watch closed after %v", got)
					}
					pr := ev.Object.(*porchapi.PackageRevision)
					if pr.Spec.PackageName != pkg {
						t.Fatalf("event for %s leaked through the filter", pr.Name)
					}
					if len(got) == 0 || got[len(got)-1] != ev.Type || ev.Type != watch.Modified {
						got = append(got, ev.Type)
					}
				case <-deadline:
					t.Fatalf("events so far %v, want %v", got, want)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("events %v, want %v (repeated MODIFIED collapsed)", got, want)
			}
		}},
	}
}
