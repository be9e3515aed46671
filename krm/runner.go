package krm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm/catalog"
)

// Runner is the Executor most callers want: it resolves each function
// through a Registry (builtin first, as Porch does), applies the capability
// Policy, runs it in its runtime's sandbox, memoises identical runs, and
// records every run.
type Runner struct {
	registry  *Registry
	policy    Policy
	audit     AuditSink
	inst      Instrumentation
	memo      *lru.Cache[string, *Output]
	allowExec bool
	exec      ExecConfig
}

var _ Executor = (*Runner)(nil)

// RunnerConfig configures a Runner. Its zero value is a Runner of the
// builtin catalog with the default policy, memoisation and no exec
// functions.
type RunnerConfig struct {
	// Registry resolves images to runtimes. Nil means DefaultRegistry(): the
	// builtin catalog under CatalogPrefixes.
	Registry *Registry
	// Policy grants capabilities and sets limits. The zero Policy grants no
	// network and no mounts, with default limits.
	Policy Policy
	// AuditSink, when set, records every run; its error fails the run.
	AuditSink AuditSink
	// Instrumentation, when set, receives run metrics and traces (see
	// observability/krmobs).
	Instrumentation Instrumentation
	// MemoSize is how many runs are remembered for reuse: 0 means
	// DefaultMemoSize, a negative number turns memoisation off.
	MemoSize int
	// AllowExec allows Function.Exec (local executables), which are refused
	// otherwise, as kpt refuses them without --allow-exec. They run as
	// Executable(path, Exec).
	AllowExec bool
	// Exec configures the executables AllowExec allows.
	Exec ExecConfig
}

// DefaultMemoSize is how many function runs a Runner remembers.
const DefaultMemoSize = 1024

// NewRunner returns a Runner configured by cfg.
func NewRunner(cfg RunnerConfig) *Runner {
	r := &Runner{registry: cfg.Registry, policy: cfg.Policy, audit: cfg.AuditSink, inst: cfg.Instrumentation,
		allowExec: cfg.AllowExec, exec: cfg.Exec}
	if r.registry == nil {
		r.registry = DefaultRegistry()
	}
	if r.inst == nil {
		r.inst = nopInstrumentation{}
	}
	size := cfg.MemoSize
	if size == 0 {
		size = DefaultMemoSize
	}
	if size > 0 {
		r.memo, _ = lru.New[string, *Output](size)
	}
	return r
}

// DefaultRegistry registers the builtin catalog functions under every
// CatalogPrefixes registry.
func DefaultRegistry() *Registry {
	reg := NewRegistry()
	for image, fn := range catalog.Functions() {
		if err := reg.Register(image, Builtin(fn), Capabilities{}); err != nil {
			panic(err) // the catalog's own image names are valid
		}
	}
	return reg
}

// Execute implements Executor.
func (r *Runner) Execute(ctx context.Context, fn Function, in *framework.ResourceList) (*Output, error) {
	if in == nil {
		return nil, fmt.Errorf("%w: nil ResourceList", ErrBadInput)
	}
	ctx, done := r.inst.StartRun(ctx, fn.String())
	out, err := r.execute(ctx, fn, in)
	info := RunInfo{Function: fn.String(), ItemsIn: len(in.Items)}
	if out != nil {
		info = out.Run
	}
	done(info, err)
	if r.audit != nil {
		rec := AuditRecord{Time: time.Now(), Run: info, Err: err}
		if aerr := r.audit.Record(ctx, rec); aerr != nil && err == nil {
			return nil, fmt.Errorf("krm: audit record for %s not written: %w", fn, aerr)
		}
	}
	return out, err
}

