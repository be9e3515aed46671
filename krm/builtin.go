package krm

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Builtin returns a runtime that runs p in this process. Builtins are
// trusted Go code: they run synchronously, a panic becomes a
// FunctionError, and ctx is checked before and after. A p that is also a
// ContextProcessor (an interpreter such as the catalog's starlark) runs
// with ctx, bounded by the policy's wall time, and stops when it ends.
func Builtin(p framework.ResourceListProcessor) Runtime { return builtin{p: p} }

// ContextProcessor is a builtin function that can stop part-way when its
// context ends.
type ContextProcessor interface {
	// ProcessContext runs the function over rl in place, returning early
	// with an error once ctx ends.
	ProcessContext(ctx context.Context, rl *framework.ResourceList) error
}

type builtin struct {
	p framework.ResourceListProcessor
}

func (builtin) Name() string { return "builtin" }

func (b builtin) Run(ctx context.Context, fn Function, in *framework.ResourceList, limits Limits) (out *Output, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rl := in
	if !ownedInput(ctx) {
		rl = copyList(in)
	} else {
		rl = &framework.ResourceList{Items: append([]*yaml.RNode(nil), in.Items...)}
	}
	if fn.Config != nil {
		rl.FunctionConfig = fn.Config.Copy()
	}
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &FunctionError{Function: fn.String(), Kind: ErrFunctionFailed, ExitCode: -1,
				Err: fmt.Errorf("panic: %v", r), Stderr: string(debug.Stack())}
		}
	}()
	var perr error
	if cp, ok := b.p.(ContextProcessor); ok {
		runCtx := ctx
		if limits.WallTime > 0 {
			var cancel context.CancelFunc
			runCtx, cancel = context.WithTimeout(ctx, limits.WallTime)
			defer cancel()
		}
		perr = cp.ProcessContext(runCtx, rl)
		if runCtx.Err() != nil && ctx.Err() == nil {
			return nil, &FunctionError{Function: fn.String(), Kind: ErrTimeout, ExitCode: -1,
				Err: fmt.Errorf("stopped after the wall-time limit of %s", limits.WallTime)}
		}
	} else {
		perr = b.p.Process(rl)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out = &Output{Items: rl.Items, Results: rl.Results, Run: RunInfo{Runtime: "builtin", Duration: time.Since(start)}}
	if perr != nil {
		fe := &FunctionError{Function: fn.String(), Kind: ErrFunctionFailed, Results: rl.Results, Err: perr}
		if results, ok := perr.(framework.Results); ok {
			fe.Results, fe.Err = append(fe.Results, results...), nil
		}
		return nil, fe
	}
	if hasErrors(rl.Results) {
		return nil, &FunctionError{Function: fn.String(), Kind: ErrFunctionFailed, Results: rl.Results}
	}
	return out, nil
}

// ownedKey marks a context whose caller gives up the input list's nodes.
type ownedKey struct{}

func withOwnedInput(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownedKey{}, true)
}

func ownedInput(ctx context.Context) bool { return ctx.Value(ownedKey{}) == true }

// hasErrors reports a result of severity "error". A result without a
// severity does not fail a run, as in kpt and kyaml (Results.ExitCode):
// the catalog writes its informational results without one.
func hasErrors(results framework.Results) bool {
	for _, r := range results {
		if r.Severity == framework.Error {
			return true
		}
	}
	return false
}
