package porchtest

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/nephoran/porchkit/internal/stacktest"
)

// SetupTimeout bounds Setup, including a first build of the binaries.
const SetupTimeout = 30 * time.Minute

// Setup starts a stack for test t and stops it when t ends. It skips t under
// "go test -short", since the stack needs real servers. When t fails, the
// tail of every server's log is printed; when t ends, Setup checks that no
// process of the stack is left running.
func Setup(t testing.TB, opts ...Option) *Environment {
	t.Helper()
	if testing.Short() {
		t.Skip("porchtest: skipped with -short: needs the local Porch stack (etcd, kube-apiserver, porch-server, function runner)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), SetupTimeout)
	defer cancel()
	opts = append([]Option{WithLogger(testr.NewWithInterface(t, testr.Options{}))}, opts...)
	env, err := Start(ctx, opts...)
	if err != nil {
		t.Fatalf("porchtest: start the local Porch stack: %v", err)
	}
	stacktest.StopWithTest(t, "porchtest", env)
	return env
}
