package krm

import (
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
)

// Sentinel errors; every failure wraps one of them, for errors.Is.
var (
	// ErrUnknownFunction: no runtime is registered for the function (or for
	// that version of it).
	ErrUnknownFunction = errors.New("unknown function")
	// ErrNotAllowed: the image is outside the allow-list.
	ErrNotAllowed = errors.New("function not allowed")
	// ErrCapabilityDenied: the function needs a capability the policy does
	// not grant.
	ErrCapabilityDenied = errors.New("capability denied")
	// ErrFunctionFailed: the function ran and reported failure (non-zero
	// exit, error results, or an error from a builtin).
	ErrFunctionFailed = errors.New("function failed")
	// ErrTimeout: the function ran past its wall-clock limit and was killed.
	ErrTimeout = errors.New("function timed out")
	// ErrResourceLimit: the function was killed at a CPU, memory or process
	// limit.
	ErrResourceLimit = errors.New("function exceeded a resource limit")
	// ErrOutputTooLarge: the function wrote more than the output limit.
	ErrOutputTooLarge = errors.New("function output too large")
	// ErrBadOutput: the function's output is not a ResourceList.
	ErrBadOutput = errors.New("function output is not a ResourceList")
	// ErrBadInput: the input is not a valid ResourceList or package.
	ErrBadInput = errors.New("invalid input")
	// ErrSandboxUnavailable: an isolation the sandbox must enforce is not
	// available on this machine: a network namespace for an executable, or
	// a container the engine could not start under the sandbox's limits.
	ErrSandboxUnavailable = errors.New("sandbox isolation unavailable")
	// ErrNoContainerRuntime: the function needs a container and no docker or
	// podman engine answers here (or not the one configured).
	ErrNoContainerRuntime = errors.New("no container runtime")
)

// FunctionError says which function failed, how, and what it reported.
type FunctionError struct {
	// Function is the image or executable.
	Function string
	// Kind is one of the sentinel errors.
	Kind error
	// ExitCode of an executable, -1 when killed or not applicable.
	ExitCode int
	// Stderr is the tail of the function's standard error.
	Stderr string
	// Results are the structured results the function returned, if any.
	Results framework.Results
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *FunctionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "krm: %s: %v", e.Function, e.Kind)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.ExitCode > 0 {
		fmt.Fprintf(&b, " (exit code %d)", e.ExitCode)
	}
	for _, r := range e.Results {
		if r.Severity == framework.Error {
			fmt.Fprintf(&b, "; %s", r.Message)
		}
	}
	if s := strings.TrimSpace(e.Stderr); s != "" {
		fmt.Fprintf(&b, "\nstderr:\n%s", s)
	}
	return b.String()
}

// Unwrap returns the kind and the cause.
func (e *FunctionError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}
