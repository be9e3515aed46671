package porch_test

import (
	"context"
	"testing"
	"time"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/conformance"
	"github.com/nephoran/porchkit/porch/fake"
	"github.com/nephoran/porchkit/porch/porchenv"
)

// gitAuth is what the git server of both legs requires.
var gitAuth = porch.BasicAuth{Username: "porchkit", Password: "s3cret"}

// fakeWriteLatency makes the fake's writes last long enough that the run
// without the client's write limit meets the fake's 409 "another request is
// already in progress", as it meets Porch's.
const fakeWriteLatency = 5 * time.Millisecond

// TestConformance holds the client, on the fake and on the real Porch
// v1.5.3, to the same behaviours.
func TestConformance(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		t.Parallel()
		_, srv := fake.NewClientBuilder().WithGitCredentials(gitAuth).WithWriteLatency(fakeWriteLatency).Build(t)
		conformance.Run(t, conformance.Target{
			NewClient: func(opts porch.Options) (porch.Client, error) { return porch.New(srv.Config(), opts) },
			Namespace: "default",
			NewGitRepository: func(_ context.Context, name string) (string, error) {
				return "http://git.invalid/" + name + ".git", nil
			},
			GitAuth: gitAuth,
		})
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		env := porchenv.Setup(t, &porchenv.Environment{GitAuth: gitAuth})
		conformance.Run(t, conformance.Target{
			NewClient: env.NewClient,
			Namespace: env.Namespace,
			NewGitRepository: func(ctx context.Context, name string) (string, error) {
				return env.Git.CreateRepository(ctx, name, "main", false)
			},
			GitAuth: gitAuth,
		})
	})
}
