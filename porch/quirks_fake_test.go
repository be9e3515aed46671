package porch_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// The quirks of quirks.go as a client meets them over HTTP, driven by the
// fake's hooks (quirks_test.go drives each quirk function on its own).
// Each quirk function and the hook-driven tests that cover it:
//
//	kindOf                       TestTransientErrorsAreRetried, TestErrorsCarryServerReason (resilience_test.go)
//	isGitRace                    TestReadsOutlastAGitRace, TestCreateAfterAGitRaceThatSaysNotFound, TestDeleteAnsweredWithAGitRace
//	readOutlastsAttempts         TestReadsOutlastAGitRace
//	requireObject, requireKind   TestAnswersWithoutTheObject, TestAnswersWithoutTheObjectAfterEffect (resilience_test.go)
//	recentRevisions              the momentary-404 tests below and in resilience_test.go
//	absorbMomentary404           TestReadsOutlastAMomentaryNotFound
//	resendAfterMomentary404      TestWritesOutlastAMomentaryNotFound (resilience_test.go)
//	deleteOutlastingMomentary404 TestDeletesOutlastAMomentaryNotFound (resilience_test.go)
//	deleteAfterGitRace           TestDeleteAnsweredWithAGitRace
//	waitGone                     TestDeleteOfARevisionPorchKeepsServing, TestFailedCreateLeavesNoDraft
//	resendCreateAfterGitRace     TestCreateAfterAGitRaceThatSaysNotFound, TestFailedCreateLeavesNoDraft
//	readBackCreate               TestAnswersWithoutTheObject, TestAnswersWithoutTheObjectAfterEffect
//	settleFailedCreate           TestFailedCreateLeavesNoDraft, TestAmbiguousCreateFailureIsNotRepeated (resilience_test.go)
//	clearLeftover, leftBy        TestFailedCreateLeavesNoDraft, TestFailedCreateKeepsAnotherRevision
//	leftBehind                   TestFailedCreateKeepsAnotherRevision, TestFailedCreateSaysWhatItLeft
//	readBackUpdate, readBackPush TestAnswersWithoutTheObject, TestAnswersWithoutTheObjectAfterEffect
//
// The tests of package porch's reliability_test.go meet the same quirks on
// the real Porch.

// TestCreateAfterAGitRaceThatSaysNotFound: Porch's 500 "failed to close
// package revision draft: remote not found" is a git race that left
// nothing, so the create is sent again and succeeds.
func TestCreateAfterAGitRaceThatSaysNotFound(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{Retry: porch.RetryOptions{Backoff: fastBackoff}, Cache: porch.CacheOptions{Disabled: true}})
	f.Intercept(fake.Funcs{Create: fake.Fail("packagerevisions", http.StatusInternalServerError,
		"Internal error occurred: failed to close package revision draft: remote not found", 1)})
	before := f.RequestsFor(fake.VerbCreate, "packagerevisions")
	if _, err := prs.Init(context.Background(), "blueprints", "app", "v1"); err != nil {
		t.Fatalf("init after a git race that said not found: %v", err)
	}
	if n := f.RequestsFor(fake.VerbCreate, "packagerevisions") - before; n != 2 {
		t.Fatalf("create sent %d times, want 2", n)
	}
}

