package config

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for errors.Is. A *ValidationError wraps ErrInvalid and the kind
// of each of its problems; a *SourceError wraps ErrNotYAML or
// ErrSourceNotFound where they apply, and the underlying cause.
var (
	// ErrInvalid: the configuration has at least one invalid entry.
	ErrInvalid = errors.New("invalid configuration")
	// ErrUnknownKey: a key that no option reads, reported rather than
	// ignored.
	ErrUnknownKey = errors.New("unknown key")
	// ErrWrongType: a value of the wrong type, such as text for a number.
	ErrWrongType = errors.New("wrong type")
	// ErrInvalidValue: a value of the right type that breaks a rule (a
	// malformed duration, quantity or URL, an unknown enum value, a number
	// out of range, a required key missing).
	ErrInvalidValue = errors.New("invalid value")
	// ErrSecretNotFound: a Secret, a key in it, or a secret file that Build
	// could not read.
	ErrSecretNotFound = errors.New("secret not found")
	// ErrCertificate: a certificate, key or CA bundle that does not parse.
	ErrCertificate = errors.New("malformed certificate")
	// ErrNotYAML: a source whose content is not a YAML mapping.
	ErrNotYAML = errors.New("not a YAML mapping")
	// ErrSourceNotFound: a file, ConfigMap or ConfigMap key that does not
	// exist.
	ErrSourceNotFound = errors.New("configuration source not found")
)

// Problem is one invalid entry of a configuration.
type Problem struct {
	// Source names where the entry came from: a file path,
	// "configmap <namespace>/<name>", "environment", or "" for a Config
	// built in code.
	Source string
	// Path is the key path, e.g. "porch.auth.method".
	Path string
	// Env is the environment variable the entry was read from, if any.
	Env string
	// Value is the offending value as written; secret values are never
	// shown.
	Value string
	// Rule says what the value must be.
	Rule string
	// Kind is one of ErrUnknownKey, ErrWrongType, ErrInvalidValue,
	// ErrSecretNotFound, ErrCertificate, or ErrSourceNotFound for a
	// kubeconfig file that does not exist.
	Kind error
	// Err is the underlying cause, if any (a client-go error, a parse
	// error).
	Err error
}

// String describes the problem on one line.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Path)
	if p.Env != "" {
		fmt.Fprintf(&b, " (%s)", p.Env)
	}
	if p.Value != "" {
		fmt.Fprintf(&b, " = %q", p.Value)
	}
	fmt.Fprintf(&b, ": %v: %s", p.Kind, p.Rule)
	if p.Err != nil {
		fmt.Fprintf(&b, ": %v", p.Err)
	}
	if p.Source != "" {
		fmt.Fprintf(&b, " [%s]", p.Source)
	}
	return b.String()
}

// ValidationError lists every invalid entry of a configuration at once. It
// wraps ErrInvalid and the Kind and Err of each problem.
type ValidationError struct {
	// Problems are the invalid entries, in the order of the sources and
	// then of the keys.
	Problems []Problem
}

// Error implements error.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("config: %v (%d problems):\n  %s", ErrInvalid, len(e.Problems), strings.Join(lines, "\n  "))
}

// Unwrap makes errors.Is and errors.As see ErrInvalid, each problem's kind
// and each underlying cause.
func (e *ValidationError) Unwrap() []error {
	errs := []error{ErrInvalid}
	for _, p := range e.Problems {
		errs = append(errs, p.Kind)
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}

// SourceError is a configuration source that could not be read: a file
// that does not exist or is not YAML, a ConfigMap that is missing or
// unreachable.
type SourceError struct {
	// Source names the source, as Problem.Source does.
	Source string
	// Err is the cause; errors.Is finds ErrNotYAML or ErrSourceNotFound
	// through it where they apply, and apierrors.IsNotFound a ConfigMap's.
	Err error
}

// Error implements error.
func (e *SourceError) Error() string { return fmt.Sprintf("config: %s: %v", e.Source, e.Err) }

// Unwrap returns the cause.
func (e *SourceError) Unwrap() error { return e.Err }

// problems collects Problems; its err is nil when none were added.
type problems []Problem

func (ps *problems) add(p Problem) { *ps = append(*ps, p) }

func (ps *problems) invalid(path, value, rule string) {
	ps.add(Problem{Path: path, Value: value, Rule: rule, Kind: ErrInvalidValue})
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}
