package porch_test

import (
	"context"
	"testing"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
	"github.com/nephoran/porchkit/porch/porchtest"
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
		c, _ := fake.NewClientBuilder().WithGitCredentials(gitUser, gitPassword).Build(t)
		porchtest.RunConformance(t, porchtest.ConformanceTarget{
			Client:    c,
			Namespace: "default",
			NewGitRepository: func(_ context.Context, name string) (string, error) {
				return "http://git.invalid/" + name + ".git", nil
			},
			GitUser: gitUser, GitPassword: gitPassword,
		})
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		env := porchtest.Setup(t, porchtest.WithGitBasicAuth(gitUser, gitPassword))
		c, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		porchtest.RunConformance(t, porchtest.ConformanceTarget{
			Client:    c,
			Namespace: env.Namespace,
			NewGitRepository: func(ctx context.Context, name string) (string, error) {
				return env.Git.CreateRepository(ctx, name, "main", false)
			},
			GitUser: gitUser, GitPassword: gitPassword,
		})
	})
}
