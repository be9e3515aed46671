package krm

import (
	"context"
	"time"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Executor runs one KRM function over a ResourceList. The input is never
// modified; the output is a new list.
type Executor interface {
	// Execute runs fn over in and returns the new list, the function's
	// results and how the run went.
	Execute(ctx context.Context, fn Function, in *framework.ResourceList) (*Output, error)
}

// Output is what one function run produced.
type Output struct {
	// Items are the resources after the function.
	Items []*yaml.RNode
	// Results are the function's structured results.
	Results framework.Results
	// Run describes the execution.
	Run RunInfo
}

// RunInfo describes one execution, for audit and metrics.
type RunInfo struct {
	// Function is the image or executable; Version the resolved version.
	Function, Version string
	// Runtime is "builtin", "exec" or "container".
	Runtime string
	// Duration is the wall-clock time.
	Duration time.Duration
	// ItemsIn and ItemsOut count resources.
	ItemsIn, ItemsOut int
	// PeakMemory is the peak resident memory of an exec function, in bytes
	// (0 for builtins).
	PeakMemory int64
	// ExitCode of an exec or container function.
	ExitCode int
	// InputHash and OutputHash are SHA-256 of the lists' node trees
	// (everything their serialisation shows, comments included).
	InputHash, OutputHash string
	// Memoised is true when the output was reused from an identical
	// earlier run instead of running the function.
	Memoised bool
}

// Runtime runs functions of one kind (builtin, exec, container). The
// Runner picks one per function through its Registry.
type Runtime interface {
	// Name is "builtin", "exec" or "container".
	Name() string
	// Run executes fn over in within limits. in must not be modified.
	Run(ctx context.Context, fn Function, in *framework.ResourceList, limits Limits) (*Output, error)
}

// copyList deep-copies a ResourceList, so a runtime can hand it to a
// function that modifies it in place.
func copyList(in *framework.ResourceList) *framework.ResourceList {
	out := &framework.ResourceList{Items: make([]*yaml.RNode, len(in.Items))}
	for i, n := range in.Items {
		out.Items[i] = n.Copy()
	}
	if in.FunctionConfig != nil {
		out.FunctionConfig = in.FunctionConfig.Copy()
	}
	return out
}