// TestFailedCreateLeavesNoDraft: when Porch makes the draft but answers the
// create with a git race, the client never reports "failed" with a draft
// left behind: it removes the draft and creates it again.
func TestFailedCreateLeavesNoDraft(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{Retry: porch.RetryOptions{Backoff: fastBackoff}, Cache: porch.CacheOptions{Disabled: true}})
	var left atomic.Int32
	f.Intercept(fake.Funcs{Create: func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
		resp := next(ctx, req)
		if resp.Code < http.StatusBadRequest && left.Add(1) == 1 {
			return fake.StatusResponse(http.StatusInternalServerError,
				"Internal error occurred: failed to close package revision draft: ref file is empty")
		}
		return resp
	}})
	ctx := context.Background()
	pr, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatalf("init whose first create left a draft: %v", err)
	}
	if f.RequestsFor(fake.VerbDelete, "packagerevisions") != 1 {
		t.Fatalf("the draft the failed create left was not removed (%d deletes)", f.RequestsFor(fake.VerbDelete, "packagerevisions"))
	}
	if _, err := prs.Get(ctx, pr.Name); err != nil {
		t.Fatalf("the created draft: %v", err)
	}

	// Without retries the create fails, and nothing is left behind.
	once, f1 := newFakeRepo(t, porch.Options{Retry: porch.RetryOptions{Disabled: true}, Cache: porch.CacheOptions{Disabled: true}})
	f1.Intercept(fake.Funcs{Create: func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
		next(ctx, req)
		return fake.StatusResponse(http.StatusInternalServerError,
			"Internal error occurred: failed to close package revision draft: ref file is empty")
	}})
	if _, err := once.Init(ctx, "blueprints", "app", "v1"); !errors.Is(err, porch.ErrInternal) {
		t.Fatalf("init = %v, want the git race's ErrInternal", err)
	}
	if _, err := once.Get(ctx, "blueprints.app.v1"); !errors.Is(err, porch.ErrNotFound) {
		t.Fatalf("after a failed create: %v, want the draft gone (ErrNotFound)", err)
	}
}

// TestMoveReportsAFailedReRead: a lifecycle move that meets a conflict
// reads the revision again; when that read fails, the move returns its
// error (it once went on with no revision).
func TestMoveReportsAFailedReRead(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{Retry: porch.RetryOptions{Backoff: fastBackoff}, Cache: porch.CacheOptions{Disabled: true}})
	ctx := context.Background()
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	var conflicted atomic.Bool
	f.Intercept(fake.Funcs{
		Update: func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
			conflicted.Store(true)
			return fake.StatusResponse(http.StatusInternalServerError, "Operation cannot be fulfilled: the object has been modified")
		},
		Get: func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
			if conflicted.Load() {
				return fake.StatusResponse(http.StatusForbidden, "no more reads")
			}
			return next(ctx, req)
		},
	})
	if _, err := prs.Propose(ctx, d.Name); !errors.Is(err, porch.ErrForbidden) {
		t.Fatalf("propose = %v, want the failed re-read's ErrForbidden", err)
	}
}

// TestDeleteAnsweredWithAGitRace: Porch deletes the revision but answers
// with a git race; the client sends the delete again, finds the revision
// gone, and reports success.
func TestDeleteAnsweredWithAGitRace(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{Retry: porch.RetryOptions{Backoff: fastBackoff}, Cache: porch.CacheOptions{Disabled: true}})
	ctx := context.Background()
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	var raced atomic.Bool
	f.Intercept(fake.Funcs{Delete: func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
		resp := next(ctx, req)
		if !raced.Swap(true) {
			return fake.StatusResponse(http.StatusInternalServerError, "Internal error occurred: ref file is empty")
		}
		return resp
	}})
	if err := prs.Delete(ctx, d.Name); err != nil {
		t.Fatalf("delete answered with a git race after deleting: %v", err)
	}
	if _, err := prs.Get(ctx, d.Name); !errors.Is(err, porch.ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
}

// TestReadsOutlastAMomentaryNotFound: Porch briefly answers 404 for a
// revision this client just wrote; a read of it reads again and gets it,
// while a read of a revision the client never saw fails at once.
func TestReadsOutlastAMomentaryNotFound(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{Cache: porch.CacheOptions{Disabled: true}})
	ctx := context.Background()
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	f.Intercept(fake.Funcs{Get: momentaryNotFound(d.Name, "packagerevisions", 2)})
	before := f.RequestsFor(fake.VerbGet, "packagerevisions")
	if _, err := prs.Get(ctx, d.Name); err != nil {
		t.Fatalf("get after two momentary 404s: %v", err)
	}
	if n := f.RequestsFor(fake.VerbGet, "packagerevisions") - before; n != 3 {
		t.Fatalf("get sent %d times, want 3", n)
	}
	f.ClearFuncs()
	start := time.Now()
	if _, err := prs.Get(ctx, "blueprints.never-seen.v1"); !errors.Is(err, porch.ErrNotFound) {
		t.Fatalf("a revision never seen: %v, want ErrNotFound", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Errorf("a revision never seen took %v to be reported missing", waited)
	}
}

