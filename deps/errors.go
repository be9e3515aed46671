package deps

import (
	"errors"
	"fmt"
	"strings"
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
	// ErrInterrupted: the context ended (or the search budget ran out)
	// before the resolver had an answer; see *InterruptedError.
	ErrInterrupted = errors.New("deps: resolution interrupted")
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

// CycleError says that every plan of the request has a dependency cycle
// and the policy forbids cycles (a request that some choice of versions
// can meet without a cycle gets that plan instead).
type CycleError struct {
	// Cycles are the cycles of the plan the resolver would return with
	// cycles allowed: strongly connected components of more than one
	// package, each sorted.
	Cycles [][]string
	// Facts are a minimal set of the request's and the packages' facts
	// that force a cycle: no plan that keeps them all is free of cycles,
	// and without any one of them one is. One version per package is
	// taken as given and not listed; a requirement in the set counts both
	// as a constraint and as the dependency edge it draws, while optional
	// dependencies draw their edges regardless.
	Facts []Fact
}

// Error is ErrCycle's text followed by the cycles and the facts that force
// them.
func (e *CycleError) Error() string {
	msg := fmt.Sprintf("%v: %v", ErrCycle, e.Cycles)
	if len(e.Facts) > 0 {
		var fs []string
		for _, f := range e.Facts {
			fs = append(fs, f.String())
		}
		msg += ", forced by: " + strings.Join(fs, "; ")
	}
	return msg
}

// Unwrap returns ErrCycle.
func (e *CycleError) Unwrap() error { return ErrCycle }

// InterruptedError says that a resolution stopped before it had an
// answer: its context ended, or its SearchBudget ran out, before it found
// a plan (and it knew none to fall back on), or after it proved that there
// is none but before it could explain why.
type InterruptedError struct {
	// Cause is the context's error (context.DeadlineExceeded or
	// context.Canceled), or an error saying the search budget was spent.
	Cause error
	// Proven is what the resolver had proven when it stopped: nil,
	// ErrNoSolution or ErrCycle.
	Proven error
}

// Error says what stopped the resolution and what was proven by then.
func (e *InterruptedError) Error() string {
	msg := fmt.Sprintf("%v: %v", ErrInterrupted, e.Cause)
	if e.Proven != nil {
		msg += fmt.Sprintf(" (after proving %v)", e.Proven)
	}
	return msg
}

// Unwrap returns ErrInterrupted, the cause and what was proven, so that
// errors.Is matches any of them.
func (e *InterruptedError) Unwrap() []error {
	out := []error{ErrInterrupted}
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	if e.Proven != nil {
		out = append(out, e.Proven)
	}
	return out
}
