package krm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Executable returns a runtime that runs the executable at path, speaking
// the KRM function protocol on stdin and stdout, inside a sandbox: a
// wall-clock timeout, CPU-time, memory and process limits (rlimits), a
// bounded output, a scrubbed environment, a private temporary working
// directory, and a new network namespace unless the function was granted
// network. Where a network namespace cannot be created, Run refuses with
// ErrSandboxUnavailable unless cfg.AllowWithoutNetworkIsolation is set.
func Executable(path string, cfg ExecConfig) Runtime {
	return &executable{path: path, args: slices.Clone(cfg.Args), noNetIsolation: cfg.AllowWithoutNetworkIsolation}
}

// ExecConfig configures Executable. Its zero value runs the executable
// without arguments and only inside a network namespace.
type ExecConfig struct {
	// Args are passed to the executable.
	Args []string
	// AllowWithoutNetworkIsolation runs the function even where no network
	// namespace can be created; it then shares the host's network.
	AllowWithoutNetworkIsolation bool
}

type executable struct {
	path           string
	args           []string
	noNetIsolation bool
}

func (*executable) Name() string { return "exec" }

// stderrTail is how much of stderr a FunctionError keeps.
const stderrTail = 4 << 10

// nobody is the uid and gid functions run as when porchkit runs as root.
const nobody = 65534

func (e *executable) Run(ctx context.Context, fn Function, in *framework.ResourceList, limits Limits) (*Output, error) {
	if err := limits.check(); err != nil {
		return nil, err
	}
	input, err := protocolInput(fn, in)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "krm-fn-")
	if err != nil {
		return nil, fmt.Errorf("krm: sandbox directory: %w", err)
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithTimeout(ctx, limits.WallTime)
	defer cancel()
	name, args := e.path, e.args
	if prlimit, err := exec.LookPath("prlimit"); err == nil {
		// prlimit(1) sets the limits before the function's first
		// instruction.
		name, args = prlimit, append([]string{
			"--data=" + strconv.FormatInt(limits.Memory, 10),
			"--cpu=" + cpuSeconds(limits),
			"--nproc=" + strconv.Itoa(limits.Processes),
			"--core=0",
			"--", e.path}, e.args...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "TMPDIR=" + dir, "LANG=C.UTF-8"}
	cmd.Stdin = bytes.NewReader(input)
	stdout := &limitedBuffer{max: limits.MaxOutput, onOverflow: cancel}
	stderr := &tailBuffer{max: stderrTail}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// As root, the function runs as nobody, in a new network namespace
	// unless granted network: root is exempt from the process limit, and the
	// KRM spec expects functions to run as nobody. Otherwise a new user
	// namespace (mapping the caller's uid) makes the network namespace
	// possible; there the kernel counts processes per namespace, so the
	// process limit is weaker.
	if os.Getuid() == 0 {
		if err := os.Chown(dir, nobody, nobody); err != nil {
			return nil, fmt.Errorf("krm: sandbox directory: %w", err)
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
		if !limits.Network {
			cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET
		}
	} else if !limits.Network {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET | syscall.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	start := time.Now()
	err = cmd.Start()
	if err != nil && !limits.Network && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC)) {
		if !e.noNetIsolation {
			return nil, &FunctionError{Function: fn.String(), Kind: ErrSandboxUnavailable, ExitCode: -1,
				Err: fmt.Errorf("cannot create a network namespace (%v); set ExecConfig.AllowWithoutNetworkIsolation to run without one", err)}
		}
		cmd.SysProcAttr.Cloneflags, cmd.SysProcAttr.UidMappings, cmd.SysProcAttr.GidMappings = 0, nil, nil
		err = cmd.Start()
	}
	if err != nil {
		return nil, &FunctionError{Function: fn.String(), Kind: ErrUnknownFunction, ExitCode: -1, Err: err}
	}
	waitErr := cmd.Wait()
	// Whatever the function started dies with it.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	info := RunInfo{Runtime: "exec", Duration: time.Since(start), ExitCode: cmd.ProcessState.ExitCode()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		info.PeakMemory = ru.Maxrss * 1024
	}
	fail := func(kind error, cause error) (*Output, error) {
		return nil, &FunctionError{Function: fn.String(), Kind: kind, ExitCode: info.ExitCode, Stderr: stderr.String(), Err: cause}
	}
	switch {
	case stdout.overflowed():
		return fail(ErrOutputTooLarge, fmt.Errorf("more than %d bytes on stdout", limits.MaxOutput))
	case ctx.Err() == context.DeadlineExceeded:
		return fail(ErrTimeout, fmt.Errorf("killed after %v", limits.WallTime))
	case killedBy(cmd, syscall.SIGXCPU) || killedBy(cmd, syscall.SIGKILL) && info.Duration < limits.WallTime && ctx.Err() == nil:
		return fail(ErrResourceLimit, fmt.Errorf("killed (%v)", waitErr))
	}
	return processOutput(fn, info, stdout.Bytes(), stderr, waitErr)
}

