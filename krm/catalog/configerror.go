package catalog

import (
	"errors"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
)

// ErrInvalidConfig is wrapped by every ConfigError, so that callers can
// tell a rejected functionConfig from a failure while transforming.
var ErrInvalidConfig = errors.New("invalid functionConfig")

// ConfigError reports a functionConfig that a catalog function rejects
// before it changes any resource, as the catalog's container rejects it.
// The function's results still carry the catalog's own error messages.
type ConfigError struct {
	// Function is the catalog function, e.g. "set-labels".
	Function string
	// Field is the functionConfig field at fault, e.g. "labels",
	// "image.name" or "kind".
	Field string
	// Reason says what is wrong with the field.
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: functionConfig field %s: %s", e.Function, e.Field, e.Reason)
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// reject records the catalog's results for a rejected functionConfig and
// returns the typed error.
func reject(rl *framework.ResourceList, err *ConfigError, results ...*framework.Result) error {
	rl.Results = append(rl.Results, results...)
	return err
}

// unratedSeverity is the severity of the results that the catalog's
// set-annotations, apply-setters and search-replace write without one. The
// KRM functions spec reads a missing severity as "error", and krm's
// runtimes fail a run on it, while kpt (which only looks at the exit code)
// passes it: so they are info here, with the catalog's messages, fields
// and files unchanged.
const unratedSeverity = framework.Info

// unratedResult is such a result, about a field of a file when field and
// file are given.
func unratedResult(msg string, field *framework.Field, file *framework.File) *framework.Result {
	return &framework.Result{Severity: unratedSeverity, Message: msg, Field: field, File: file}
}

// errorResult is an error-severity result without a resource.
func errorResult(msg string) *framework.Result {
	return &framework.Result{Severity: framework.Error, Message: msg}
}

// infoResult is an info-severity result without a resource.
func infoResult(msg string) *framework.Result {
	return &framework.Result{Severity: framework.Info, Message: msg}
}
