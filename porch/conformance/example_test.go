package conformance_test

import (
	"context"
	"testing"

	"github.com/nephoran/porchkit/porch/conformance"
	"github.com/nephoran/porchkit/porch/porchenv"
)

// Example holds the real, local Porch of package porchenv to the suite, in
// a test function. Run needs the test's *testing.T (and this target real
// servers), so the example is compiled, not run.
func Example() {
	testMyPorch := func(t *testing.T) {
		env := porchenv.Setup(t, nil) // skipped under -short
		conformance.Run(t, conformance.Target{
			NewClient: env.NewClient,
			Namespace: env.Namespace,
			NewGitRepository: func(ctx context.Context, name string) (string, error) {
				return env.Git.CreateRepository(ctx, name, "main", false)
			},
		})
	}
	_ = testMyPorch
}