// processOutput turns what a function process (an executable or a
// container) wrote and how it exited into the run's Output or a typed
// *FunctionError: a non-zero exit is ErrFunctionFailed (ErrResourceLimit
// when stderr shows a limit was hit), output that is not a ResourceList is
// ErrBadOutput, and an error result fails the run.
func processOutput(fn Function, info RunInfo, stdout []byte, stderr *tailBuffer, waitErr error) (*Output, error) {
	items, results, derr := decodeList(stdout)
	fe := &FunctionError{Function: fn.String(), Kind: ErrFunctionFailed, ExitCode: info.ExitCode, Stderr: stderr.String()}
	switch {
	case waitErr != nil:
		fe.Err = waitErr
		if derr == nil {
			fe.Results = results
		}
		if stderr.sawLimit {
			fe.Kind = ErrResourceLimit
		}
		return nil, fe
	case derr != nil:
		fe.Kind, fe.Err = ErrBadOutput, derr
		return nil, fe
	case hasErrors(results):
		fe.Results = results
		return nil, fe
	}
	return &Output{Items: items, Results: results, Run: info}, nil
}

func killedBy(cmd *exec.Cmd, sig syscall.Signal) bool {
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// isMemoryFailure recognises a runtime that died allocating under the
// address-space limit (Go prints "out of memory", C "Cannot allocate").
func isMemoryFailure(stderr string) bool {
	for _, s := range []string{"out of memory", "cannot allocate memory", "Cannot allocate memory", "failed to reserve page summary memory"} {
		if bytes.Contains([]byte(stderr), []byte(s)) {
			return true
		}
	}
	return false
}

// isProcessLimit recognises a function stopped by the process limit:
// fork or thread creation refused.
func isProcessLimit(stderr string) bool {
	s := strings.ToLower(stderr)
	return strings.Contains(s, "resource temporarily unavailable") || strings.Contains(s, "failed to create new os thread")
}

// protocolInput is what a process function reads on stdin: the items and
// the call's functionConfig.
func protocolInput(fn Function, in *framework.ResourceList) ([]byte, error) {
	rl := &framework.ResourceList{Items: in.Items}
	if fn.Config != nil {
		rl.FunctionConfig = fn.Config.Copy()
	}
	return encodeList(rl)
}

// encodeList serialises a ResourceList as the function protocol's YAML,
// byte for byte as kio.ByteWriter writes it (keeping every annotation):
// apiVersion, kind, the items and the functionConfig, in one document. It
// writes the envelope itself and encodes the items a batch at a time with
// an encoder of its own (the encoder keeps every event it is given, so one
// for the whole list would hold them all), and copies only the items
// whose empty annotations (or metadata) the writer drops.
func encodeList(rl *framework.ResourceList) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("apiVersion: " + kio.ResourceListAPIVersion + "\nkind: " + kio.ResourceListKind + "\n")
	if len(rl.Items) == 0 {
		buf.WriteString("items: []\n")
	} else {
		buf.WriteString("items:\n")
	}
	nodes := make([]*yaml.Node, len(rl.Items))
	for i, n := range rl.Items {
		if !keepsEmptyFields(n) {
			n = n.Copy()
			if err := yaml.ClearEmptyAnnotations(n); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
			}
		}
		nodes[i] = n.YNode()
	}
	for batch := range slices.Chunk(nodes, encodeBatch) {
		if err := encodeNode(&buf, &yaml.Node{Kind: yaml.SequenceNode, Content: batch}); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
	}
	if rl.FunctionConfig != nil {
		fc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: "functionConfig"}, rl.FunctionConfig.YNode()}}
		if err := encodeNode(&buf, fc); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
	}
	return buf.Bytes(), nil
}

// encodeBatch is how many items encodeList gives one encoder.
const encodeBatch = 16

// encodeNode appends node to buf as the top of a document, as kyaml's
// encoder writes it.
func encodeNode(buf *bytes.Buffer, node *yaml.Node) error {
	e := yaml.NewEncoder(buf)
	if err := e.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{node}}); err != nil {
		return err
	}
	return e.Close()
}

