package blueprint

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error of the package wraps one of them, so callers
// branch with errors.Is and read details with errors.As on the typed errors
// below.
var (
	// ErrInvalidValues means the values do not satisfy the blueprint's
	// schema (or name an unknown environment layer); see *ValuesError.
	ErrInvalidValues = errors.New("blueprint: invalid values")
	// ErrInvalidParameters means a Parameters declaration is malformed: a
	// schema that does not compile, a binding without a target, a default
	// the schema rejects; see *ParametersError.
	ErrInvalidParameters = errors.New("blueprint: invalid parameters declaration")
	// ErrInvalidBlueprint means the package itself is unusable: no root
	// Kptfile, a file that does not parse.
	ErrInvalidBlueprint = errors.New("blueprint: invalid blueprint")
	// ErrUnknownBlueprint means no source holds the requested blueprint;
	// see *UnknownBlueprintError.
	ErrUnknownBlueprint = errors.New("blueprint: unknown blueprint")
	// ErrNoMatchingVersion means the blueprint exists but no version
	// satisfies the requested constraint.
	ErrNoMatchingVersion = errors.New("blueprint: no version satisfies the constraint")
	// ErrUnknownEnvironment means the requested environment overlay is not
	// declared by the blueprint.
	ErrUnknownEnvironment = errors.New("blueprint: unknown environment")
	// ErrBinding means a binding could not be applied: its target is
	// missing or the value does not fit there; see *BindingError.
	ErrBinding = errors.New("blueprint: binding failed")
	// ErrTemplate means a .tmpl file failed to parse or execute; see
	// *TemplateError.
	ErrTemplate = errors.New("blueprint: template failed")
	// ErrNotKRM means a file (a template's output, usually) is not YAML
	// KRM: not YAML, or a document without apiVersion, kind or
	// metadata.name; see *NotKRMError.
	ErrNotKRM = errors.New("blueprint: output is not YAML KRM")
	// ErrInjection means config injection could not be done: an injector
	// without a name or kind, an injected object without spec or data.
	ErrInjection = errors.New("blueprint: config injection failed")
	// ErrRender means the package's Kptfile pipeline failed.
	ErrRender = errors.New("blueprint: render failed")
	// ErrFunctionUnavailable means the pipeline names a function that
	// cannot run here (no executor knows it) and no option skips it; Porch
	// fails such a render the same way.
	ErrFunctionUnavailable = errors.New("blueprint: pipeline function unavailable")
)

// SchemaError is one failure of the values against the schema, in the
// structure the JSON Schema output formats use.
type SchemaError struct {
	// InstanceLocation is the JSON pointer of the offending value in the
	// values ("" for the root, "/replicas", "/ha/peers/0").
	InstanceLocation string
	// KeywordLocation is the JSON pointer of the failing keyword in the
	// schema, through $ref ("/properties/replicas/maximum").
	KeywordLocation string
	// Keyword is the failing keyword's name ("maximum", "enum",
	// "required", "additionalProperties", "type", ...).
	Keyword string
	// Value is the offending value (absent for a missing required key).
	Value any
	// HasValue tells a null Value from a missing one.
	HasValue bool
	// Message is the validator's explanation.
	Message string
	// Details holds the keyword's arguments: the allowed enum values, the
	// bound of a range, the missing keys, the unexpected keys.
	Details map[string]any
}

// String renders the failure as "<instance>: <message> (<keyword location>)".
func (e SchemaError) String() string {
	loc := e.InstanceLocation
	if loc == "" {
		loc = "/"
	}
	return fmt.Sprintf("%s: %s (%s)", loc, e.Message, e.KeywordLocation)
}

// ValuesError lists every schema failure of one set of values, in a
// deterministic order (by instance location, then keyword location).
type ValuesError struct {
	// Blueprint names the blueprint whose schema was used.
	Blueprint string
	// Errors are the failures; empty only when Err is set.
	Errors []SchemaError
	// Err, when set, is a failure other than the schema's (an unknown
	// environment).
	Err error
}

// Error lists every failure, separated by "; ".
func (e *ValuesError) Error() string {
	var b strings.Builder
	b.WriteString("blueprint")
	if e.Blueprint != "" {
		fmt.Fprintf(&b, " %s", e.Blueprint)
	}
	b.WriteString(": invalid values")
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	for _, se := range e.Errors {
		b.WriteString("; ")
		b.WriteString(se.String())
	}
	return b.String()
}

// Is reports ErrInvalidValues.
func (e *ValuesError) Is(target error) bool { return target == ErrInvalidValues }

