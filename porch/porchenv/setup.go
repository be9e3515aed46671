package porchenv

import (
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
	if env == nil {
		env = &Environment{}
	}
	if env.Logger.GetSink() == nil {
		env.Logger = testr.NewWithInterface(t, testr.Options{})
	}
	stacktest.Setup(t, "porchenv", "the local Porch stack (etcd, kube-apiserver, porch-server, function runner)", SetupTimeout, env)
	return env
}
