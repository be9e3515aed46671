package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nephoran/porchkit/internal/eventually"
)

func startShell(t *testing.T, script string) *Process {
	t.Helper()
	p, err := Start(Spec{Name: "sh", Path: "/bin/sh", Args: []string{"-c", script}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(time.Second) })
	return p
}

func waitForLog(t *testing.T, p *Process, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.WaitReady(ctx, 10*time.Millisecond, func(context.Context) error {
		if !strings.Contains(p.Tail(100), want) {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("log never contained %q: %v", want, err)
	}
}

func TestStartStopAndTail(t *testing.T) {
	p := startShell(t, "echo hello; echo to-stderr >&2; exec sleep 60")
	waitForLog(t, p, "to-stderr")
	if !p.Running() {
		t.Fatal("process not running")
	}
	if got := p.Tail(1); got != "to-stderr" {
		t.Errorf("Tail(1) = %q, want %q", got, "to-stderr")
	}
	rss, err := p.RSS()
	if err != nil || rss <= 0 {
		t.Errorf("RSS() = %d, %v; want > 0", rss, err)
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if p.Running() {
		t.Error("still running after Stop")
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStopKillsWhatIgnoresSIGTERMAndChildren(t *testing.T) {
	// The shell ignores SIGTERM and leaves a child behind in its group.
	p := startShell(t, `trap '' TERM; sleep 300 & echo child=$!; while true; do sleep 1; done`)
	waitForLog(t, p, "child=")
	child, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(p.Tail(1)), "child="))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Stop(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("process survived Stop")
	}
	if time.Since(start) < 200*time.Millisecond {
		t.Error("Stop did not give the process its grace period before SIGKILL")
	}
	eventually.True(t, 5*time.Second, func() (bool, string) {
		return syscall.Kill(child, 0) != nil, fmt.Sprintf("child %d of the process group still alive", child)
	})
}

func TestStopSignalsEndAServerThatWaitsForASecondSignal(t *testing.T) {
	// Like a Kubernetes API server: the first shutdown signal starts a
	// graceful shutdown that does not end here, the second one exits.
	script := `n=0; trap 'n=$((n+1)); [ $n -ge 2 ] && exit 7' INT TERM; echo ready; while true; do sleep 0.1; done`
	p, err := Start(Spec{Name: "sh", Path: "/bin/sh", Args: []string{"-c", script}, Dir: t.TempDir(),
		StopSignals: []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(time.Second) })
	if p.ProcessState() != nil {
		t.Fatal("ProcessState of a running process is not nil")
	}
	waitForLog(t, p, "ready")
	if err := p.Stop(time.Minute); err != nil {
		t.Fatal(err)
	}
	// Exit status 7 is the script's own exit: no SIGKILL was needed.
	if st := p.ProcessState(); st == nil || !st.Exited() || st.ExitCode() != 7 {
		t.Fatalf("process state %v, want exit status 7 from the second signal", st)
	}
}

func TestProcessStateShowsTheKill(t *testing.T) {
	p := startShell(t, `trap '' TERM; echo ready; while true; do sleep 0.1; done`)
	waitForLog(t, p, "ready")
	if err := p.Stop(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	st := p.ProcessState()
	if st == nil || st.Exited() {
		t.Fatalf("process state %v, want killed", st)
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("process state %v, want killed by SIGKILL", st)
	}
}

func TestWaitReadyReportsExitWithLog(t *testing.T) {
	p := startShell(t, "echo fatal: bad flag; exit 3")
	err := p.WaitReady(context.Background(), 10*time.Millisecond, func(context.Context) error { return errors.New("not ready") })
	var exited *ExitedError
	if !errors.As(err, &exited) {
		t.Fatalf("err = %v, want *ExitedError", err)
	}
	if !strings.Contains(exited.Tail, "fatal: bad flag") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("error lacks the log or the exit status: %v", err)
	}
}

func TestWaitReadyTimeoutCarriesLastCheck(t *testing.T) {
	p := startShell(t, "exec sleep 60")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := p.WaitReady(ctx, 10*time.Millisecond, func(context.Context) error { return errors.New("port closed") })
	if err == nil || !strings.Contains(err.Error(), "port closed") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded with the last check", err)
	}
}

func TestStartRejectsIncompleteSpec(t *testing.T) {
	if _, err := Start(Spec{Name: "x", Path: "/bin/true"}); err == nil {
		t.Fatal("Start without Dir succeeded")
	}
	_, err := Start(Spec{Name: "x", Path: "/does/not/exist", Dir: t.TempDir()})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want os.ErrNotExist", err)
	}
}

func TestEnvironmentIsMinimal(t *testing.T) {
	t.Setenv("KUBECONFIG", "/should/not/leak")
	p, err := Start(Spec{Name: "env", Path: "/usr/bin/env", Dir: t.TempDir(), Env: []string{"EXTRA=1"}})
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	log := p.Tail(100)
	if strings.Contains(log, "KUBECONFIG") {
		t.Errorf("caller's KUBECONFIG leaked into the process environment:\n%s", log)
	}
	if !strings.Contains(log, "EXTRA=1") {
		t.Errorf("Spec.Env missing from the process environment:\n%s", log)
	}
}

func TestFreePortsDistinct(t *testing.T) {
	ports, err := FreePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("bad or repeated port %d in %v", p, ports)
		}
		seen[p] = true
	}
}

func TestGroup(t *testing.T) {
	a := startShell(t, "echo a-ready; exec sleep 60")
	b, err := Start(Spec{Name: "b", Path: "/bin/sh", Args: []string{"-c", "echo b-done"}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	<-b.Done()
	waitForLog(t, a, "a-ready")
	g := Group{a, b}
	if got := g.Running(); len(got) != 1 || got[0] != "sh" {
		t.Errorf("Running() = %v, want [sh]", got)
	}
	if tails := g.LogTails(5); !strings.Contains(tails, "a-ready") || !strings.Contains(tails, "b-done") {
		t.Errorf("LogTails misses a log:\n%s", tails)
	}
	mem, err := g.MemoryUsage()
	if err != nil || len(mem) != 1 || mem["sh"] <= 0 {
		t.Errorf("MemoryUsage() = %v, %v; want only the running process", mem, err)
	}
}

func TestStopKillsChildrenOfAnExitedLeader(t *testing.T) {
	p := startShell(t, `sleep 300 & echo child=$!; exit 0`)
	<-p.Done()
	child, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(p.Tail(1)), "child="))
	if err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(child, 0) != nil {
		t.Fatal("child not running before Stop")
	}
	if err := p.Stop(time.Second); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 5*time.Second, func() (bool, string) {
		return syscall.Kill(child, 0) != nil, fmt.Sprintf("child %d of an exited leader survived Stop", child)
	})
}
