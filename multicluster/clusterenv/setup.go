package clusterenv

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/nephoran/porchkit/internal/stacktest"
)

// SetupTimeout bounds Setup, including a first build of the binaries.
const SetupTimeout = 30 * time.Minute

// Setup starts env for test t and stops it when t ends, and returns env.
// It skips t under "go test -short". Unless env has a Logger, start-up is
// logged to t. When t fails, the tail of every process's log is printed;
// when t ends, Setup checks that nothing is left running.
func Setup(t testing.TB, env *Environment) *Environment {
	t.Helper()
	if testing.Short() {
		t.Skip("clusterenv: skipped with -short: needs real workload clusters (kube-apiserver, controller-manager, scheduler, kwok)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), SetupTimeout)
	defer cancel()
	if env.Logger.GetSink() == nil {
		env.Logger = testr.NewWithInterface(t, testr.Options{})
	}
	if err := env.Start(ctx); err != nil {
		t.Fatalf("clusterenv: start %d clusters: %v", env.Clusters, err)
	}
	stacktest.StopWithTest(t, "clusterenv", env)
	return env
}
