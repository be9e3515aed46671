// Package krm runs KRM functions (ResourceList in, ResourceList out) and
// renders Kptfile pipelines like `kpt fn render`.
//
// A Runner is the Executor most callers want. It resolves a function's
// image through a Registry — the builtin catalog (package catalog) first,
// as Porch's builtin runtime does, then configured executables, then a
// container fallback — checks the image allow-list and the capability
// Policy (network, mounts, memory, CPU, wall time: one policy for every
// runtime), runs it, memoises identical runs (same input, function,
// version, functionConfig and limits), and records each run (hashes of
// input and output, counts, duration, peak memory) through an AuditSink
// and an Instrumentation:
//
//	r := krm.NewRunner(krm.RunnerConfig{})
//	out, err := r.Execute(ctx, krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: cfg}, list)
//	files, result, err := krm.Render(ctx, r, porchFiles) // a package as Porch gives it
//
// Executables run in a sandbox (see Executable): wall-clock timeout,
// CPU-time, memory and process limits, bounded output, a scrubbed
// environment, a private working directory, no network (a new network
// namespace), and as user nobody when the caller is root. Containers
// (NewContainer) run through docker or podman under the same Limits: no
// network, a read-only root, memory with swap off, CPU time, processes,
// wall time and bounded output.
//
// Every failure is typed: a *FunctionError (with the function's stderr tail
// and results) wrapping ErrFunctionFailed, ErrTimeout, ErrResourceLimit,
// ErrOutputTooLarge, ErrBadOutput, ...; a *CapabilityError; a *RenderError
// naming the failing step; a *ResourceError for a package kpt would refuse. A failed render leaves its input untouched.
//
// krmtest has a fake Executor that records calls and returns scripted
// answers.
package krm
