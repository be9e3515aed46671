package krm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
)

// ContainerConfig configures NewContainer for the machine it runs on. Its
// zero value uses the first of docker and podman whose engine answers, that
// engine's default OCI runtime and configuration, pulls an image only when
// it is missing, and caps a function at one CPU core.
type ContainerConfig struct {
	// Engine is "docker", "podman", or the path of either's command line;
	// "" tries docker, then podman. An engine is used only once its `info`
	// answers, so a docker client without a daemon is passed over.
	Engine string
	// OCIRuntime is the OCI runtime the engine starts containers with
	// (e.g. "runc", "crun", or a path): podman's --runtime, docker run's
	// --runtime. "" leaves the engine's default.
	OCIRuntime string
	// ContainersConf is the path of a containers.conf for podman, given to
	// the podman commands alone as CONTAINERS_CONF; docker ignores it. ""
	// leaves podman's own search (and any CONTAINERS_CONF already set).
	ContainersConf string
	// Env is extra KEY=VALUE environment for the engine commands (not the
	// function), e.g. DOCKER_HOST or XDG_RUNTIME_DIR.
	Env []string
	// EngineFlags go before the subcommand of every engine command, e.g.
	// podman's --root or --storage-driver.
	EngineFlags []string
	// RunFlags are added to `run` before the sandbox's own flags, which win
	// where both set the same option.
	RunFlags []string
	// Pull is when an image is pulled: "missing" (the default), "never" or
	// "always".
	Pull string
	// CPUs caps the rate of CPU a function may use, in cores (--cpus). 0
	// means 1; a negative value sets no rate cap (for engines without a
	// CPU controller). The CPU time a function may use is Limits.CPU.
	CPUs float64
	// ImageMirrors rewrites image references before they run: a reference
	// starting with a key starts with its value instead (the longest key
	// wins), for registries mirrored locally or machines without a
	// registry. Errors and run records keep the reference as written.
	ImageMirrors map[string]string
}

// NewContainer returns a runtime that runs functions as container images
// through docker or podman, in the sandbox Limits describe: no network
// (the host's network when granted), a read-only root filesystem with a
// private /tmp, the memory limit with swap off, the CPU-time limit
// (RLIMIT_CPU, as for executables) and a CPU rate cap, the process limit,
// the wall-clock timeout and the output bound, all capabilities dropped,
// no new privileges, as user nobody (65534). A container that times out or
// floods its output is killed and removed. Without a working engine, Run
// fails with ErrNoContainerRuntime. A ContainerConfig field with a value
// it does not accept is an ErrBadInput naming the field.
func NewContainer(cfg ContainerConfig) (Runtime, error) {
	switch cfg.Pull {
	case "", "missing", "never", "always":
	default:
		return nil, fmt.Errorf("%w: ContainerConfig.Pull is %q, want missing, never or always", ErrBadInput, cfg.Pull)
	}
	if cfg.Pull == "" {
		cfg.Pull = "missing"
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = 1
	}
	for _, kv := range cfg.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, fmt.Errorf("%w: ContainerConfig.Env entry %q is not KEY=VALUE", ErrBadInput, kv)
		}
	}
	for from := range cfg.ImageMirrors {
		if from == "" {
			return nil, fmt.Errorf("%w: ContainerConfig.ImageMirrors has an empty prefix", ErrBadInput)
		}
	}
	c := &container{cfg: cfg}
	c.cfg.Env = slices.Clone(cfg.Env)
	c.cfg.EngineFlags = slices.Clone(cfg.EngineFlags)
	c.cfg.RunFlags = slices.Clone(cfg.RunFlags)
	c.mirrors = make(map[string]string, len(cfg.ImageMirrors))
	for from, to := range cfg.ImageMirrors {
		c.mirrors[from] = to
	}
	c.cfg.ImageMirrors = nil
	return c, nil
}

// Container returns NewContainer's runtime with the zero ContainerConfig:
// the first engine that answers, with its own defaults.
func Container() Runtime {
	rt, err := NewContainer(ContainerConfig{})
	if err != nil {
		panic(err) // the zero ContainerConfig is valid
	}
	return rt
}

type container struct {
	cfg     ContainerConfig
	mirrors map[string]string

	// mu guards found, the engine once one has answered.
	mu    sync.Mutex
	found *engine
}

// engine is a container engine's command line.
type engine struct {
	path   string
	podman bool
}

func (*container) Name() string { return "container" }

// engineTimeout bounds the engine commands that are not the function's run
// (info, rm).
const engineTimeout = 30 * time.Second

