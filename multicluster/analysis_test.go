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
