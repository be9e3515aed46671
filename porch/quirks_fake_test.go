package porch_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// The quirks of quirks.go as a client meets them over HTTP, driven by the
// fake's hooks (quirks_test.go drives each quirk function on its own).

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
