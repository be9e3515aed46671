package porchtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/nephoran/porchkit/porch"
)

func listWatchBehaviours() []behaviour {
	return []behaviour{
		{"list/filters-are-exact", func(t *testing.T, s *suite) {
			base := pkgName(t, "")
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
			d := s.init(t, pkgName(t, ""), "v1")
			s.init(t, pkgName(t, ""), "v2")
			if _, err := s.prs.UpdateMetadata(s.ctx, d.Name, func(pr *porchapi.PackageRevision) error {
				pr.Labels = map[string]string{"tier": pkgName(t, "")}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			list, err := s.prs.List(s.ctx, porch.MatchingLabels(map[string]string{"tier": pkgName(t, "")}))
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Name != d.Name {
				t.Fatalf("label selector matched %d revisions", len(list))
			}
		}},
		{"list/reads-own-writes", func(t *testing.T, s *suite) {
			pkg := pkgName(t, "")
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
			pkg := pkgName(t, "")
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

// race runs n copies of fn at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWins checks exactly one nil error and that the others are typed as one
// of kinds.
func oneWins(t *testing.T, what string, errs []error, kinds ...error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		ok := false
		for _, k := range kinds {
			ok = ok || errors.Is(err, k)
		}
		if !ok {
			t.Fatalf("%s: untyped loser error %v", what, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%s: %d winners, want exactly 1 (errors %v)", what, wins, errs)
	}
}

func concurrencyBehaviours() []behaviour {
	return []behaviour{
		{"concurrency/inits-same-workspace-one-wins", func(t *testing.T, s *suite) {
			pkg := pkgName(t, "")
			errs := race(4, func(int) error { _, err := s.prs.Init(s.ctx, s.repo, pkg, "v1"); return err })
			oneWins(t, "concurrent inits", errs, porch.ErrAlreadyExists, porch.ErrBusy)
		}},
		{"concurrency/clones-same-workspace-one-wins", func(t *testing.T, s *suite) {
			up := s.init(t, pkgName(t, "-up"), "v1")
			s.publish(t, up.Name)
			errs := race(4, func(int) error {
				_, err := s.prs.Clone(s.ctx, porch.FromRevision(up.Name), s.repo, pkgName(t, "-down"), "v1")
				return err
			})
			oneWins(t, "concurrent clones", errs, porch.ErrAlreadyExists, porch.ErrBusy)
		}},
		{"concurrency/copies-same-workspace-one-wins", func(t *testing.T, s *suite) {
			v1 := s.init(t, pkgName(t, ""), "v1")
			s.publish(t, v1.Name)
			errs := race(4, func(int) error { _, err := s.prs.Copy(s.ctx, v1.Name, "v2"); return err })
			oneWins(t, "concurrent copies", errs, porch.ErrAlreadyExists, porch.ErrBusy)
		}},
		{"concurrency/pushes-same-version-one-wins", func(t *testing.T, s *suite) {
			d := s.init(t, pkgName(t, ""), "v1")
			base := s.pull(t, d.Name)
			errs := race(4, func(i int) error {
				pkg := base.DeepCopy()
				pkg.Resources["who.yaml"] = configMap("who", fmt.Sprint(i))
				_, err := s.prs.Push(s.ctx, pkg)
				return err
			})
			oneWins(t, "concurrent pushes", errs, porch.ErrConflict, porch.ErrBusy)
		}},
		{"concurrency/propose-and-approve-race-settles", func(t *testing.T, s *suite) {
			d := s.init(t, pkgName(t, ""), "v1")
			for _, err := range race(3, func(int) error { _, err := s.prs.Propose(s.ctx, d.Name); return err }) {
				if err != nil && !errors.Is(err, porch.ErrBusy) && !errors.Is(err, porch.ErrConflict) {
					t.Fatalf("concurrent propose: %v", err)
				}
			}
			wantLifecycle(t, s.get(t, d.Name), proposed)
			for _, err := range race(3, func(int) error { _, err := s.prs.Approve(s.ctx, d.Name); return err }) {
				if err != nil && !errors.Is(err, porch.ErrBusy) && !errors.Is(err, porch.ErrConflict) {
					t.Fatalf("concurrent approve: %v", err)
				}
			}
			got := s.get(t, d.Name)
			wantLifecycle(t, got, published)
			if got.Spec.Revision != 1 {
				t.Fatalf("revision %d after racing approvals, want 1", got.Spec.Revision)
			}
		}},
		{"concurrency/deletes-one-wins", func(t *testing.T, s *suite) {
			d := s.init(t, pkgName(t, ""), "v1")
			errs := race(4, func(int) error { return s.prs.Delete(s.ctx, d.Name) })
			oneWins(t, "concurrent deletes", errs, porch.ErrNotFound, porch.ErrBusy)
			_, err := s.prs.Get(s.ctx, d.Name)
			wantErr(t, err, porch.ErrNotFound, "get after concurrent deletes")
		}},
		{"concurrency/read-modify-write-loses-nothing", func(t *testing.T, s *suite) {
			d := s.init(t, pkgName(t, ""), "v1")
			const n = 8
			errs := race(n, func(i int) error {
				_, err := s.prs.UpdateResources(s.ctx, d.Name, func(p *porch.Package) error {
					p.Resources[fmt.Sprintf("w%d.yaml", i)] = configMap(fmt.Sprintf("w%d", i), "x")
					return nil
				})
				return err
			})
			// Porch's background sync can briefly stop serving a draft that
			// was written to many times; wait until it is served again.
			var files map[string]string
			s.eventually(t, "the draft is served after the concurrent writes", func() (bool, error) {
				pkg, err := s.prs.Pull(s.ctx, d.Name)
				if err == nil {
					files = pkg.Resources
				}
				return err == nil, err
			})
			for i, err := range errs {
				_, present := files[fmt.Sprintf("w%d.yaml", i)]
				switch {
				case err == nil && !present:
					t.Fatalf("writer %d succeeded but its file is missing", i)
				case err != nil && present:
					t.Fatalf("writer %d failed (%v) but its file is there", i, err)
				case err != nil && !errors.Is(err, porch.ErrConflict) && !errors.Is(err, porch.ErrBusy):
					t.Fatalf("writer %d: untyped error %v", i, err)
				}
			}
		}},
	}
}
