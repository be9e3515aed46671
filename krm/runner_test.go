package krm_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
)

var nsConfig = yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  namespace: prod\n")

func TestRunnerResolvesImagesLikePorch(t *testing.T) {
	r := krm.NewRunner(krm.RunnerConfig{})
	ctx := context.Background()
	for _, image := range []string{
		"gcr.io/kpt-fn/set-namespace:v0.4.1",
		"ghcr.io/kptdev/krm-functions-catalog/set-namespace:v0.4.1",
		"set-namespace:v0.4",
		"gcr.io/kpt-fn/set-namespace:~0.4",
		"gcr.io/kpt-fn/set-namespace",
	} {
		out, err := r.Execute(ctx, krm.Function{Image: image, Config: nsConfig}, configMaps(2))
		if err != nil {
			t.Fatalf("%s: %v", image, err)
		}
		if out.Run.Runtime != "builtin" || out.Run.Version != "v0.4.1" || out.Items[0].GetNamespace() != "prod" {
			t.Fatalf("%s: run %+v", image, out.Run)
		}
	}
	for _, tc := range []struct {
		image string
		want  error
	}{
		{"gcr.io/kpt-fn/set-namespace:v9.0.0", krm.ErrUnknownFunction},
		{"example.com/unknown:v1", krm.ErrUnknownFunction},
		{"not an image", krm.ErrBadInput},
	} {
		if _, err := r.Execute(ctx, krm.Function{Image: tc.image}, configMaps(1)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.image, err, tc.want)
		}
	}
}

func TestAllowListAndExecConsent(t *testing.T) {
	reg := krm.DefaultRegistry()
	reg.Allow("gcr.io/kpt-fn/*", "nephio.io/krm-functions/*")
	r := krm.NewRunner(krm.RunnerConfig{Registry: reg})
	ctx := context.Background()
	if _, err := r.Execute(ctx, krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: nsConfig}, configMaps(1)); err != nil {
		t.Fatal(err)
	}
	_, err := r.Execute(ctx, krm.Function{Image: "ghcr.io/kptdev/krm-functions-catalog/set-namespace:v0.4.1", Config: nsConfig}, configMaps(1))
	if !errors.Is(err, krm.ErrNotAllowed) {
		t.Fatalf("image outside the allow-list: %v", err)
	}
	if _, err := r.Execute(ctx, krm.Function{Exec: testfn}, configMaps(1)); !errors.Is(err, krm.ErrNotAllowed) {
		t.Fatalf("exec without consent: %v", err)
	}
}

func TestCapabilityPolicyAppliesToEveryRuntime(t *testing.T) {
	ctx := context.Background()
	r := krm.NewRunner(krm.RunnerConfig{AllowExec: true, Exec: krm.ExecConfig{Args: []string{"echo"}}, Policy: krm.Policy{MaxMemory: 1 << 30}})
	for _, fn := range []krm.Function{
		{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: nsConfig, Needs: krm.Capabilities{Network: true}},
		{Exec: testfn, Needs: krm.Capabilities{Network: true}},
	} {
		_, err := r.Execute(ctx, fn, configMaps(1))
		var ce *krm.CapabilityError
		if !errors.As(err, &ce) || ce.Capability != "network" || !errors.Is(err, krm.ErrCapabilityDenied) {
			t.Fatalf("%s asking for network: %v", fn, err)
		}
	}
	_, err := r.Execute(ctx, krm.Function{Exec: testfn, Needs: krm.Capabilities{Memory: 2 << 30}}, configMaps(1))
	var ce *krm.CapabilityError
	if !errors.As(err, &ce) || ce.Capability != "memory" {
		t.Fatalf("asking for too much memory: %v", err)
	}
	if _, err := r.Execute(ctx, krm.Function{Exec: testfn}, configMaps(2)); err != nil {
		t.Fatalf("exec within policy: %v", err)
	}
}

type records struct {
	mu   sync.Mutex
	runs []krm.AuditRecord
}

func (r *records) Record(_ context.Context, rec krm.AuditRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, rec)
	return nil
}

func TestMemoisationAndAudit(t *testing.T) {
	audit := &records{}
	r := krm.NewRunner(krm.RunnerConfig{AuditSink: audit})
	ctx := context.Background()
	fn := krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: nsConfig}
	first, err := r.Execute(ctx, fn, configMaps(3))
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.Execute(ctx, fn, configMaps(3))
	if err != nil {
		t.Fatal(err)
	}
	if first.Run.Memoised || !second.Run.Memoised || second.Run.OutputHash != first.Run.OutputHash {
		t.Fatalf("memo: first %+v second %+v", first.Run, second.Run)
	}
	second.Items[0].SetName("changed")
	third, _ := r.Execute(ctx, fn, configMaps(3))
	if third.Items[0].GetName() == "changed" {
		t.Fatal("a caller's change reached the memo")
	}
	other := fn
	other.Config = yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  namespace: dev\n")
	if out, _ := r.Execute(ctx, other, configMaps(3)); out.Run.Memoised || out.Items[0].GetNamespace() != "dev" {
		t.Fatal("a different functionConfig was served from the memo")
	}
	if len(audit.runs) != 4 || !audit.runs[1].Run.Memoised || audit.runs[0].Run.InputHash == "" || audit.runs[0].Run.ItemsIn != 3 {
		t.Fatalf("audit: %+v", audit.runs)
	}
	failing := krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1"} // no namespace given
	if _, err := r.Execute(ctx, failing, configMaps(1)); !errors.Is(err, krm.ErrFunctionFailed) {
		t.Fatalf("failing builtin: %v", err)
	}
	if last := audit.runs[len(audit.runs)-1]; last.Err == nil {
		t.Fatal("a failed run was audited without its error")
	}
}

