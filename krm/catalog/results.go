package catalog

import (
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
)

// reject records the catalog's results for a rejected functionConfig and
// returns the typed error.
func reject(rl *framework.ResourceList, err *ConfigError, results ...*framework.Result) error {
	rl.Results = append(rl.Results, results...)
	return err
}

// unratedSeverity is the severity of the results that the catalog's
// set-annotations, apply-setters and search-replace write: none, as the
// catalog writes them. krm's runtimes, like kpt and kyaml's
// Results.ExitCode, fail a run only on an explicit "error".
const unratedSeverity framework.Severity = ""

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
