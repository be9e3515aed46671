package krmobs_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/observability/internal/obstest"
	"github.com/nephoran/porchkit/observability/krmobs"
)

func TestKRMMetricsAndSpans(t *testing.T) {
	obs, rec := obstest.Setup(t)
	r := krm.NewRunner(krm.RunnerConfig{Instrumentation: krmobs.New(obs)})
	ctx := context.Background()
	in := &framework.ResourceList{Items: []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")}}
	cfg := yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ns\ndata:\n  namespace: prod\n")
	for range 2 {
		if _, err := r.Execute(ctx, krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: cfg}, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Execute(ctx, krm.Function{Image: "gcr.io/kpt-fn/nope:v1"}, in); !errors.Is(err, krm.ErrUnknownFunction) {
		t.Fatal(err)
	}
	fn := "gcr.io/kpt-fn/set-namespace"
	if v := obstest.Value(t, obs, "porchkit_krm_runs_total", map[string]string{"function": fn, "runtime": "builtin", "outcome": "ok"}); v != 2 {
		t.Fatalf("runs %v", v)
	}
	if v := obstest.Value(t, obs, "porchkit_krm_runs_total", map[string]string{"memoised": "true"}); v != 1 {
		t.Fatalf("memoised runs %v", v)
	}
	if v := obstest.Value(t, obs, "porchkit_krm_runs_total", map[string]string{"outcome": "unknown_function"}); v != 1 {
		t.Fatalf("unknown function runs %v", v)
	}
	if n := len(obstest.Spans(rec, "krm.run")); n != 3 {
		t.Fatalf("%d krm.run spans", n)
	}
}

// The function label is the image without tag or digest, so versions add
// no series; the span keeps the full reference.
func TestKRMFunctionLabelDropsTagAndDigest(t *testing.T) {
	obs, rec := obstest.Setup(t)
	inst := krmobs.New(obs)
	refs := []string{"registry.example.com:5000/fn/set-labels:v1", "registry.example.com:5000/fn/set-labels:v2",
		"registry.example.com:5000/fn/set-labels@sha256:0123456789abcdef", "registry.example.com:5000/fn/set-labels"}
	for _, ref := range refs {
		_, done := inst.StartRun(context.Background(), ref)
		done(krm.RunInfo{Runtime: "container"}, nil)
	}
	if v := obstest.Value(t, obs, "porchkit_krm_runs_total", map[string]string{"function": "registry.example.com:5000/fn/set-labels"}); v != 4 {
		t.Fatalf("runs under the image name: %v, want 4", v)
	}
	if v := obstest.Value(t, obs, "porchkit_krm_runs_total", nil); v != 4 {
		t.Fatalf("runs %v, want 4 in one series", v)
	}
	families, err := obs.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "porchkit_krm_runs_total" && len(f.GetMetric()) != 1 {
			t.Fatalf("%d runs_total series, want 1", len(f.GetMetric()))
		}
	}
	spans := obstest.Spans(rec, "krm.run")
	if len(spans) != len(refs) {
		t.Fatalf("%d spans", len(spans))
	}
	for i, s := range spans {
		var got string
		for _, a := range s.Attributes() {
			if a.Key == attribute.Key("krm.function") {
				got = a.Value.AsString()
			}
		}
		if got != refs[i] {
			t.Errorf("span %d krm.function = %q, want %q", i, got, refs[i])
		}
	}
}
