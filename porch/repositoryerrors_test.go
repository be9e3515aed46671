package porch_test

import (
	"context"
	"errors"
	"testing"

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
