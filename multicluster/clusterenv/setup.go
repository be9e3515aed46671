package clusterenv

import (
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
	if env.Logger.GetSink() == nil {
		env.Logger = testr.NewWithInterface(t, testr.Options{})
	}
	stacktest.Setup(t, "clusterenv", "real workload clusters (kube-apiserver, controller-manager, scheduler, kwok)", SetupTimeout, env)
	return env
}
