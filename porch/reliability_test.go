package porch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"github.com/sony/gobreaker/v2"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/porchenv"
)

// realClient starts the real Porch stack with one Ready repository "repo"
// and returns a client on it.
func realClient(t testing.TB, opts porch.Options) (*porchenv.Environment, porch.Client) {
	t.Helper()
	env := porchenv.Setup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := env.RegisterRepository(ctx, "repo"); err != nil {
		t.Fatal(err)
	}
	opts.PorchConfig = env.PorchConfig
	c, err := porch.New(env.KubeConfig, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return env, c
}

// TestReliabilityConcurrentEditsLoseNothing: 50 goroutines edit the same
// draft with read-modify-write; every change that reported success is in the
// final package, and every failure is typed and left nothing behind.
func TestReliabilityConcurrentEditsLoseNothing(t *testing.T) {
	_, c := realClient(t, porch.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	prs := c.PackageRevisions("default")
	d, err := prs.Init(ctx, "repo", "shared", "v1")
	if err != nil {
		t.Fatal(err)
	}
	const writers = 50
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = prs.UpdateResources(ctx, d.Name, func(p *porch.Package) error {
				p.Resources[fmt.Sprintf("w%02d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: w%02d\n", i)
				return nil
			})
		}()
	}
	wg.Wait()
	final, err := prs.Pull(ctx, d.Name)
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i, err := range errs {
		_, present := final.Resources[fmt.Sprintf("w%02d.yaml", i)]
		switch {
		case err == nil && present:
			ok++
		case err == nil:
			t.Errorf("writer %d succeeded but its change is lost", i)
		case present:
			t.Errorf("writer %d failed (%v) but its change was written", i, err)
		case !errors.Is(err, porch.ErrConflict) && !errors.Is(err, porch.ErrBusy):
			t.Errorf("writer %d: untyped error %v", i, err)
		}
	}
	t.Logf("%d of %d writers succeeded", ok, writers)
	if ok != writers {
		t.Errorf("%d writers failed; the per-repository slot should have serialised them", writers-ok)
	}
}

// TestReliabilityPorchServerRestart: with porch-server killed, calls fail
// fast once the breaker opens; after a restart the same client works again
// and no revision is left half-published.
func TestReliabilityPorchServerRestart(t *testing.T) {
	rec := newRecorder()
	env, c := realClient(t, porch.Options{CircuitBreaker: porch.BreakerOptions{Settings: gobreaker.Settings{Timeout: 5 * time.Second}},
		Instrumentation: rec, Cache: porch.CacheOptions{Disabled: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	prs := c.PackageRevisions("default")
	publish := func(ws string) error {
		d, err := prs.Init(ctx, "repo", "app", ws)
		if err != nil {
			return err
		}
		if _, err := prs.Propose(ctx, d.Name); err != nil {
			return err
		}
		_, err = prs.Approve(ctx, d.Name)
		return err
	}
	if err := publish("v1"); err != nil {
		t.Fatal(err)
	}

	// Work continues in the background while porch-server dies.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	var published atomic.Int32
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 2; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := publish(fmt.Sprintf("v%d", i)); err != nil {
				mu.Lock()
				failures = append(failures, err)
				mu.Unlock()
				time.Sleep(50 * time.Millisecond) // pace the retries of the outage
				continue
			}
			published.Add(1)
		}
	}()
	// Once the background work has published once, it is busy with the
	// next revision when porch-server dies.
	eventually.True(t, time.Minute, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return published.Load() > 0, fmt.Sprintf("no background publish yet; failures %v", failures)
	})
	if err := env.StopPorchServer(); err != nil {
		t.Fatal(err)
	}
	if err := eventually.Poll(ctx, 20*time.Millisecond, 30*time.Second, func() (bool, string) {
		_, err := prs.Get(ctx, "repo.app.v1")
		return errors.Is(err, porch.ErrCircuitOpen), fmt.Sprintf("get: %v", err)
	}); err != nil {
		t.Fatalf("the breaker never opened while porch-server was down: %v", err)
	}
	// Failing fast: while open, a call is refused on its first attempt,
	// without retries or a request.
	before := rec.snapshot().retries
	start := time.Now()
	_, err := prs.Get(ctx, "repo.app.v1")
	if !errors.Is(err, porch.ErrCircuitOpen) || rec.snapshot().retries != before {
		t.Fatalf("call with the breaker open: %v after %d retries", err, rec.snapshot().retries-before)
	}
	t.Logf("open breaker refused a call in %v", time.Since(start))
	if err := env.StartPorchServer(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()

	// The same client recovers without intervention.
	if err := eventually.Poll(ctx, 200*time.Millisecond, 20*time.Second, func() (bool, string) {
		_, err := prs.Get(ctx, "repo.app.v1")
		return err == nil, fmt.Sprintf("get: %v", err)
	}); err != nil {
		t.Fatalf("client did not recover: %v", err)
	}
	if err := publish("after-restart"); err != nil {
		t.Fatalf("publish after restart: %v", err)
	}
	mu.Lock()
	for _, f := range failures {
		var pe *porch.Error
		if !errors.As(f, &pe) {
			t.Errorf("untyped failure during the outage: %v", f)
		}
	}
	t.Logf("%d operations failed during the outage", len(failures))
	mu.Unlock()

	// Nothing half-published: every Published revision has a number, and
	// numbers are unique.
	list, err := prs.List(ctx, porch.InRepository("repo"), porch.ForPackage("app"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for _, pr := range list {
		if pr.Spec.Lifecycle != porchapi.PackageRevisionLifecyclePublished || pr.Spec.Revision == -1 {
			continue
		}
		if pr.Spec.Revision < 1 {
			t.Errorf("%s is Published without a revision number", pr.Name)
		}
		if other, dup := seen[pr.Spec.Revision]; dup {
			t.Errorf("%s and %s share revision %d", pr.Name, other, pr.Spec.Revision)
		}
		seen[pr.Spec.Revision] = pr.Name
	}
	// Left-over drafts or proposals can still be finished.
	for _, pr := range list {
		if pr.Spec.Lifecycle == porchapi.PackageRevisionLifecycleDraft || pr.Spec.Lifecycle == porchapi.PackageRevisionLifecycleProposed {
			if _, err := porch.NewLifecycleManager(prs, porch.LifecycleOptions{}).Promote(ctx, pr.Name, porchapi.PackageRevisionLifecyclePublished); err != nil {
				t.Errorf("finishing %s after the outage: %v", pr.Name, err)
			}
		}
	}
}

// TestReliabilityGitServerStopped: with the git server down, work on the
// repository fails with a typed error that says why; after it restarts,
// work resumes.
func TestReliabilityGitServerStopped(t *testing.T) {
	env, c := realClient(t, porch.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	prs := c.PackageRevisions("default")
	repos := c.Repositories("default")
	if _, err := prs.Init(ctx, "repo", "before", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := env.Git.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err := prs.Init(ctx, "repo", "during", "v1")
	if err == nil {
		t.Fatal("init succeeded with the git server down")
	}
	var pe *porch.Error
	if !errors.As(err, &pe) || pe.Message == "" {
		t.Fatalf("untyped or unexplained error: %v", err)
	}
	t.Logf("init with git down: %v", err)
	var getErr error
	if err := eventually.Poll(ctx, 500*time.Millisecond, 30*time.Second, func() (bool, string) {
		repo, err := repos.Get(ctx, "repo")
		if err != nil {
			getErr = err
			return true, ""
		}
		ok, msg := porch.Ready(repo)
		if !ok {
			t.Logf("repository not ready: %s", msg)
		}
		return !ok, "Ready"
	}); err != nil {
		t.Errorf("the repository stayed Ready with its git server down for 30s: %v", err)
	}
	if getErr != nil {
		t.Fatal(getErr)
	}
	if err := env.Git.Start(); err != nil {
		t.Fatal(err)
	}
	if err := repos.Refresh(ctx, "repo"); err != nil {
		t.Logf("refresh right after restart: %v", err)
	}
	if err := eventually.Poll(ctx, time.Second, time.Minute, func() (bool, string) {
		_, err := prs.Init(ctx, "repo", "after", "v1")
		if err == nil || errors.Is(err, porch.ErrAlreadyExists) {
			return true, ""
		}
		return false, err.Error()
	}); err != nil {
		t.Fatalf("work did not resume after the git server came back: %v", err)
	}
	if _, err := prs.Get(ctx, "repo.before.v1"); err != nil {
		t.Fatalf("the draft from before the outage: %v", err)
	}
}