// TestDeleteOfARevisionPorchKeepsServing: Porch deletes the revision but
// its background sync keeps serving it. Delete waits for the revision to go
// only as long as its caller lets it: with a short deadline it returns the
// context's error, without hanging.
func TestDeleteOfARevisionPorchKeepsServing(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{Retry: porch.RetryOptions{Backoff: fastBackoff}, Cache: porch.CacheOptions{Disabled: true}})
	ctx := context.Background()
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	var last atomic.Pointer[fake.Response]
	var replayed atomic.Int32
	f.Intercept(fake.Funcs{Get: func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
		resp := next(ctx, req)
		if req.Resource != "packagerevisions" {
			return resp
		}
		switch {
		case resp.Code == http.StatusOK:
			last.Store(resp)
		case resp.Code == http.StatusNotFound && last.Load() != nil:
			replayed.Add(1)
			return last.Load()
		}
		return resp
	}})
	if _, err := prs.Get(ctx, d.Name); err != nil { // served through the hook
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = prs.Delete(dctx, d.Name)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delete of a revision Porch keeps serving: %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("delete returned %v after its caller's deadline of 500ms", took)
	}
	if replayed.Load() == 0 {
		t.Fatal("the deleted revision was never served again: the test did not exercise the wait")
	}
	f.ClearFuncs()
	if _, err := prs.Get(ctx, d.Name); !errors.Is(err, porch.ErrNotFound) {
		t.Fatalf("after the delete: %v, want ErrNotFound", err)
	}
}

// TestFailedCreateKeepsAnotherRevision: a create that fails inside Porch
// while a revision of the same name is served that the create cannot have
// made (here a Proposed one) leaves that revision alone and reports the
// create's own error.
func TestFailedCreateKeepsAnotherRevision(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{Retry: porch.RetryOptions{Disabled: true}, Cache: porch.CacheOptions{Disabled: true}})
	ctx := context.Background()
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Propose(ctx, d.Name); err != nil {
		t.Fatal(err)
	}
	f.Intercept(fake.Funcs{Create: fake.Fail("packagerevisions", http.StatusInternalServerError,
		"Internal error occurred: failed to close package revision draft: ref file is empty", 1)})
	_, err = prs.Init(ctx, "blueprints", "app", "v1")
	if !errors.Is(err, porch.ErrInternal) || strings.Contains(err.Error(), "behind") {
		t.Fatalf("init = %v, want the git race's ErrInternal alone", err)
	}
	if n := f.RequestsFor(fake.VerbDelete, "packagerevisions"); n != 0 {
		t.Fatalf("%d deletes sent for a revision the create did not make", n)
	}
	if got, err := prs.Get(ctx, d.Name); err != nil || got.Spec.Lifecycle != porchapi.PackageRevisionLifecycleProposed {
		t.Fatalf("the other revision after the failed create: %v, %+v", err, got)
	}
}

// TestFailedCreateSaysWhatItLeft: when the draft a failed create left
// cannot be removed, the create's error says so and names the draft.
func TestFailedCreateSaysWhatItLeft(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{Retry: porch.RetryOptions{Disabled: true}, Cache: porch.CacheOptions{Disabled: true}})
	f.Intercept(fake.Funcs{
		Create: func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
			next(ctx, req)
			return fake.StatusResponse(http.StatusInternalServerError,
				"Internal error occurred: failed to close package revision draft: ref file is empty")
		},
		Delete: fake.Fail("packagerevisions", http.StatusForbidden, "deletes are forbidden here", 100),
	})
	_, err := prs.Init(context.Background(), "blueprints", "app", "v1")
	if !errors.Is(err, porch.ErrInternal) || !strings.Contains(err.Error(), `left draft "blueprints.app.v1" behind`) {
		t.Fatalf("init = %v, want ErrInternal naming the draft left behind", err)
	}
	if n := f.RequestsFor(fake.VerbDelete, "packagerevisions"); n != 1 {
		t.Fatalf("%d deletes sent, want 1", n)
	}
}
