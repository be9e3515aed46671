package porch_test

import (
	"context"
	"testing"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/conformance"
	"github.com/nephoran/porchkit/porch/fake"
	"github.com/nephoran/porchkit/porch/porchenv"
)

const (
	gitUser     = "porchkit"
	gitPassword = "s3cret"
)

// TestConformance holds the client, on the fake and on the real Porch
// v1.5.3, to the same behaviours.
func TestConformance(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		t.Parallel()
		_, srv := fake.NewClientBuilder().WithGitCredentials(gitUser, gitPassword).Build(t)
		conformance.Run(t, conformance.Target{
			NewClient: func(opts porch.Options) (porch.Client, error) { return porch.New(srv.Config(), opts) },
			Namespace: "default",
			NewGitRepository: func(_ context.Context, name string) (string, error) {
				return "http://git.invalid/" + name + ".git", nil
			},
			GitUser: gitUser, GitPassword: gitPassword,
		})
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		env := porchenv.Setup(t, &porchenv.Environment{GitUser: gitUser, GitPassword: gitPassword})
		conformance.Run(t, conformance.Target{
			NewClient: env.NewClient,
			Namespace: env.Namespace,
			NewGitRepository: func(ctx context.Context, name string) (string, error) {
				return env.Git.CreateRepository(ctx, name, "main", false)
			},
			GitUser: gitUser, GitPassword: gitPassword,
		})
	})
}
