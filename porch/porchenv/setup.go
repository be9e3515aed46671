package porchenv

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/nephoran/porchkit/internal/stacktest"
)

// SetupTimeout bounds Setup, including a first build of the binaries.
const SetupTimeout = 30 * time.Minute

// Setup starts env (a default Environment when nil) for test t and stops it
// when t ends, and returns it. It skips t under "go test -short", since the
// stack needs real servers. Without a Logger, the start-up steps are logged
// to t. When t fails, the tail of every server's log is printed; when t
// ends, Setup checks that no process of the stack is left running.
func Setup(t testing.TB, env *Environment) *Environment {
	t.Helper()
	if testing.Short() {
		t.Skip("porchenv: skipped with -short: needs the local Porch stack (etcd, kube-apiserver, porch-server, function runner)")
	}
	if env == nil {
		env = &Environment{}
	}
	if env.Logger.GetSink() == nil {
		env.Logger = testr.NewWithInterface(t, testr.Options{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), SetupTimeout)
	defer cancel()
	if err := env.Start(ctx); err != nil {
		t.Fatalf("porchenv: start the local Porch stack: %v", err)
	}
	stacktest.StopWithTest(t, "porchenv", env)
	return env
}
