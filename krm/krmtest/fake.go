// Package krmtest has a fake krm.Executor for tests of code that runs KRM
// functions: it records every call and answers with scripted outputs or
// errors.
package krmtest

import (
	"context"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
)

// Call is one recorded Execute call.
type Call struct {
	// Function is the function asked for, with its functionConfig.
	Function krm.Function
	// Items are copies of the input items.
	Items []*yaml.RNode
}

// Script answers one function: the output items and results, or an error.
type Script func(ctx context.Context, fn krm.Function, in *framework.ResourceList) (*krm.Output, error)

// Executor is a fake krm.Executor. Unscripted functions pass their input
// through unchanged. It is safe for concurrent use.
type Executor struct {
	mu      sync.Mutex
	calls   []Call
	scripts map[string]Script
}

var _ krm.Executor = (*Executor)(nil)

// NewExecutor returns a fake with no scripts.
func NewExecutor() *Executor { return &Executor{scripts: map[string]Script{}} }

// On scripts the answer for a function, keyed by Function.String() (its
// image, or "exec:" and its path).
func (e *Executor) On(function string, s Script) *Executor {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.scripts[function] = s
	return e
}

// Fail makes a function fail with err.
func (e *Executor) Fail(function string, err error) *Executor {
	return e.On(function, func(context.Context, krm.Function, *framework.ResourceList) (*krm.Output, error) { return nil, err })
}

// Calls returns the calls so far.
func (e *Executor) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Call(nil), e.calls...)
}

// Execute implements krm.Executor.
func (e *Executor) Execute(ctx context.Context, fn krm.Function, in *framework.ResourceList) (*krm.Output, error) {
	items := make([]*yaml.RNode, len(in.Items))
	for i, n := range in.Items {
		items[i] = n.Copy()
	}
	e.mu.Lock()
	e.calls = append(e.calls, Call{Function: fn, Items: items})
	script := e.scripts[fn.String()]
	e.mu.Unlock()
	if script != nil {
		return script(ctx, fn, in)
	}
	out := make([]*yaml.RNode, len(in.Items))
	for i, n := range in.Items {
		out[i] = n.Copy()
	}
	return &krm.Output{Items: out, Run: krm.RunInfo{Function: fn.String(), Runtime: "fake", ItemsIn: len(in.Items), ItemsOut: len(out)}}, nil
}
