// Package stacktest holds what the test kits for porchkit's local stacks
// (porch/porchenv, multicluster/clusterenv) share: ending a stack with a
// test, and benchmarking a stack's start-up.
package stacktest

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"
)

// Stack is a running set of server processes.
type Stack interface {
	// Stop ends every process and removes the stack's files.
	Stop() error
	// Running lists the processes still running.
	Running() []string
	// LogTails returns the end of every process's log.
	LogTails(n int) string
	// MemoryUsage returns each running process's resident memory in bytes.
	MemoryUsage() (map[string]int64, error)
}

// Starter is a stack that is not started yet.
type Starter interface {
	Stack
	// Start starts every process of the stack.
	Start(ctx context.Context) error
}

// Setup starts s for test t within timeout and stops it when t ends (see
// StopWithTest). It skips t under "go test -short", saying the stack needs
// what needs names.
func Setup(t testing.TB, kit, needs string, timeout time.Duration, s Starter) {
	t.Helper()
	if testing.Short() {
		t.Skipf("%s: skipped with -short: needs %s", kit, needs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("%s: start %s: %v", kit, needs, err)
	}
	StopWithTest(t, kit, s)
}

// StopWithTest stops s when t ends: it prints the tail of every process's
// log first when t failed, and fails t when Stop fails or a process of the
// stack is still running afterwards.
func StopWithTest(t testing.TB, kit string, s Stack) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.LogTails(40))
		}
		if err := s.Stop(); err != nil {
			t.Errorf("%s: %v", kit, err)
		}
		if left := s.Running(); len(left) > 0 {
			t.Errorf("%s: processes still running after Stop: %v", kit, left)
		}
	})
}

// BenchmarkStart starts and stops a stack b.N times and reports: cold-s, the
// first start in the test process (first exec of each binary from disk),
// s/start, the mean of all starts, and the resident memory of each process
// (prefix trimmed from its name) and of all of them, in MiB.
func BenchmarkStart(b *testing.B, first *time.Duration, prefix string, start func(context.Context) (Stack, error)) {
	ctx := context.Background()
	var total time.Duration
	var rss map[string]int64
	for range b.N {
		begin := time.Now()
		s, err := start(ctx)
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(begin)
		if *first == 0 {
			*first = d
		}
		total += d
		if rss, err = s.MemoryUsage(); err != nil {
			b.Fatal(err)
		}
		if err := s.Stop(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(first.Seconds(), "cold-s")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/start")
	names := make([]string, 0, len(rss))
	var sum int64
	for n, v := range rss {
		names = append(names, n)
		sum += v
	}
	sort.Strings(names)
	for _, n := range names {
		b.ReportMetric(float64(rss[n])/(1<<20), strings.TrimPrefix(n, prefix)+"-MiB")
	}
	b.ReportMetric(float64(sum)/(1<<20), "total-MiB")
}