// Unwrap returns the non-schema cause, if any.
func (e *ValuesError) Unwrap() error { return e.Err }

// ParametersError reports a malformed Parameters declaration.
type ParametersError struct {
	// File is the package file holding the declaration.
	File string
	// Field is the declaration's field at fault ("spec.schema",
	// "spec.bindings[2].field").
	Field string
	// Err is the cause.
	Err error
}

// Error names the file and field at fault.
func (e *ParametersError) Error() string {
	return fmt.Sprintf("blueprint: parameters %s: %s: %v", e.File, e.Field, e.Err)
}

// Is reports ErrInvalidParameters.
func (e *ParametersError) Is(target error) bool { return target == ErrInvalidParameters }

// Unwrap returns the cause.
func (e *ParametersError) Unwrap() error { return e.Err }

// UnknownBlueprintError says which reference no source could satisfy.
type UnknownBlueprintError struct {
	// Ref is the requested blueprint.
	Ref Ref
}

// Error names the reference.
func (e *UnknownBlueprintError) Error() string {
	return fmt.Sprintf("blueprint: unknown blueprint %s", e.Ref)
}

// Is reports ErrUnknownBlueprint.
func (e *UnknownBlueprintError) Is(target error) bool { return target == ErrUnknownBlueprint }

// BindingError reports a binding that could not be applied.
type BindingError struct {
	// Binding is the declaration at fault.
	Binding Binding
	// Index is its position in spec.bindings (-1 for an inferred one).
	Index int
	// File is the package file being written, when known.
	File string
	// Err is the cause.
	Err error
}

// Error names the binding and its target.
func (e *BindingError) Error() string {
	where := ""
	if e.File != "" {
		where = " in " + e.File
	}
	return fmt.Sprintf("blueprint: binding %d (value %q -> %s)%s: %v", e.Index, e.Binding.Value, e.Binding.target(), where, e.Err)
}

// Is reports ErrBinding.
func (e *BindingError) Is(target error) bool { return target == ErrBinding }

// Unwrap returns the cause.
func (e *BindingError) Unwrap() error { return e.Err }

// TemplateError reports a .tmpl file that failed to parse or execute.
type TemplateError struct {
	// File is the template's path in the package.
	File string
	// Line and Column locate the failure in the template (0 when the
	// engine did not say).
	Line, Column int
	// Err is the engine's error.
	Err error
}

// Error names the template, line and column.
func (e *TemplateError) Error() string {
	return fmt.Sprintf("blueprint: template %s:%d:%d: %v", e.File, e.Line, e.Column, e.Err)
}

// Is reports ErrTemplate.
func (e *TemplateError) Is(target error) bool { return target == ErrTemplate }

// Unwrap returns the engine's error.
func (e *TemplateError) Unwrap() error { return e.Err }

// NotKRMError reports a file that is not YAML KRM.
type NotKRMError struct {
	// File is the file's path in the package (the output file of a
	// template, without .tmpl).
	File string
	// Template is the template that produced it, if any.
	Template string
	// Line and Column locate the problem in the file (0 when unknown).
	Line, Column int
	// Document is the 0-based index of the YAML document at fault.
	Document int
	// Reason says what is wrong ("missing apiVersion", a YAML syntax
	// error).
	Reason string
}

// Error names the file, its position and the problem.
func (e *NotKRMError) Error() string {
	src := ""
	if e.Template != "" {
		src = " (from " + e.Template + ")"
	}
	return fmt.Sprintf("blueprint: %s:%d:%d%s: document %d: %s", e.File, e.Line, e.Column, src, e.Document, e.Reason)
}

// Is reports ErrNotKRM.
func (e *NotKRMError) Is(target error) bool { return target == ErrNotKRM }

// FunctionUnavailableError names pipeline functions no executor can run.
type FunctionUnavailableError struct {
	// Images are the functions' images (or exec paths), in pipeline order.
	Images []string
	// Err is the executor's error, when the render found it.
	Err error
}

// Unwrap returns the executor's error.
func (e *FunctionUnavailableError) Unwrap() error { return e.Err }

// Error names the functions.
func (e *FunctionUnavailableError) Error() string {
	return fmt.Sprintf("blueprint: pipeline functions cannot run here: %s (skip them with SkipFunctions)", strings.Join(e.Images, ", "))
}

// Is reports ErrFunctionUnavailable.
func (e *FunctionUnavailableError) Is(target error) bool { return target == ErrFunctionUnavailable }