// MemoSize: 0 is the default memo, a negative size none, a positive one
// remembers that many runs.
func TestMemoSize(t *testing.T) {
	ctx := context.Background()
	fn := func(ns string) krm.Function {
		return krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1",
			Config: yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  namespace: " + ns + "\n")}
	}
	memoised := func(r *krm.Runner, ns string) bool {
		t.Helper()
		out, err := r.Execute(ctx, fn(ns), configMaps(1))
		if err != nil {
			t.Fatal(err)
		}
		return out.Run.Memoised
	}
	for _, tc := range []struct {
		size int
		want []bool // runs of a, a, b, a
	}{
		{0, []bool{false, true, false, true}},
		{-1, []bool{false, false, false, false}},
		{1, []bool{false, true, false, false}}, // b pushed a out
	} {
		r := krm.NewRunner(krm.RunnerConfig{MemoSize: tc.size})
		for i, ns := range []string{"a", "a", "b", "a"} {
			if got := memoised(r, ns); got != tc.want[i] {
				t.Errorf("MemoSize %d, run %d (%s): memoised %t, want %t", tc.size, i, ns, got, tc.want[i])
			}
		}
	}
}

func TestInputIsNeverModified(t *testing.T) {
	r := krm.NewRunner(krm.RunnerConfig{})
	in := configMaps(2)
	before := in.Items[0].MustString()
	if _, err := r.Execute(context.Background(), krm.Function{Image: "set-namespace:v0.4.1", Config: nsConfig}, in); err != nil {
		t.Fatal(err)
	}
	if in.Items[0].MustString() != before {
		t.Fatal("the input list changed")
	}
	var _ framework.ResourceList = *in
}

func TestCatalogImagesRunInProcess(t *testing.T) {
	r := krm.NewRunner(krm.RunnerConfig{})
	ctx := context.Background()
	for image, config := range map[string]string{
		"gcr.io/kpt-fn/apply-replacements:v0.1.1":  "apiVersion: fn.kpt.dev/v1alpha1\nkind: ApplyReplacements\nmetadata:\n  name: r\nreplacements:\n- sourceValue: prod\n  targets:\n  - select:\n      kind: ConfigMap\n    fieldPaths: [data.env]\n    options:\n      create: true\n",
		"gcr.io/kpt-fn/search-replace:v0.2":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  by-path: metadata.name\n  by-value: cm0\n  put-value: prod\n",
		"gcr.io/kpt-fn/ensure-name-substring:v0.2": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  prepend: prod-\n",
		"gcr.io/kpt-fn/starlark:v0.4":              "apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: s\nsource: |\n  for r in ctx.resource_list[\"items\"]:\n    r[\"metadata\"][\"name\"] = \"prod\"\n",
		"gcr.io/kpt-fn/kubeconform:v0.1.1":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  strict: \"true\"\n",
	} {
		out, err := r.Execute(ctx, krm.Function{Image: image, Config: yaml.MustParse(config)}, configMaps(1))
		if err != nil {
			t.Fatalf("%s: %v", image, err)
		}
		if out.Run.Runtime != "builtin" {
			t.Fatalf("%s ran on %s", image, out.Run.Runtime)
		}
		if image != "gcr.io/kpt-fn/kubeconform:v0.1.1" && !strings.Contains(out.Items[0].MustString(), "prod") {
			t.Fatalf("%s did nothing:\n%s", image, out.Items[0].MustString())
		}
	}

	// An in-process interpreter is held to its granted wall time.
	loop := yaml.MustParse("apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: s\nsource: |\n  while True:\n    pass\n")
	_, err := r.Execute(ctx, krm.Function{Image: "gcr.io/kpt-fn/starlark:v0.4.3", Config: loop, Needs: krm.Capabilities{WallTime: 100 * time.Millisecond}}, configMaps(1))
	if !errors.Is(err, krm.ErrTimeout) {
		t.Fatalf("endless starlark program: %v, want ErrTimeout", err)
	}
}

// TestOnlyErrorResultsFailARun follows kpt and kyaml (Results.ExitCode): a
// result without a severity, as the catalog writes its informational ones,
// is kept and does not fail the run; an "error" result does.
func TestOnlyErrorResultsFailARun(t *testing.T) {
	reg := krm.NewRegistry()
	for image, sev := range map[string]framework.Severity{"example.com/unrated:v1": "", "example.com/failing:v1": framework.Error} {
		sev := sev
		fn := framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
			rl.Results = append(rl.Results, &framework.Result{Severity: sev, Message: "checked"})
			return nil
		})
		if err := reg.Register(image, krm.Builtin(fn), krm.Capabilities{}); err != nil {
			t.Fatal(err)
		}
	}
	r := krm.NewRunner(krm.RunnerConfig{Registry: reg})
	ctx := context.Background()
	out, err := r.Execute(ctx, krm.Function{Image: "example.com/unrated:v1"}, configMaps(1))
	if err != nil {
		t.Fatalf("a result without a severity failed the run: %v", err)
	}
	if len(out.Results) != 1 || out.Results[0].Severity != "" || out.Results[0].Message != "checked" {
		t.Fatalf("results %+v, want the function's one result as written", out.Results)
	}
	_, err = r.Execute(ctx, krm.Function{Image: "example.com/failing:v1"}, configMaps(1))
	var fe *krm.FunctionError
	if !errors.As(err, &fe) || !errors.Is(err, krm.ErrFunctionFailed) || !strings.Contains(err.Error(), "checked") {
		t.Fatalf("an error result: %v, want a *FunctionError wrapping ErrFunctionFailed with its message", err)
	}
}
