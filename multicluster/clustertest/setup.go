package clustertest

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/nephoran/porchkit/internal/stacktest"
)

// SetupTimeout bounds SetupFleet, including a first build of the binaries.
const SetupTimeout = 30 * time.Minute

// SetupFleet starts n clusters for test t and stops them when t ends. It
// skips t under "go test -short". When t fails, the tail of every process's
// log is printed; when t ends, SetupFleet checks that nothing is left
// running.
func SetupFleet(t testing.TB, n int, opts ...Option) *Fleet {
	t.Helper()
	if testing.Short() {
		t.Skip("clustertest: skipped with -short: needs real workload clusters (kube-apiserver, controller-manager, scheduler, kwok)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), SetupTimeout)
	defer cancel()
	opts = append([]Option{WithLogger(testr.NewWithInterface(t, testr.Options{}))}, opts...)
	f, err := StartFleet(ctx, n, opts...)
	if err != nil {
		t.Fatalf("clustertest: start %d clusters: %v", n, err)
	}
	stacktest.StopWithTest(t, "clustertest", f)
	return f
}
