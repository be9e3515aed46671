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

// hookServer records the payloads posted to it and answers each hook with
// the status codes set for it, in turn (the last one again when they run
// out; 200 when none is set).
type hookServer struct {
	mu      sync.Mutex
	calls   []multicluster.WebhookPayload
	answers map[string][]int
	delay   time.Duration // before answering, unless the request ends first
}

func (h *hookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p multicluster.WebhookPayload
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&p) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if h.delay > 0 {
		select {
		case <-time.After(h.delay):
		case <-r.Context().Done():
			return
		}
	}
	h.mu.Lock()
	h.calls = append(h.calls, p)
	code := http.StatusOK
	if a := h.answers[p.Hook]; len(a) > 0 {
		code = a[0]
		if len(a) > 1 {
			h.answers[p.Hook] = a[1:]
		}
	}
	h.mu.Unlock()
	if code != http.StatusOK {
		http.Error(w, fmt.Sprintf("%s says no", p.Hook), code)
	}
}

func (h *hookServer) called() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, c := range h.calls {
		out = append(out, fmt.Sprintf("%s@%d", c.Hook, c.Wave))
	}
	return out
}

func newHookServer(t *testing.T, h *hookServer) string {
	t.Helper()
	srv := httptest.NewServer(h) // bound to 127.0.0.1
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("the test server listens on %s", srv.URL)
	}
	return srv.URL
}

func TestWebhooksAroundTheWaves(t *testing.T) {
	h := &hookServer{answers: map[string][]int{"start-gate": {403, 403, 200}}}
	url := newHookServer(t, h)
	f := newFleet(t, 4, 2, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	var mu sync.Mutex
	var funcSaw []string
	s := fast(multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{FirstPercent: 25, StepPercent: 75},
		Webhooks: []multicluster.Webhook{
			{Name: "notify", Type: multicluster.WebhookPostRollout, URL: url + "/post"},
			{Name: "smoke", Type: multicluster.WebhookWave, URL: url + "/smoke", Metadata: map[string]string{"suite": "quick"}},
			{Name: "start-gate", Type: multicluster.WebhookConfirmRollout, URL: url + "/gate", Interval: 5 * time.Millisecond},
			{Name: "prepare", Type: multicluster.WebhookPreRollout, URL: url + "/pre"},
			{Name: "next-gate", Type: multicluster.WebhookConfirmWave, Func: func(_ context.Context, p multicluster.WebhookPayload) error {
				mu.Lock()
				defer mu.Unlock()
				funcSaw = append(funcSaw, fmt.Sprintf("%s %d %v", p.Type, p.Wave, p.Clusters))
				return nil
			}},
		}})
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.prop.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("%v %s: %s", err, st.Phase, st.Reason)
	}
	want := "start-gate@0,start-gate@0,start-gate@0,prepare@0,smoke@0,smoke@1,notify@-1"
	if got := strings.Join(h.called(), ","); got != want {
		t.Fatalf("calls %s, want %s", got, want)
	}
	mu.Lock()
	if got := strings.Join(funcSaw, "; "); got != "confirm-wave 1 [c-0001 c-0002 c-0003]" {
		t.Fatalf("the Go hook saw %s", got)
	}
	mu.Unlock()
	h.mu.Lock()
	pre, smoke, post := h.calls[3], h.calls[4], h.calls[6]
	h.mu.Unlock()
	if pre.Rollout != id || pre.Package != "web" || pre.Revision != "v1" || pre.Type != multicluster.WebhookPreRollout || len(pre.Clusters) != 4 {
		t.Fatalf("pre-rollout payload %+v", pre)
	}
	if strings.Join(smoke.Clusters, ",") != "c-0000" || smoke.Metadata["suite"] != "quick" {
		t.Fatalf("wave payload %+v", smoke)
	}
	if post.Phase != multicluster.PhaseSucceeded || post.Wave != -1 {
		t.Fatalf("post-rollout payload %+v", post)
	}
	calls := map[string]multicluster.WebhookStatus{}
	for _, w := range st.Webhooks {
		calls[w.Name] = w
	}
	if g := calls["start-gate"]; g.Calls != 3 || g.Failures != 2 || g.Message != "" || g.StatusCode != 0 {
		t.Fatalf("confirm hook status %+v", g)
	}
	if len(st.Webhooks) != 5 || calls["smoke"].Calls != 2 || calls["notify"].Calls != 1 {
		t.Fatalf("webhook status %+v", st.Webhooks)
	}
}

func TestPreRolloutHookFailureChangesNothing(t *testing.T) {
	h := &hookServer{answers: map[string][]int{"prepare": {500}}}
	url := newHookServer(t, h)
	f := newFleet(t, 3, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel,
		Webhooks: []multicluster.Webhook{{Name: "prepare", Type: multicluster.WebhookPreRollout, URL: url}}})
	if st.Phase != multicluster.PhaseRolledBack || !strings.Contains(st.Reason, "pre-rollout hook prepare") || !strings.Contains(st.Reason, "HTTP 500") {
		t.Fatalf("%s: %s", st.Phase, st.Reason)
	}
	if st.Counts[multicluster.ClusterSkipped] != 3 || len(st.Webhooks) != 1 || st.Webhooks[0].StatusCode != 500 || !strings.Contains(st.Webhooks[0].Message, "prepare says no") {
		t.Fatalf("%v %+v", st.Counts, st.Webhooks)
	}
	for _, c := range f.clusters {
		if f.mem.Deliveries(c.Name) != 0 {
			t.Fatalf("a failed pre-rollout hook delivered to %s", c.Name)
		}
	}
}

