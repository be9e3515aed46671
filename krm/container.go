package krm

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"time"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
)

// Container returns a runtime that runs functions as container images
// through docker or podman, whichever answers first: no network (unless
// granted), memory, CPU and process limits, a read-only root filesystem, as
// user nobody. Without a working engine, Run fails with
// ErrNoContainerRuntime.
func Container() Runtime { return &container{} }

type container struct{}

func (*container) Name() string { return "container" }

// engine finds a container engine whose daemon answers.
func engine(ctx context.Context) (string, error) {
	var tried []string
	for _, name := range []string{"docker", "podman"} {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		out, err := exec.CommandContext(cctx, path, "info", "--format", "{{.ServerVersion}}").CombinedOutput()
		cancel()
		if err == nil {
			return path, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %s", name, bytes.TrimSpace(out)))
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("%w: neither docker nor podman is installed", ErrNoContainerRuntime)
	}
	return "", fmt.Errorf("%w: %v", ErrNoContainerRuntime, tried)
}

func (c *container) Run(ctx context.Context, fn Function, in *framework.ResourceList, limits Limits) (*Output, error) {
	bin, err := engine(ctx)
	if err != nil {
		return nil, &FunctionError{Function: fn.String(), Kind: ErrNoContainerRuntime, ExitCode: -1, Err: err}
	}
	input, err := protocolInput(fn, in)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, limits.WallTime)
	defer cancel()
	args := []string{"run", "--rm", "-i", "--read-only", "--user", "nobody",
		"--memory", strconv.FormatInt(limits.Memory, 10), "--cpus", "1",
		"--pids-limit", strconv.Itoa(limits.Processes), "--security-opt", "no-new-privileges"}
	if !limits.Network {
		args = append(args, "--network", "none")
	}
	for _, m := range limits.Mounts {
		args = append(args, "--mount", "type=bind,source="+m+",target="+m+",readonly")
	}
	args = append(args, fn.Image)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = bytes.NewReader(input)
	stdout := &limitedBuffer{max: limits.MaxOutput, onOverflow: cancel}
	stderr := &tailBuffer{max: stderrTail}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	start := time.Now()
	waitErr := cmd.Run()
	info := RunInfo{Runtime: "container", Duration: time.Since(start), ExitCode: cmd.ProcessState.ExitCode()}
	switch {
	case stdout.overflowed():
		return nil, &FunctionError{Function: fn.String(), Kind: ErrOutputTooLarge, ExitCode: -1, Stderr: stderr.String()}
	case ctx.Err() == context.DeadlineExceeded:
		return nil, &FunctionError{Function: fn.String(), Kind: ErrTimeout, ExitCode: -1, Stderr: stderr.String()}
	}
	items, results, derr := decodeList(stdout.Bytes())
	if waitErr != nil {
		return nil, &FunctionError{Function: fn.String(), Kind: ErrFunctionFailed, ExitCode: info.ExitCode, Stderr: stderr.String(), Results: results, Err: waitErr}
	}
	if derr != nil {
		return nil, &FunctionError{Function: fn.String(), Kind: ErrBadOutput, ExitCode: info.ExitCode, Stderr: stderr.String(), Err: derr}
	}
	if hasErrors(results) {
		return nil, &FunctionError{Function: fn.String(), Kind: ErrFunctionFailed, ExitCode: info.ExitCode, Results: results}
	}
	return &Output{Items: items, Results: results, Run: info}, nil
}
