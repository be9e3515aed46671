package deps

import (
	"errors"
	"fmt"
)

// Sentinel errors; the typed errors below wrap them, so both errors.Is and
// errors.As work.
var (
	// ErrInvalidConstraint: a dependency or version constraint does not parse.
	ErrInvalidConstraint = errors.New("deps: invalid constraint")
	// ErrInvalidRelease: a release is malformed (empty name, bad version,
	// a dependency on itself, a duplicate).
	ErrInvalidRelease = errors.New("deps: invalid release")
	// ErrUnknownPackage: a request names a package nothing in the universe
	// is or provides.
	ErrUnknownPackage = errors.New("deps: unknown package")
	// ErrInvalidRequest: a request is malformed (no roots, contradictory
	// locks, a lock or exclusion of an unknown release).
	ErrInvalidRequest = errors.New("deps: invalid request")
	// ErrNoSolution: no plan satisfies the request; see *UnsatisfiableError.
	ErrNoSolution = errors.New("deps: no solution")
	// ErrCycle: the plan has a dependency cycle and the policy forbids cycles.
	ErrCycle = errors.New("deps: dependency cycle")
	// ErrTooLarge: the problem exceeds the resolver's size limits.
	ErrTooLarge = errors.New("deps: problem too large")
)

// InputError is a malformed input: which package (or request part) and
// what text.
type InputError struct {
	// Kind is one of the sentinel errors above.
	Kind error
	// Package names the package concerned, if any.
	Package string
	// Text is the offending input.
	Text string
	// Reason says what is wrong.
	Reason string
}

// Error is the sentinel's text followed by the package, the offending text
// and the reason, those that are set.
func (e *InputError) Error() string {
	msg := e.Kind.Error()
	if e.Package != "" {
		msg += ": package " + e.Package
	}
	if e.Text != "" {
		msg += fmt.Sprintf(": %q", e.Text)
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap returns the sentinel error.
func (e *InputError) Unwrap() error { return e.Kind }

// CycleError reports the dependency cycles of a plan.
type CycleError struct {
	// Cycles are the strongly connected components with more than one
	// package (or a package depending on itself), each sorted.
	Cycles [][]string
}

// Error is ErrCycle's text followed by the cycles.
func (e *CycleError) Error() string {
	return fmt.Sprintf("%v: %v", ErrCycle, e.Cycles)
}

// Unwrap returns ErrCycle.
func (e *CycleError) Unwrap() error { return ErrCycle }