func TestWaveHookFailureFailsTheGate(t *testing.T) {
	f := newFleet(t, 4, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	broken := errors.New("smoke tests red")
	st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{FirstPercent: 25},
		Webhooks: []multicluster.Webhook{{Name: "smoke", Type: multicluster.WebhookWave, Func: func(context.Context, multicluster.WebhookPayload) error { return broken }}}})
	if st.Phase != multicluster.PhaseRolledBack || !strings.Contains(st.Reason, "after wave 0") || !strings.Contains(st.Reason, "smoke tests red") {
		t.Fatalf("%s: %s", st.Phase, st.Reason)
	}
	if f.mem.Running("c-0000", "web") != "" || f.mem.Deliveries("c-0001") != 0 {
		t.Fatal("the canary must be rolled back and the rest never reached")
	}
}

func TestConfirmHookWaitsUntilAborted(t *testing.T) {
	h := &hookServer{answers: map[string][]int{"gate": {503}}}
	url := newHookServer(t, h)
	f := newFleet(t, 2, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel,
		Webhooks: []multicluster.Webhook{{Name: "gate", Type: multicluster.WebhookConfirmRollout, URL: url, Interval: 5 * time.Millisecond}}}))
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, _ := f.prop.Status(ctx, id)
		return len(h.called()) >= 3 && strings.HasPrefix(st.Reason, "waiting for confirm-rollout hook gate before wave 0") && strings.Contains(st.Reason, "HTTP 503"),
			fmt.Sprintf("%d calls, %s", len(h.called()), st.Reason)
	})
	if err := f.prop.Abort(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, err := f.prop.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseAborted || f.mem.Deliveries("c-0000") != 0 {
		t.Fatalf("%v %s: %s", err, st.Phase, st.Reason)
	}
}

func TestPostRolloutHookFailureIsOnlyReported(t *testing.T) {
	h := &hookServer{answers: map[string][]int{"notify": {404}}}
	url := newHookServer(t, h)
	f := newFleet(t, 2, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	f.mem.SetFailed("c-0001", "CrashLoopBackOff")
	s := multicluster.Strategy{Type: multicluster.StrategyParallel, OnFailure: multicluster.FailureHalt,
		Webhooks: []multicluster.Webhook{{Name: "notify", Type: multicluster.WebhookPostRollout, URL: url}}}
	st := f.run(t, pkg("v1"), all(), s)
	if st.Phase != multicluster.PhaseHalted || len(st.Webhooks) != 1 || st.Webhooks[0].StatusCode != 404 || st.Webhooks[0].Failures != 1 {
		t.Fatalf("%s: %s %+v", st.Phase, st.Reason, st.Webhooks)
	}
	h.mu.Lock()
	phase := h.calls[0].Phase
	h.mu.Unlock()
	if phase != multicluster.PhaseHalted {
		t.Fatalf("post-rollout told %s", phase)
	}
}

func TestWebhookCallErrors(t *testing.T) {
	h := &hookServer{answers: map[string][]int{"denied": {409}}}
	url := newHookServer(t, h)
	ctx := context.Background()
	p := multicluster.WebhookPayload{Rollout: "r-1", Package: "web", Revision: "v1"}

	err := multicluster.Webhook{Name: "denied", Type: multicluster.WebhookPreRollout, URL: url}.Call(ctx, withHook(p, "denied"))
	var we *multicluster.WebhookError
	if !errors.Is(err, multicluster.ErrWebhookFailed) || !errors.As(err, &we) || we.StatusCode != 409 || we.Hook != "denied" || we.URL != url || we.Message != "denied says no" {
		t.Fatalf("a 409: %v", err)
	}
	if err := (multicluster.Webhook{Name: "fine", Type: multicluster.WebhookPreRollout, URL: url}).Call(ctx, withHook(p, "fine")); err != nil {
		t.Fatalf("a 200: %v", err)
	}

	slow := &hookServer{delay: time.Minute}
	slowURL := newHookServer(t, slow)
	err = multicluster.Webhook{Name: "slow", Type: multicluster.WebhookWave, URL: slowURL, Timeout: 50 * time.Millisecond}.Call(ctx, withHook(p, "slow"))
	if !errors.Is(err, multicluster.ErrWebhookFailed) || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &we) || we.StatusCode != 0 {
		t.Fatalf("a hook slower than its timeout: %v", err)
	}

	cause := errors.New("nope")
	err = multicluster.Webhook{Name: "go", Type: multicluster.WebhookWave, Func: func(context.Context, multicluster.WebhookPayload) error { return cause }}.Call(ctx, p)
	if !errors.Is(err, multicluster.ErrWebhookFailed) || !errors.Is(err, cause) || !strings.Contains(err.Error(), "wave hook go (func): nope") {
		t.Fatalf("a Go hook's error: %v", err)
	}
}

func withHook(p multicluster.WebhookPayload, name string) multicluster.WebhookPayload {
	p.Hook = name
	return p
}
