package porchtest

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/nephoran/porchkit/internal/stacktest"
)

// firstStart is the first Start in this test process.
var firstStart time.Duration

// BenchmarkStart measures how long the whole stack takes to start (until a
// client can use porch.kpt.dev) and the memory of its processes. Run with
// -benchtime=3x.
func BenchmarkStart(b *testing.B) {
	if testing.Short() {
		b.Skip("porchtest: skipped with -short: starts the local Porch stack")
	}
	stacktest.BenchmarkStart(b, &firstStart, "", func(ctx context.Context) (stacktest.Stack, error) {
		return Start(ctx, WithProgress(io.Discard))
	})
}
