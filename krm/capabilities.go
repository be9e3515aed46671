package krm

import (
	"fmt"
	"path"
	"strconv"
	"time"
)

// Capabilities are what a function needs from its runtime. Builtin, exec
// and container functions declare them the same way, and one Policy judges
// them.
type Capabilities struct {
	// Network: the function opens network connections.
	Network bool
	// Mounts are host paths the function reads.
	Mounts []string
	// Memory is the memory it needs, in bytes (0: the policy's default).
	Memory int64
	// CPU is the CPU time it needs (0: the policy's default).
	CPU time.Duration
	// WallTime is how long it may run (0: the policy's default).
	WallTime time.Duration
}

// Policy grants capabilities. The zero Policy grants no network and no
// mounts, and the default limits below.
type Policy struct {
	// AllowNetwork lets functions that declare Network have it.
	AllowNetwork bool
	// AllowMounts are glob patterns of host paths functions may mount.
	AllowMounts []string
	// MaxMemory caps the memory a function may ask for, in bytes (0: no
	// cap); a function asking more is denied.
	MaxMemory int64
	// MaxCPU caps the CPU time a function may ask for (0: no cap).
	MaxCPU time.Duration
	// MaxWallTime caps how long a function may ask to run (0: no cap).
	MaxWallTime time.Duration
	// Defaults are the memory, CPU time and wall time a function gets when
	// it declares none (zero fields: DefaultMemory, DefaultCPU,
	// DefaultWallTime); Network and Mounts are ignored.
	Defaults Capabilities
}

// Default limits, used when a function declares nothing and the Policy
// sets no Defaults.
const (
	// DefaultMemory is the memory a function gets, in bytes (512 MiB).
	DefaultMemory int64 = 512 << 20
	// DefaultCPU is the CPU time a function gets.
	DefaultCPU = 30 * time.Second
	// DefaultWallTime is how long a function may run.
	DefaultWallTime = 60 * time.Second
	// DefaultMaxOutput bounds a function's stdout.
	DefaultMaxOutput int64 = 64 << 20
	// DefaultMaxProcesses bounds the processes (threads) an exec or
	// container function may have.
	DefaultMaxProcesses = 256
)

// CapabilityError says which capability a policy refused and why. It wraps
// ErrCapabilityDenied.
type CapabilityError struct {
	// Function is the refused function (Function.String()).
	Function string
	// Capability names what was refused: "network", "mount", "memory",
	// "cpu" or "wall time".
	Capability string
	// Reason says why, e.g. the amount asked and the amount allowed.
	Reason string
}

// Error implements error.
func (e *CapabilityError) Error() string {
	return fmt.Sprintf("krm: %s: %v: %s: %s", e.Function, ErrCapabilityDenied, e.Capability, e.Reason)
}

// Unwrap makes errors.Is(err, ErrCapabilityDenied) true.
func (e *CapabilityError) Unwrap() error { return ErrCapabilityDenied }

// Limits are the resources one run gets after the policy's decision. The
// exec and container runtimes enforce the same values; both refuse a
// Limits with a resource bound that is not positive (ErrBadInput).
type Limits struct {
	// Memory is the memory a function may use, in bytes (DefaultMemory
	// unless the function asks): an exec function's data-segment limit
	// (RLIMIT_DATA), a container's memory limit with swap off.
	Memory int64
	// CPU is the CPU time a function may use, rounded up to whole seconds
	// (DefaultCPU unless the function asks): RLIMIT_CPU of the exec
	// function or of the container's process.
	CPU time.Duration
	// WallTime is how long the run may take before it is stopped
	// (DefaultWallTime unless the function asks); a stopped container is
	// removed.
	WallTime time.Duration
	// MaxOutput bounds the function's stdout, in bytes: a run that writes
	// more is stopped (DefaultMaxOutput).
	MaxOutput int64
	// Processes bounds the processes (threads) of an exec or container
	// function (DefaultMaxProcesses): RLIMIT_NPROC, and a container's pids
	// limit.
	Processes int
	// Network grants network access; without it the function runs in a
	// network namespace of its own, or a container without network. With
	// it, both share the host's network.
	Network bool
	// Mounts are the host paths the function may read, as it declared
	// them.
	Mounts []string
}

// check refuses limits a sandbox cannot run under: every bound must be
// positive (a zero value is not "unbounded").
func (l Limits) check() error {
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"Memory", l.Memory > 0}, {"CPU", l.CPU > 0}, {"WallTime", l.WallTime > 0},
		{"MaxOutput", l.MaxOutput > 0}, {"Processes", l.Processes > 0},
	} {
		if !f.ok {
			return fmt.Errorf("%w: Limits.%s must be positive", ErrBadInput, f.name)
		}
	}
	return nil
}

// cpuSeconds is the CPU-time limit in whole seconds, rounded up, as an
// rlimit value.
func cpuSeconds(l Limits) string {
	return strconv.FormatInt(int64((l.CPU+time.Second-1)/time.Second), 10)
}

// Grant checks the function's declared needs and returns the limits it runs
// under, or a *CapabilityError.
func (p Policy) Grant(fn Function) (Limits, error) {
	need := fn.Needs
	deny := func(capability, format string, args ...any) (Limits, error) {
		return Limits{}, &CapabilityError{Function: fn.String(), Capability: capability, Reason: fmt.Sprintf(format, args...)}
	}
	if need.Network && !p.AllowNetwork {
		return deny("network", "the policy grants no network access")
	}
	for _, m := range need.Mounts {
		ok := false
		for _, pattern := range p.AllowMounts {
			if match, _ := path.Match(pattern, m); match {
				ok = true
			}
		}
		if !ok {
			return deny("mount", "%s matches no allowed mount pattern", m)
		}
	}
	l := Limits{Memory: DefaultMemory, CPU: DefaultCPU, WallTime: DefaultWallTime, MaxOutput: DefaultMaxOutput,
		Processes: DefaultMaxProcesses, Network: need.Network, Mounts: need.Mounts}
	if p.Defaults.Memory > 0 {
		l.Memory = p.Defaults.Memory
	}
	if p.Defaults.CPU > 0 {
		l.CPU = p.Defaults.CPU
	}
	if p.Defaults.WallTime > 0 {
		l.WallTime = p.Defaults.WallTime
	}
	if need.Memory > 0 {
		l.Memory = need.Memory
	}
	if need.CPU > 0 {
		l.CPU = need.CPU
	}
	if need.WallTime > 0 {
		l.WallTime = need.WallTime
	}
	switch {
	case p.MaxMemory > 0 && l.Memory > p.MaxMemory:
		return deny("memory", "%d bytes asked, %d allowed", l.Memory, p.MaxMemory)
	case p.MaxCPU > 0 && l.CPU > p.MaxCPU:
		return deny("cpu", "%v asked, %v allowed", l.CPU, p.MaxCPU)
	case p.MaxWallTime > 0 && l.WallTime > p.MaxWallTime:
		return deny("wall time", "%v asked, %v allowed", l.WallTime, p.MaxWallTime)
	}
	return l, nil
}