// command is an engine command with the configured environment and global
// flags.
func (c *container) command(ctx context.Context, e *engine, args ...string) *exec.Cmd {
	var all []string
	all = append(all, c.cfg.EngineFlags...)
	if e.podman && c.cfg.OCIRuntime != "" {
		all = append(all, "--runtime", c.cfg.OCIRuntime)
	}
	cmd := exec.CommandContext(ctx, e.path, append(all, args...)...)
	cmd.Env = os.Environ()
	if e.podman && c.cfg.ContainersConf != "" {
		cmd.Env = append(cmd.Env, "CONTAINERS_CONF="+c.cfg.ContainersConf)
	}
	cmd.Env = append(cmd.Env, c.cfg.Env...)
	return cmd
}

// engine finds the configured engine, or the first of docker and podman,
// whose info answers, and remembers it.
func (c *container) engine(ctx context.Context) (*engine, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.found != nil {
		return c.found, nil
	}
	candidates := []string{"docker", "podman"}
	if c.cfg.Engine != "" {
		candidates = []string{c.cfg.Engine}
	}
	var tried []string
	for _, name := range candidates {
		path, err := exec.LookPath(name)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: not found", name))
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, engineTimeout)
		version, err := exec.CommandContext(cctx, path, "--version").Output()
		e := &engine{path: path, podman: bytes.Contains(bytes.ToLower(version), []byte("podman"))}
		format := "{{.ServerVersion}}"
		if e.podman {
			format = "{{.Version.Version}}"
		}
		var out []byte
		if err == nil {
			out, err = c.command(cctx, e, "info", "--format", format).CombinedOutput()
		}
		cancel()
		if err == nil {
			c.found = e
			return e, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v: %s", path, err, bytes.TrimSpace(out)))
	}
	return nil, fmt.Errorf("%w: %s", ErrNoContainerRuntime, strings.Join(tried, "; "))
}

// image is the reference the engine runs for ref, after ImageMirrors.
func (c *container) image(ref string) string {
	best := ""
	for from := range c.mirrors {
		if strings.HasPrefix(ref, from) && len(from) > len(best) {
			best = from
		}
	}
	if best == "" {
		return ref
	}
	return c.mirrors[best] + strings.TrimPrefix(ref, best)
}

// runArgs are the arguments of the engine's run command: the sandbox.
func (c *container) runArgs(e *engine, name, image string, limits Limits) []string {
	args := append([]string{"run"}, c.cfg.RunFlags...)
	args = append(args, "--rm", "-i", "--quiet", "--name", name, "--pull", c.cfg.Pull,
		"--log-driver", "none",
		"--read-only", "--tmpfs", "/tmp:rw,nosuid,nodev,mode=1777",
		"--user", strconv.Itoa(nobody)+":"+strconv.Itoa(nobody), "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--memory", strconv.FormatInt(limits.Memory, 10), "--memory-swap", strconv.FormatInt(limits.Memory, 10),
		"--pids-limit", strconv.Itoa(limits.Processes),
		// The engines raise the open-file and process rlimits unless told;
		// an executable inherits the former and gets the latter from
		// Limits, and so does a container.
		"--ulimit", "cpu="+cpuSeconds(limits)+":"+cpuSeconds(limits),
		"--ulimit", "nproc="+strconv.Itoa(limits.Processes)+":"+strconv.Itoa(limits.Processes),
		"--ulimit", "nofile="+openFiles()+":"+openFiles(),
		"--ulimit", "core=0:0")
	if c.cfg.CPUs > 0 {
		args = append(args, "--cpus", strconv.FormatFloat(c.cfg.CPUs, 'f', -1, 64))
	}
	if !e.podman && c.cfg.OCIRuntime != "" {
		args = append(args, "--runtime", c.cfg.OCIRuntime)
	}
	if limits.Network {
		args = append(args, "--network", "host")
	} else {
		args = append(args, "--network", "none")
	}
	for _, m := range limits.Mounts {
		args = append(args, "--mount", "type=bind,source="+m+",target="+m+",readonly")
	}
	return append(args, image)
}

// openFiles is the open-file limit this process would hand an executable
// (its hard limit), as an --ulimit value.
func openFiles() string {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Max == ^uint64(0) || rl.Max > 1<<20 {
		return strconv.Itoa(1 << 20)
	}
	return strconv.FormatUint(rl.Max, 10)
}