func (r *Runner) execute(ctx context.Context, fn Function, in *framework.ResourceList) (*Output, error) {
	var res Resolved
	switch {
	case fn.Exec != "" && !r.allowExec:
		return nil, &FunctionError{Function: fn.String(), Kind: ErrNotAllowed, ExitCode: -1, Err: fmt.Errorf("exec functions are not allowed (RunnerConfig.AllowExec)")}
	case fn.Exec != "":
		res = Resolved{Runtime: Executable(fn.Exec, r.exec), Needs: fn.Needs}
	default:
		var err error
		if res, err = r.registry.Resolve(fn); err != nil {
			return nil, err
		}
	}
	call := fn
	call.Needs = res.Needs
	limits, err := r.policy.Grant(call)
	if err != nil {
		return nil, err
	}
	// Hashes serve the memo and the audit record; skip them when neither is
	// on.
	hashing := r.memo != nil || r.audit != nil
	inHash := ""
	if hashing {
		if inHash, err = hashList(in, nil); err != nil {
			return nil, err
		}
	}
	memoKey := ""
	if r.memo != nil {
		cfg := ""
		if fn.Config != nil {
			cfg = fn.Config.MustString()
		}
		memoKey = hashStrings(inHash, fn.String(), res.Version, res.Runtime.Name(), cfg, fmt.Sprintf("%+v", limits))
		if hit, ok := r.memo.Get(memoKey); ok {
			out := copyOutput(hit)
			out.Run.Memoised, out.Run.Duration = true, 0
			return out, nil
		}
	}
	out, err := res.Runtime.Run(ctx, call, in, limits)
	if err != nil {
		return nil, err
	}
	out.Run.Function, out.Run.Version, out.Run.Runtime = fn.String(), res.Version, res.Runtime.Name()
	out.Run.ItemsIn, out.Run.ItemsOut, out.Run.InputHash = len(in.Items), len(out.Items), inHash
	if hashing {
		if out.Run.OutputHash, err = hashList(&framework.ResourceList{Items: out.Items}, out.Results); err != nil {
			return nil, &FunctionError{Function: fn.String(), Kind: ErrBadOutput, Err: err}
		}
	}
	if r.memo != nil {
		r.memo.Add(memoKey, copyOutput(out))
	}
	return out, nil
}

func copyOutput(o *Output) *Output {
	items := make([]*yaml.RNode, len(o.Items))
	for i, n := range o.Items {
		items[i] = n.Copy()
	}
	return &Output{Items: items, Results: append(framework.Results(nil), o.Results...), Run: o.Run}
}

// hashList is the SHA-256 of a list's items (and results), computed over
// the YAML node trees (kinds, tags, values, comments) rather than their
// serialisation, which costs far more than the functions themselves.
func hashList(rl *framework.ResourceList, results framework.Results) (string, error) {
	var buf []byte
	for _, n := range rl.Items {
		if n == nil {
			return "", fmt.Errorf("%w: nil item", ErrBadInput)
		}
		buf = appendNode(buf, n.YNode())
		buf = append(buf, 0xff)
	}
	for _, r := range results {
		buf = fmt.Appendf(buf, "%s\x00%s\x00", r.Severity, r.Message)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), nil
}

// appendNode appends a canonical encoding of the tree under n (kind, style,
// tag, value and comments of every node, positions left out) to b, for
// hashing: trees that encode alike serialise alike.
func appendNode(b []byte, n *yaml.Node) []byte {
	if n == nil {
		return append(b, 0)
	}
	b = appendNodeHeader(b, n)
	for _, c := range n.Content {
		b = appendNode(b, c)
	}
	return append(b, 2)
}

// appendNodeHeader appends n's own fields, up to its children.
func appendNodeHeader(b []byte, n *yaml.Node) []byte {
	b = append(b, byte(n.Kind), byte(n.Style))
	b = append(b, n.Tag...)
	b = append(b, 0)
	b = append(b, n.Value...)
	b = append(b, 0)
	b = append(b, n.LineComment...)
	b = append(b, n.HeadComment...)
	b = append(b, n.FootComment...)
	return append(b, 1)
}

func hashStrings(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditRecord is one function run.
type AuditRecord struct {
	// Time is when the run ended.
	Time time.Time
	// Run describes the execution (on failure, at least the function and
	// the input count).
	Run RunInfo
	// Err is the run's error, nil on success.
	Err error
}

// AuditSink receives a record per run. An error from it fails the run.
type AuditSink interface {
	// Record stores rec; it is called once per run, after the run.
	Record(ctx context.Context, rec AuditRecord) error
}

// AuditFunc adapts a function to AuditSink.
type AuditFunc func(ctx context.Context, rec AuditRecord) error

// Record implements AuditSink.
func (f AuditFunc) Record(ctx context.Context, rec AuditRecord) error { return f(ctx, rec) }

// Instrumentation receives metrics and traces of runs;
// observability/krmobs implements it with Prometheus and OpenTelemetry.
type Instrumentation interface {
	// StartRun is called before a run; done gets the run's description.
	StartRun(ctx context.Context, function string) (_ context.Context, done func(RunInfo, error))
}

type nopInstrumentation struct{}

func (nopInstrumentation) StartRun(ctx context.Context, _ string) (context.Context, func(RunInfo, error)) {
	return ctx, func(RunInfo, error) {}
}
