package multicluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// prometheus answers instant queries with the value set for the query.
type prometheus struct {
	mu      sync.Mutex
	queries []string
	value   string
}

func (p *prometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	p.mu.Lock()
	p.queries = append(p.queries, r.Form.Get("query"))
	v := p.value
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{
		"resultType": "vector", "result": []any{map[string]any{"metric": map[string]string{}, "value": []any{float64(time.Now().Unix()), v}}}}})
}

func TestPrometheusAnalysis(t *testing.T) {
	prom := &prometheus{value: "0.02"}
	srv := httptest.NewServer(prom)
	defer srv.Close()
	f := newFleet(t, 4, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	check := &multicluster.PrometheusQuery{Address: srv.URL,
		Query: `sum(rate(http_errors_total{cluster=~"{{cluster_regex}}"}[1m])) / sum(rate(http_requests_total{cluster=~"{{cluster_regex}}"}[1m]))`}
	s := multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{MandatoryClusters: []string{"c-0000"}, StepPercent: 50},
		Analysis: []multicluster.Analysis{{Name: "error-rate", Check: check, Range: multicluster.AtMost(0.05)}}}
	if st := f.run(t, pkg("v1"), all(), s); st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("%s: %s", st.Phase, st.Reason)
	}
	prom.mu.Lock()
	first := prom.queries[0]
	n := len(prom.queries)
	prom.mu.Unlock()
	if n != 3 || !strings.Contains(first, `cluster=~"^(c-0000)$"`) {
		t.Fatalf("%d queries, first %s", n, first)
	}

	prom.mu.Lock()
	prom.value = "0.3"
	prom.mu.Unlock()
	st := f.run(t, pkg("v2"), all(), s)
	if st.Phase != multicluster.PhaseRolledBack || !strings.Contains(st.Reason, "analysis error-rate failed") || st.Analysis[0].Value != 0.3 {
		t.Fatalf("%s: %s %+v", st.Phase, st.Reason, st.Analysis)
	}

	// An unreachable Prometheus is a failed check, not a pass.
	srv.Close()
	if st := f.run(t, pkg("v3"), all(), s); st.Phase != multicluster.PhaseRolledBack || !strings.Contains(st.Analysis[0].Message, "prometheus") {
		t.Fatalf("%s: %+v", st.Phase, st.Analysis)
	}
}

func TestHealthProbesRunUntilCancelled(t *testing.T) {
	f := newFleet(t, 3, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: f.mem, ProbeInterval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, c := range f.clusters {
		if err := m.Register(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	wait := func(name string, want multicluster.HealthState) {
		t.Helper()
		eventually.True(t, 5*time.Second, func() (bool, string) {
			h, _ := m.Health(name)
			return h.State == want, fmt.Sprintf("%s: %s, want %s", name, h.State, want)
		})
	}
	wait("c-0001", multicluster.HealthHealthy)
	f.mem.SetUnreachable("c-0001", true)
	f.mem.SetUnauthorized("c-0002", true)
	wait("c-0001", multicluster.HealthUnreachable)
	wait("c-0002", multicluster.HealthUnauthorized)
	wait("c-0000", multicluster.HealthHealthy)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}
}

func TestRunRefusesANegativeProbeInterval(t *testing.T) {
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{ProbeInterval: -time.Second})
	if err := m.Run(context.Background()); !errors.Is(err, multicluster.ErrInvalidCluster) {
		t.Fatalf("Run = %v, want ErrInvalidCluster", err)
	}
}

// sequence is a check that gives its results in turn (the last one again
// when they run out) and counts its evaluations.
type sequence struct {
	mu      sync.Mutex
	results []result
	calls   int
}

type result struct {
	v   float64
	err error
}

func (s *sequence) Evaluate(context.Context, multicluster.AnalysisInput) (float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	r := s.results[min(s.calls, len(s.results))-1]
	return r.v, r.err
}

func (s *sequence) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

var errMeasure = errors.New("metrics backend down")

func canaryWith(a multicluster.Analysis) multicluster.Strategy {
	return multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{FirstPercent: 50, StepPercent: 50},
		Analysis: []multicluster.Analysis{a}}
}

func TestAnErroringCheckIsNotAFailedCheck(t *testing.T) {
	f := newFleet(t, 2, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	check := &sequence{results: []result{{0, errMeasure}, {0, errMeasure}, {0.01, nil}}}
	st := f.run(t, pkg("v1"), all(), canaryWith(multicluster.Analysis{Name: "errors", Check: check, Range: multicluster.AtMost(0.05)}))
	if st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("%s: %s", st.Phase, st.Reason)
	}
	a := st.Analysis[0]
	// Wave 1's analysis saw the last, good value once.
	if a.Wave != 1 || a.Result != multicluster.AnalysisSuccessful || a.Successful != 1 || a.Errors != 0 || check.count() != 4 {
		t.Fatalf("analysis %+v after %d evaluations", a, check.count())
	}
}

