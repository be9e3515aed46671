package conformance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nephoran/porchkit/porch"
)

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

// oneWins checks that exactly one of errs is nil and that the others are
// typed as one of kinds.
func oneWins(t *testing.T, what string, errs []error, kinds ...error) {
	t.Helper()
	wins(t, what, errs, 1, 1, kinds...)
}

// wins checks that at least minWins and at most maxWins of errs are nil
// and that the others are typed as one of kinds.
func wins(t *testing.T, what string, errs []error, minWins, maxWins int, kinds ...error) {
	t.Helper()
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
			continue
		}
		if !isOneOf(err, kinds...) {
			t.Fatalf("%s: untyped loser error %v", what, err)
		}
	}
	if n < minWins || n > maxWins {
		t.Fatalf("%s: %d winners, want %d to %d (errors %v)", what, n, minWins, maxWins, errs)
	}
	t.Logf("%s: %d winner(s); the errors: %v", what, n, errs)
}

// isOneOf reports whether err is one of kinds.
func isOneOf(err error, kinds ...error) bool {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// raceErrors returns kinds, and in the run without the client's write limit
// porch.ErrInternal too: Porch's git layer answers some writes that race
// others on the same package with a 500 (such as "ref file is empty"),
// which the client cannot tell apart from other internal errors.
func (s *suite) raceErrors(kinds ...error) []error {
	if s.noWriteLimit {
		return append(kinds, porch.ErrInternal)
	}
	return kinds
}

// concurrencyBehaviours are the behaviours of concurrent writes to one
// object. With unlimited, they are named "concurrency/unlimited/..." and go
// through the client without a per-repository write limit, so that the
// writes reach the server at once; the outcome is held to the same rules
// (one winner, nothing lost, nothing half-done), and a losing call may also
// fail with one of Porch's racing 500s (see raceErrors).
func concurrencyBehaviours(unlimited bool) []behaviour {
	bs := []behaviour{
		{"concurrency/inits-same-workspace-one-wins", func(t *testing.T, s *suite) {
			pkg := s.pkgName(t, "")
			errs := race(4, func(int) error { _, err := s.prs.Init(s.ctx, s.repo, pkg, "v1"); return err })
			oneWins(t, "concurrent inits", errs, s.raceErrors(porch.ErrAlreadyExists, porch.ErrBusy)...)
		}},
		{"concurrency/clones-same-workspace-one-wins", func(t *testing.T, s *suite) {
			up := s.init(t, s.pkgName(t, "-up"), "v1")
			s.publish(t, up.Name)
			errs := race(4, func(int) error {
				_, err := s.prs.Clone(s.ctx, porch.FromRevision(up.Name), s.repo, s.pkgName(t, "-down"), "v1")
				return err
			})
			oneWins(t, "concurrent clones", errs, s.raceErrors(porch.ErrAlreadyExists, porch.ErrBusy)...)
		}},
		{"concurrency/copies-same-workspace-one-wins", func(t *testing.T, s *suite) {
			v1 := s.init(t, s.pkgName(t, ""), "v1")
			s.publish(t, v1.Name)
			errs := race(4, func(int) error { _, err := s.prs.Copy(s.ctx, v1.Name, "v2"); return err })
			oneWins(t, "concurrent copies", errs, s.raceErrors(porch.ErrAlreadyExists, porch.ErrBusy)...)
		}},
		{"concurrency/pushes-same-version-one-wins", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			base := s.pull(t, d.Name)
			errs := race(4, func(i int) error {
				pkg := base.DeepCopy()
				pkg.Resources["who.yaml"] = configMap("who", fmt.Sprint(i))
				_, err := s.prs.Push(s.ctx, pkg)
				return err
			})
			oneWins(t, "concurrent pushes", errs, s.raceErrors(porch.ErrConflict, porch.ErrBusy)...)
		}},
		{"concurrency/propose-and-approve-race-settles", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			for _, err := range race(3, func(int) error { _, err := s.prs.Propose(s.ctx, d.Name); return err }) {
				if err != nil && !isOneOf(err, s.raceErrors(porch.ErrBusy, porch.ErrConflict)...) {
					t.Fatalf("concurrent propose: %v", err)
				}
			}
			wantLifecycle(t, s.get(t, d.Name), proposed)
			for _, err := range race(3, func(int) error { _, err := s.prs.Approve(s.ctx, d.Name); return err }) {
				if err != nil && !isOneOf(err, s.raceErrors(porch.ErrBusy, porch.ErrConflict)...) {
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
			d := s.init(t, s.pkgName(t, ""), "v1")
			errs := race(4, func(int) error { return s.prs.Delete(s.ctx, d.Name) })
			minWins, maxWins := 1, 1
			if s.noWriteLimit {
				// The call that deletes may itself be answered with one of
				// Porch's racing 500s; the revision is gone all the same.
				// A call that met such a race and then finds the revision
				// gone reports success (it cannot tell whether its own
				// first attempt deleted it), so several may.
				minWins, maxWins = 0, len(errs)
			}
			wins(t, "concurrent deletes", errs, minWins, maxWins, s.raceErrors(porch.ErrNotFound, porch.ErrBusy)...)
			if !slices.Contains(errs, nil) && !slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, porch.ErrInternal) }) {
				t.Fatalf("concurrent deletes: no call succeeded or failed inside Porch, yet all say not found: %v", errs)
			}
			_, err := s.prs.Get(s.ctx, d.Name)
			wantErr(t, err, porch.ErrNotFound, "get after concurrent deletes")
		}},
		{"concurrency/read-modify-write-loses-nothing", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
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
			t.Logf("the writers' errors: %v", errs)
			for i, err := range errs {
				_, present := files[fmt.Sprintf("w%d.yaml", i)]
				switch {
				case err == nil && !present:
					t.Fatalf("writer %d succeeded but its file is missing", i)
				case err != nil && present:
					t.Fatalf("writer %d failed (%v) but its file is there", i, err)
				case err != nil && !isOneOf(err, s.raceErrors(porch.ErrConflict, porch.ErrBusy)...):
					t.Fatalf("writer %d: untyped error %v", i, err)
				}
			}
		}},
	}
	if !unlimited {
		return bs
	}
	for i, b := range bs {
		run := b.run
		bs[i].name = "concurrency/unlimited/" + strings.TrimPrefix(b.name, "concurrency/")
		bs[i].run = func(t *testing.T, s *suite) { run(t, s.withoutWriteLimit()) }
	}
	return bs
}
