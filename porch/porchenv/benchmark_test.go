package porchenv

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
		b.Skip("porchenv: skipped with -short: starts the local Porch stack")
	}
	stacktest.BenchmarkStart(b, &firstStart, "", func(ctx context.Context) (stacktest.Stack, error) {
		env := &Environment{Progress: io.Discard}
		if err := env.Start(ctx); err != nil {
			return nil, err
		}
		return env, nil
	})
}

// BenchmarkRestartPorchServer measures StopPorchServer and StartPorchServer
// (until porch-server serves porch.kpt.dev and its webhook again):
//
//	go test ./porch/porchenv -run '^$' -bench RestartPorchServer -benchtime=3x
func BenchmarkRestartPorchServer(b *testing.B) {
	env := Setup(b, &Environment{Progress: io.Discard})
	ctx := context.Background()
	var stop, start time.Duration
	for range b.N {
		begin := time.Now()
		if err := env.StopPorchServer(); err != nil {
			b.Fatal(err)
		}
		stop += time.Since(begin)
		begin = time.Now()
		if err := env.StartPorchServer(ctx); err != nil {
			b.Fatal(err)
		}
		start += time.Since(begin)
	}
	b.ReportMetric(stop.Seconds()/float64(b.N), "s/stop")
	b.ReportMetric(start.Seconds()/float64(b.N), "s/start")
}
