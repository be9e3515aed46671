package process

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec describes a process to start.
type Spec struct {
	// Name is a short name used in errors and log file names, e.g. "etcd".
	Name string
	// Path is the executable.
	Path string
	// Args are the command-line arguments, without the executable.
	Args []string
	// Env is added to the minimal environment the process gets (PATH, HOME,
	// TMPDIR, LANG). The caller's other variables, such as KUBECONFIG, are not
	// passed.
	Env []string
	// Dir is the working directory; the log file is written there too.
	Dir string
	// StopSignals are the signals Stop sends to the process group, in
	// order, before it waits for the grace period (default: SIGTERM). A
	// server that ends a slow graceful shutdown at a second, different
	// shutdown signal stops at once with two.
	StopSignals []syscall.Signal
}

// ExitedError reports a process that ended while it was expected to run.
type ExitedError struct {
	Name string
	Err  error
	// Tail is the end of the process's log.
	Tail string
}

// Error says which process ended, how, and what it logged last.
func (e *ExitedError) Error() string {
	return fmt.Sprintf("%s exited: %v\n--- last lines of %s log ---\n%s", e.Name, e.Err, e.Name, e.Tail)
}

// Unwrap returns the process's exit error.
func (e *ExitedError) Unwrap() error { return e.Err }

// Process is a started server process.
type Process struct {
	spec    Spec
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{}
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// Start starts the process described by spec. Its standard output and
// standard error go to <Dir>/<Name>.log.
func Start(spec Spec) (*Process, error) {
	if spec.Name == "" || spec.Path == "" || spec.Dir == "" {
		return nil, fmt.Errorf("process: Name, Path and Dir are required (got %q, %q, %q)", spec.Name, spec.Path, spec.Dir)
	}
	if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("process %s: %w", spec.Name, err)
	}
	logPath := filepath.Join(spec.Dir, spec.Name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("process %s: %w", spec.Name, err)
	}
	if info, err := logFile.Stat(); err == nil && info.Size() > 0 { // a restart: mark where the new run begins
		fmt.Fprintf(logFile, "\n=== porchkit: %s restarted at %s ===\n", spec.Name, time.Now().Format(time.RFC3339))
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.Env = append(baseEnv(), spec.Env...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("process %s: start %s: %w", spec.Name, spec.Path, err)
	}
	p := &Process{spec: spec, cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Name returns the process's name.
func (p *Process) Name() string { return p.spec.Name }

// Pid returns the operating system's process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// LogPath returns the path of the process's log file.
func (p *Process) LogPath() string { return p.logPath }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// ProcessState returns how the process exited (whether on its own, with
// which status, or killed by which signal), or nil while it runs.
func (p *Process) ProcessState() *os.ProcessState {
	select {
	case <-p.done:
		return p.cmd.ProcessState
	default:
		return nil
	}
}

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// exitedError returns the ExitedError for a process that has ended.
func (p *Process) exitedError() error {
	err := p.waitErr
	if err == nil {
		err = errors.New("exit status 0")
	}
	return &ExitedError{Name: p.spec.Name, Err: err, Tail: p.Tail(40)}
}

// Stop ends the process: its StopSignals (default SIGTERM) to its process
// group, then SIGKILL when it has not exited after grace. It waits for the process to exit. Stop is safe
// to call more than once; later calls return the first call's result.
func (p *Process) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() {
		pgid := -p.cmd.Process.Pid
		// Children left in the group (e.g. functions the function runner
		// started) are killed even when the leader has exited already.
		defer func() { _ = syscall.Kill(pgid, syscall.SIGKILL) }()
		if !p.Running() {
			return
		}
		sigs := p.spec.StopSignals
		if len(sigs) == 0 {
			sigs = []syscall.Signal{syscall.SIGTERM}
		}
		for _, sig := range sigs {
			_ = syscall.Kill(pgid, sig)
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-p.done:
		case <-timer.C:
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(30 * time.Second):
				p.stopErr = fmt.Errorf("process %s (pid %d) did not exit after SIGKILL", p.spec.Name, p.Pid())
			}
		}
	})
	return p.stopErr
}

// Tail returns the last n lines of the process's log.
func (p *Process) Tail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return TailLines(data, n)
}

// TailLines returns the last n lines of text.
func TailLines(text []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(text, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// RSS returns the resident set size of the process in bytes, read from
// /proc/<pid>/status.
func (p *Process) RSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("process %s: %w", p.spec.Name, err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, "VmRSS:") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, "VmRSS:"))
		if len(fields) < 1 {
			break
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("process %s: parse VmRSS %q: %w", p.spec.Name, line, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("process %s: no VmRSS in /proc/%d/status", p.spec.Name, p.Pid())
}

// WaitReady calls check every interval until it returns nil, the context
// ends, or the process exits. The error of a context that ended carries the
// last check error; that of an exited process carries the log tail.
func (p *Process) WaitReady(ctx context.Context, interval time.Duration, check func(context.Context) error) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var last error
	for {
		if last = check(ctx); last == nil {
			return nil
		}
		select {
		case <-p.done:
			return p.exitedError()
		default:
		}
		select {
		case <-p.done:
			return p.exitedError()
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last check: %v)\n--- last lines of %s log ---\n%s",
				p.spec.Name, context.Cause(ctx), last, p.spec.Name, p.Tail(20))
		case <-ticker.C:
		}
	}
}