func TestConsecutiveErrorsFailTheGate(t *testing.T) {
	f := newFleet(t, 2, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	check := &sequence{results: []result{{0, errMeasure}}}
	st := f.run(t, pkg("v1"), all(), canaryWith(multicluster.Analysis{Name: "errors", Check: check, Range: multicluster.AtMost(0.05)}))
	if st.Phase != multicluster.PhaseRolledBack || !strings.Contains(st.Reason, "analysis errors errored 5 times in a row after wave 0, more than consecutiveErrorLimit 4") {
		t.Fatalf("%s: %s", st.Phase, st.Reason)
	}
	a := st.Analysis[0]
	if a.Result != multicluster.AnalysisError || a.Errors != 5 || a.ConsecutiveErrors != 5 || a.Failures != 0 || !strings.Contains(a.Message, "metrics backend down") {
		t.Fatalf("analysis %+v", a)
	}

	// Errors that are not in a row do not add up.
	check = &sequence{results: []result{{0, errMeasure}, {0, errMeasure}, {0.01, nil}, {0, errMeasure}, {0, errMeasure}, {0.01, nil}}}
	s := canaryWith(multicluster.Analysis{Name: "errors", Check: check, Range: multicluster.AtMost(0.05), Interval: 5 * time.Millisecond})
	s.MinSuccessTime = 40 * time.Millisecond
	s.Canary.FirstPercent = 100
	if st := f.run(t, pkg("v2"), all(), s); st.Phase != multicluster.PhaseSucceeded || st.Analysis[0].Errors < 4 {
		t.Fatalf("%s: %s %+v", st.Phase, st.Reason, st.Analysis)
	}

	zero := 0
	check = &sequence{results: []result{{0, errMeasure}}}
	st = f.run(t, pkg("v3"), all(), canaryWith(multicluster.Analysis{Name: "strict", Check: check, Range: multicluster.AtMost(0.05), ConsecutiveErrorLimit: &zero}))
	if st.Phase != multicluster.PhaseRolledBack || check.count() != 1 {
		t.Fatalf("consecutiveErrorLimit 0: %s after %d evaluations: %s", st.Phase, check.count(), st.Reason)
	}
}

func TestFailureRange(t *testing.T) {
	f := newFleet(t, 2, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	for _, tc := range []struct {
		a     multicluster.Analysis
		value float64
		want  multicluster.Phase
		msg   string
	}{
		{multicluster.Analysis{Range: multicluster.AtMost(0.05), FailureRange: ptr(multicluster.AtLeast(0.1))}, 0.2, multicluster.PhaseRolledBack, "0.2 in the failure range [0.1, +inf]"},
		{multicluster.Analysis{Range: multicluster.AtMost(0.05), FailureRange: ptr(multicluster.AtLeast(0.1))}, 0.01, multicluster.PhaseSucceeded, "0.01 in [-inf, 0.05]"},
		{multicluster.Analysis{FailureRange: ptr(multicluster.AtLeast(0.1))}, 0.07, multicluster.PhaseSucceeded, "0.07 outside the failure range [0.1, +inf]"},
		{multicluster.Analysis{Range: multicluster.AtMost(0.05)}, 0.07, multicluster.PhaseRolledBack, "0.07 outside [-inf, 0.05]"},
	} {
		tc.a.Name, tc.a.Check = "rate", constant(tc.value)
		st := f.run(t, pkg(fmt.Sprint("v", tc.value, tc.want)), all(), canaryWith(tc.a))
		if st.Phase != tc.want || st.Analysis[0].Message != tc.msg {
			t.Errorf("%v with %+v: %s %q, want %s %q", tc.value, tc.a, st.Phase, st.Analysis[0].Message, tc.want, tc.msg)
		}
	}
}

// paused waits until the rollout is paused and returns its status.
func paused(t *testing.T, f *fleet, id multicluster.ID) *multicluster.Status {
	t.Helper()
	var st *multicluster.Status
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, _ = f.prop.Status(context.Background(), id)
		return st.Phase == multicluster.PhasePaused, fmt.Sprintf("%s %s", st.Phase, st.Reason)
	})
	return st
}

func TestInconclusiveAnalysisPausesForAHuman(t *testing.T) {
	f := newFleet(t, 4, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	s := fast(canaryWith(multicluster.Analysis{Name: "latency", Check: constant(0.07), Range: multicluster.AtMost(0.05), FailureRange: ptr(multicluster.AtLeast(0.1))}))
	s.Canary.FirstPercent = 25
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	st := paused(t, f, id)
	if !strings.Contains(st.Reason, "analysis latency inconclusive 1 time after wave 0, more than inconclusiveLimit 0") ||
		st.Analysis[0].Result != multicluster.AnalysisInconclusive || st.Analysis[0].Inconclusive != 1 || f.mem.Deliveries("c-0001") != 0 {
		t.Fatalf("paused: %s %+v", st.Reason, st.Analysis)
	}
	// Resume takes the wave as passed; the next wave's analysis pauses
	// again, and Abort ends the rollout there.
	if err := f.prop.Resume(ctx, id); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, _ := f.prop.Status(ctx, id)
		return st.Phase == multicluster.PhasePaused && st.Wave == 1, fmt.Sprintf("%s wave %d", st.Phase, st.Wave)
	})
	if f.mem.Running("c-0001", "web") == "" {
		t.Fatal("wave 1 must have run after Resume")
	}
	if err := f.prop.Abort(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, err = f.prop.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseAborted || f.mem.Running("c-0000", "web") != "" {
		t.Fatalf("%v %s: %s", err, st.Phase, st.Reason)
	}
}

func TestInconclusiveLimit(t *testing.T) {
	f := newFleet(t, 2, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	check := &sequence{results: []result{{0.07, nil}, {0.07, nil}, {0.01, nil}}}
	s := canaryWith(multicluster.Analysis{Name: "latency", Check: check, Range: multicluster.AtMost(0.05), FailureRange: ptr(multicluster.AtLeast(0.1)),
		InconclusiveLimit: 2, Interval: 5 * time.Millisecond})
	s.Canary.FirstPercent, s.MinSuccessTime = 100, 50*time.Millisecond
	st := f.run(t, pkg("v1"), all(), s)
	if st.Phase != multicluster.PhaseSucceeded || st.Analysis[0].Inconclusive != 2 || st.Analysis[0].Successful == 0 {
		t.Fatalf("two inconclusive results within a limit of 2: %s: %s %+v", st.Phase, st.Reason, st.Analysis)
	}
}
