package porch_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// TestRepositoryErrorsNameTheVerb: every Repositories verb's error names the
// verb the caller called, not the request it failed on.
func TestRepositoryErrorsNameTheVerb(t *testing.T) {
	ctx := context.Background()
	c, _ := fake.NewClientBuilder().Build(t)
	repos := c.Repositories("default")
	if _, err := repos.Register(ctx, "x", "http://git.invalid/x.git"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		op   string
		kind error
		call func() error
	}{
		{"register repository", porch.ErrAlreadyExists, func() error {
			_, err := repos.Register(ctx, "x", "http://git.invalid/x.git")
			return err
		}},
		{"unregister repository", porch.ErrNotFound, func() error { return repos.Unregister(ctx, "missing") }},
		{"get repository", porch.ErrNotFound, func() error {
			_, err := repos.Get(ctx, "missing")
			return err
		}},
		{"refresh repository", porch.ErrNotFound, func() error { return repos.Refresh(ctx, "missing") }},
		{"wait for repository", porch.ErrNotFound, func() error {
			_, err := repos.WaitReady(ctx, "missing")
			return err
		}},
	} {
		err := tc.call()
		var pe *porch.Error
		if !errors.As(err, &pe) || pe.Op != tc.op || !errors.Is(err, tc.kind) {
			t.Errorf("%s: error %v, want a %v naming %q", tc.op, err, tc.kind, tc.op)
		}
	}
}

// TestRepositoryWaitsReportAFailedRead: Refresh's wait for Ready whose reads
// fail for good (here 403) reports that failure, not ErrNotReady, even
// after an earlier read succeeded.
func TestRepositoryWaitsReportAFailedRead(t *testing.T) {
	ctx := context.Background()
	c, srv := fake.NewClientBuilder().WithRepositoryCheck(func(*configapi.Repository) string { return "git is down" }).
		WithClientOptions(porch.Options{Cache: porch.CacheOptions{Disabled: true}}).Build(t)
	repos := c.Repositories("default")
	if _, err := repos.Register(ctx, "x", "http://git.invalid/x.git"); err != nil {
		t.Fatal(err)
	}
	// The first read of each wait succeeds (not Ready); every read after it
	// is refused.
	var reads atomic.Int32
	refuseAfterOne := func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
		if req.Resource == "repositories" && reads.Add(1) > 1 {
			return fake.StatusResponse(403, "no more reads")
		}
		return next(ctx, req)
	}
	srv.Intercept(fake.Funcs{Get: refuseAfterOne})
	err := repos.Refresh(ctx, "x")
	if !errors.Is(err, porch.ErrForbidden) || errors.Is(err, porch.ErrNotReady) {
		t.Fatalf("refresh whose reads are refused: %v, want ErrForbidden", err)
	}
	var pe *porch.Error
	if !errors.As(err, &pe) || pe.Op != "refresh repository" {
		t.Fatalf("refresh error %v does not name the verb", err)
	}
}