// remove force-removes the container called name; a container that is
// already gone is no error.
func (c *container) remove(ctx context.Context, e *engine, name string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), engineTimeout)
	defer cancel()
	args := []string{"rm", "-f", name}
	if e.podman {
		args = []string{"rm", "-f", "--time", "0", name}
	}
	out, err := c.command(ctx, e, args...).CombinedOutput()
	if err != nil && !bytes.Contains(bytes.ToLower(out), []byte("no such container")) {
		return fmt.Errorf("remove container %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

// containerName is a fresh name for one run's container.
func containerName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "krm-fn-" + hex.EncodeToString(b[:])
}

// Exit codes of docker and podman run: the engine itself failed, the
// container's command could not be invoked, the function was killed by
// SIGKILL (the kernel's answer to the memory cgroup's limit and to the
// hard CPU-time rlimit).
const (
	exitEngineFailed = 125
	exitCannotInvoke = 126
	exitKilled       = 128 + int(syscall.SIGKILL)
)

func (c *container) Run(ctx context.Context, fn Function, in *framework.ResourceList, limits Limits) (*Output, error) {
	if err := limits.check(); err != nil {
		return nil, err
	}
	input, err := protocolInput(fn, in)
	if err != nil {
		return nil, err
	}
	e, err := c.engine(ctx)
	if err != nil {
		return nil, &FunctionError{Function: fn.String(), Kind: ErrNoContainerRuntime, ExitCode: -1, Err: err}
	}
	image := c.image(fn.Image)
	name := containerName()
	// The engine runs in a directory of its own: podman's conmon leaves a
	// file named oom in its working directory when the memory limit kills
	// the function.
	dir, err := os.MkdirTemp("", "krm-container-")
	if err != nil {
		return nil, fmt.Errorf("krm: engine directory: %w", err)
	}
	defer os.RemoveAll(dir)
	runCtx, cancel := context.WithTimeout(ctx, limits.WallTime)
	defer cancel()
	cmd := c.command(runCtx, e, c.runArgs(e, name, image, limits)...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(input)
	stdout := &limitedBuffer{max: limits.MaxOutput, onOverflow: cancel}
	stderr := &tailBuffer{max: stderrTail}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// The engine's client is not the container: killing it alone leaves
	// the container running, so a stopped run removes the container first.
	cmd.Cancel = func() error {
		_ = c.remove(ctx, e, name)
		return cmd.Process.Kill()
	}
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, &FunctionError{Function: fn.String(), Kind: ErrNoContainerRuntime, ExitCode: -1, Err: err}
	}
	waitErr := cmd.Wait()
	info := RunInfo{Runtime: "container", Duration: time.Since(start), ExitCode: cmd.ProcessState.ExitCode()}
	fail := func(kind error, cause error) (*Output, error) {
		return nil, &FunctionError{Function: fn.String(), Kind: kind, ExitCode: info.ExitCode, Stderr: stderr.String(), Err: cause}
	}
	if runCtx.Err() != nil {
		// The client may have been killed while it created the container,
		// before the first removal could find it.
		rmErr := c.remove(ctx, e, name)
		switch {
		case stdout.overflowed():
			return fail(ErrOutputTooLarge, errors.Join(fmt.Errorf("more than %d bytes on stdout", limits.MaxOutput), rmErr))
		case ctx.Err() != nil:
			return nil, errors.Join(fmt.Errorf("krm: %s: %w", fn, ctx.Err()), rmErr)
		default:
			return fail(ErrTimeout, errors.Join(fmt.Errorf("killed after %v", limits.WallTime), rmErr))
		}
	}
	if waitErr != nil && len(stdout.Bytes()) == 0 && (info.ExitCode == exitEngineFailed || info.ExitCode == exitCannotInvoke) {
		if imageMissing(stderr.String(), image) {
			return fail(ErrUnknownFunction, fmt.Errorf("the engine has no image %s and did not pull it (pull policy %s)", image, c.cfg.Pull))
		}
		return fail(ErrSandboxUnavailable, fmt.Errorf("the engine could not start the container: %w", waitErr))
	}
	if info.ExitCode == exitKilled {
		if _, err := os.Stat(filepath.Join(dir, "oom")); err == nil {
			return fail(ErrResourceLimit, fmt.Errorf("killed at the memory limit (%d bytes, swap off)", limits.Memory))
		}
		return fail(ErrResourceLimit, fmt.Errorf("killed inside the container, at the memory limit (%d bytes, swap off) or the CPU-time limit (%ss)",
			limits.Memory, cpuSeconds(limits)))
	}
	return processOutput(fn, info, stdout.Bytes(), stderr, waitErr)
}

// imageMissing recognises the engine saying it has no such image (and
// could not pull one).
func imageMissing(stderr, image string) bool {
	s := strings.ToLower(stderr)
	for _, m := range []string{"image not known", "no such image", "unable to find image", "manifest unknown", "pull access denied"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return strings.Contains(stderr, image)
}