// keepsEmptyFields reports that yaml.ClearEmptyAnnotations would leave n
// as it is: a well-formed mapping whose metadata fields are all non-empty
// and whose metadata's annotations fields are too.
func keepsEmptyFields(rn *yaml.RNode) bool {
	n := rn.YNode()
	if n == nil || n.Kind != yaml.MappingNode || len(n.Content)%2 != 0 || slices.Contains(n.Content, nil) {
		return false
	}
	first := true
	for i := 0; i < len(n.Content); i += 2 {
		if n.Content[i].Value != yaml.MetadataField {
			continue
		}
		md := n.Content[i+1]
		if len(md.Content) == 0 {
			return false
		}
		if first {
			first = false
			if md.Kind != yaml.MappingNode || len(md.Content)%2 != 0 || slices.Contains(md.Content, nil) {
				return false
			}
			for j := 0; j < len(md.Content); j += 2 {
				if md.Content[j].Value == yaml.AnnotationsField && len(md.Content[j+1].Content) == 0 {
					return false
				}
			}
		}
	}
	return true
}

// DecodeResourceList reads a ResourceList (the KRM function protocol's
// message): its items, functionConfig and results. Anything else is an
// error wrapping ErrBadOutput.
func DecodeResourceList(data []byte) (*framework.ResourceList, error) {
	list, items, results, err := readList(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadOutput, err)
	}
	rl := &framework.ResourceList{Items: items, Results: results}
	if fc := list.Field("functionConfig"); fc != nil && fc.Value != nil && fc.Value.YNode().Kind == yaml.MappingNode {
		rl.FunctionConfig = fc.Value
	}
	return rl, nil
}

// EncodeResourceList writes a ResourceList in the KRM function protocol.
func EncodeResourceList(rl *framework.ResourceList) ([]byte, error) { return encodeList(rl) }

// decodeList reads a function's output, which must be a ResourceList: its
// items and results.
func decodeList(data []byte) ([]*yaml.RNode, framework.Results, error) {
	_, items, results, err := readList(data)
	return items, results, err
}

// readList is decodeList with the list itself (its first document). The
// items are those kio.ByteReader reads. The output is parsed once, unless
// it has more than one document (or Windows line ends), which
// kio.ByteReader reads its own way.
func readList(data []byte) (list *yaml.RNode, items []*yaml.RNode, results framework.Results, err error) {
	// kyaml panics on some malformed documents; a function's output must
	// never take the caller down.
	defer func() {
		if r := recover(); r != nil {
			list, items, results, err = nil, nil, nil, fmt.Errorf("unreadable output: %v", r)
		}
	}()
	doc := &yaml.Node{}
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(doc); err != nil {
		return nil, nil, nil, fmt.Errorf("output is not YAML: %v", err)
	}
	list = yaml.NewRNode(doc)
	if list.YNode().Kind != yaml.MappingNode {
		return nil, nil, nil, fmt.Errorf("output is not a YAML mapping")
	}
	if list.GetKind() != kio.ResourceListKind {
		return nil, nil, nil, fmt.Errorf("output kind is %q, want ResourceList", list.GetKind())
	}
	if bytes.Contains(data, []byte("\n---")) || bytes.ContainsRune(data, '\r') ||
		list.Field("items") == nil && list.Field("functionConfig") == nil {
		r := &kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}
		if items, err = r.Read(); err != nil {
			return nil, nil, nil, fmt.Errorf("output items: %v", err)
		}
	} else if f := list.Field("items"); f != nil {
		// kio.ByteReader unwraps a lone ResourceList so: every node under
		// items is an item.
		for _, n := range f.Value.Content() {
			items = append(items, yaml.NewRNode(n))
		}
	}
	if rn := list.Field("results"); rn != nil && rn.Value != nil {
		s, err := rn.Value.String()
		if err == nil {
			err = yaml.Unmarshal([]byte(s), &results)
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("output results: %v", err)
		}
	}
	return list, items, results, nil
}

// limitedBuffer keeps at most max bytes and calls onOverflow once when more
// arrive. It has no ReadFrom, so io.Copy goes through Write.
type limitedBuffer struct {
	mu         sync.Mutex
	buf        bytes.Buffer
	max        int64
	overflow   bool
	onOverflow func()
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.overflow {
		return 0, io.ErrShortWrite
	}
	if int64(b.buf.Len()+len(p)) > b.max {
		b.overflow = true
		b.onOverflow()
		return 0, io.ErrShortWrite
	}
	return b.buf.Write(p)
}

// Bytes returns what was written.
func (b *limitedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}

// overflowed reports whether the limit was hit.
func (b *limitedBuffer) overflowed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.overflow
}

// tailBuffer keeps the last max bytes written, and notes whether the
// function's runtime reported hitting a memory or process limit anywhere in
// the stream (a crash dump can push that line out of the tail).
type tailBuffer struct {
	mu       sync.Mutex
	buf      []byte
	max      int
	sawLimit bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sawLimit = t.sawLimit || isMemoryFailure(string(p)) || isProcessLimit(string(p))
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
