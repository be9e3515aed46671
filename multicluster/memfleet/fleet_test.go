package memfleet_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

func revision(t *testing.T, version string) *multicluster.Revision {
	t.Helper()
	rev, err := multicluster.NewRevision("web", version, []*yaml.RNode{
		yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  version: " + version + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func observe(t *testing.T, f *memfleet.Fleet, c *multicluster.Cluster, rev *multicluster.Revision) multicluster.DeliveryState {
	t.Helper()
	obs, err := f.Observe(context.Background(), c, rev)
	if err != nil {
		t.Fatal(err)
	}
	return obs.State
}

func TestDeliveryBecomesAvailableAfterTheReadinessDelay(t *testing.T) {
	ctx := context.Background()
	f := memfleet.New(memfleet.Config{ReadinessDelay: 100 * time.Millisecond})
	c := f.AddClusters("c", 1, 1)[0]
	v1 := revision(t, "v1")
	if got := observe(t, f, &c, v1); got != multicluster.DeliveryProgressing {
		t.Fatalf("before delivery: %s", got)
	}
	if err := f.Deliver(ctx, &c, v1); err != nil {
		t.Fatal(err)
	}
	if got := observe(t, f, &c, v1); got != multicluster.DeliveryProgressing {
		t.Fatalf("right after delivery: %s, want Progressing for the readiness delay", got)
	}
	eventually.True(t, 5*time.Second, func() (bool, string) {
		st := observe(t, f, &c, v1)
		return st == multicluster.DeliveryAvailable, string(st)
	})
	if err := f.Deliver(ctx, &c, v1); err != nil { // the same revision again: nothing changes
		t.Fatal(err)
	}
	if got := observe(t, f, &c, v1); got != multicluster.DeliveryAvailable || f.Deliveries(c.Name) != 2 || f.Running(c.Name, "web") != v1.ID {
		t.Fatalf("after a repeated delivery: %s, %d deliveries, runs %q", got, f.Deliveries(c.Name), f.Running(c.Name, "web"))
	}
	cur, err := f.Current(ctx, &c, "web")
	if err != nil || cur.ID != v1.ID {
		t.Fatalf("Current = %v, %v", cur, err)
	}
	if _, err := f.Get(ctx, &c, "web", "v0-unknown"); !errors.Is(err, multicluster.ErrUnknownRevision) {
		t.Fatalf("Get of an unknown revision: %v", err)
	}
	if err := f.Remove(ctx, &c, "web"); err != nil {
		t.Fatal(err)
	}
	if cur, err := f.Current(ctx, &c, "web"); err != nil || cur != nil {
		t.Fatalf("after Remove: %v, %v", cur, err)
	}
	if got, err := f.Get(ctx, &c, "web", v1.ID); err != nil || got.ID != v1.ID {
		t.Fatalf("a removed revision stays in the history for rollback: %v, %v", got, err)
	}
}

func TestNeverReadyKeepsNewRevisionsProgressing(t *testing.T) {
	ctx := context.Background()
	f := memfleet.New(memfleet.Config{})
	c := f.AddClusters("c", 1, 1)[0]
	v1, v2 := revision(t, "v1"), revision(t, "v2")
	if err := f.Deliver(ctx, &c, v1); err != nil {
		t.Fatal(err)
	}
	f.SetNeverReady(c.Name, true)
	if err := f.Deliver(ctx, &c, v2); err != nil {
		t.Fatal(err)
	}
	if got := observe(t, f, &c, v2); got != multicluster.DeliveryProgressing {
		t.Fatalf("a revision delivered to a never-ready cluster: %s", got)
	}
	if err := f.Deliver(ctx, &c, v1); err != nil { // rolling back
		t.Fatal(err)
	}
	if got := observe(t, f, &c, v1); got != multicluster.DeliveryAvailable {
		t.Fatalf("a revision the cluster ran before: %s, want Available", got)
	}
}

func TestFaultsAnswerWithTheirErrorsAndHealth(t *testing.T) {
	ctx := context.Background()
	f := memfleet.New(memfleet.Config{})
	cs := f.AddClusters("c", 3, 1)
	f.SetUnreachable(cs[1].Name, true)
	f.SetUnauthorized(cs[2].Name, true)
	for i, want := range []multicluster.HealthState{multicluster.HealthHealthy, multicluster.HealthUnreachable, multicluster.HealthUnauthorized} {
		if h := f.Probe(ctx, &cs[i]); h.State != want {
			t.Errorf("%s: probe %s, want %s", cs[i].Name, h.State, want)
		}
	}
	v1 := revision(t, "v1")
	if err := f.Deliver(ctx, &cs[1], v1); !errors.Is(err, multicluster.ErrUnreachable) {
		t.Errorf("deliver to an unreachable cluster: %v", err)
	}
	if _, err := f.Observe(ctx, &cs[2], v1); !errors.Is(err, multicluster.ErrUnauthorized) {
		t.Errorf("observe a cluster that rejects the credentials: %v", err)
	}
	unknown := multicluster.Cluster{Name: "nowhere"}
	if _, err := f.Current(ctx, &unknown, "web"); !errors.Is(err, multicluster.ErrUnknownCluster) {
		t.Errorf("a cluster the fleet does not have: %v", err)
	}
	f.SetUnreachable(cs[1].Name, false)
	if err := f.Deliver(ctx, &cs[1], v1); err != nil || f.Deliveries(cs[1].Name) != 1 {
		t.Errorf("healed cluster: %v, %d deliveries", err, f.Deliveries(cs[1].Name))
	}
}

func TestFailureRateIsSeeded(t *testing.T) {
	ctx := context.Background()
	failing := func(seed uint64) []string {
		f := memfleet.New(memfleet.Config{FailureRate: 0.5, Seed: seed})
		var out []string
		for _, c := range f.AddClusters("c", 40, 1) {
			rev := revision(t, "v1")
			if err := f.Deliver(ctx, &c, rev); err != nil {
				t.Fatal(err)
			}
			if observe(t, f, &c, rev) != multicluster.DeliveryAvailable {
				out = append(out, c.Name)
			}
		}
		return out
	}
	a, b := failing(7), failing(7)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("the same seed failed %v, then %v", a, b)
	}
	if len(a) == 0 || len(a) == 40 {
		t.Fatalf("a failure rate of 0.5 failed %d of 40 deliveries", len(a))
	}
}

func TestLatencyEndsWithTheContext(t *testing.T) {
	f := memfleet.New(memfleet.Config{Latency: time.Hour})
	c := f.AddClusters("c", 1, 1)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := f.Deliver(ctx, &c, revision(t, "v1")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Deliver = %v, want the context's error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Deliver took %s with a cancelled context", d)
	}
}

func TestFailedRevisionsReportDeliveryFailed(t *testing.T) {
	ctx := context.Background()
	f := memfleet.New(memfleet.Config{})
	cs := f.AddClusters("c", 2, 1)
	v1, v2, v3 := revision(t, "v1"), revision(t, "v2"), revision(t, "v3")
	if err := f.Deliver(ctx, &cs[0], v1); err != nil {
		t.Fatal(err)
	}
	f.SetFailed(cs[0].Name, "CrashLoopBackOff")
	if got := observe(t, f, &cs[0], v1); got != multicluster.DeliveryAvailable {
		t.Fatalf("a revision delivered before SetFailed: %s", got)
	}
	if err := f.Deliver(ctx, &cs[0], v2); err != nil {
		t.Fatal(err)
	}
	obs, err := f.Observe(ctx, &cs[0], v2)
	if err != nil || obs.State != multicluster.DeliveryFailed || obs.Message != "CrashLoopBackOff" {
		t.Fatalf("a revision delivered after SetFailed: %+v %v", obs, err)
	}
	f.SetFailed(cs[0].Name, "")
	if err := f.Deliver(ctx, &cs[0], v3); err != nil {
		t.Fatal(err)
	}
	if got := observe(t, f, &cs[0], v3); got != multicluster.DeliveryAvailable {
		t.Fatalf("after SetFailed(\"\"): %s", got)
	}
	if err := f.Deliver(ctx, &cs[0], v1); err != nil { // back to a revision that ran before
		t.Fatal(err)
	}
	if got := observe(t, f, &cs[0], v1); got != multicluster.DeliveryAvailable {
		t.Fatalf("rolled back to v1: %s", got)
	}

	// One revision, by ID, before it is delivered.
	f.FailRevision(cs[1].Name, v2.ID, "image pull backoff")
	for _, rev := range []*multicluster.Revision{v1, v2} {
		if err := f.Deliver(ctx, &cs[1], rev); err != nil {
			t.Fatal(err)
		}
	}
	if obs, _ := f.Observe(ctx, &cs[1], v2); obs.State != multicluster.DeliveryFailed || obs.Message != "image pull backoff" {
		t.Fatalf("FailRevision: %+v", obs)
	}
	f.FailRevision(cs[1].Name, v2.ID, "")
	if got := observe(t, f, &cs[1], v2); got != multicluster.DeliveryAvailable {
		t.Fatalf("FailRevision cleared: %s", got)
	}
}

func TestScheduledFaultsStrikeOnDelivery(t *testing.T) {
	ctx := context.Background()
	f := memfleet.New(memfleet.Config{})
	cs := f.AddClusters("c", 3, 1)
	v1 := revision(t, "v1")
	f.AfterDelivery(cs[0].Name, memfleet.Fault{Unreachable: true})
	f.WhenDelivered([]string{cs[1].Name}, cs[2].Name, memfleet.Fault{Failed: "disk full"})
	if h := f.Probe(ctx, &cs[0]); h.State != multicluster.HealthHealthy {
		t.Fatalf("before its delivery: %s", h.State)
	}
	if err := f.Deliver(ctx, &cs[0], v1); err != nil {
		t.Fatalf("the delivery itself goes through: %v", err)
	}
	if f.Running(cs[0].Name, "web") == "" {
		// Running reads state without answering calls, so it still sees
		// what the cluster runs.
		t.Fatal("the revision must be applied before the fault strikes")
	}
	if _, err := f.Observe(ctx, &cs[0], v1); !errors.Is(err, multicluster.ErrUnreachable) {
		t.Fatalf("after its delivery: %v, want unreachable", err)
	}
	// c-0002 is healthy until c-0001 is delivered to.
	if err := f.Deliver(ctx, &cs[2], v1); err != nil {
		t.Fatal(err)
	}
	if got := observe(t, f, &cs[2], v1); got != multicluster.DeliveryAvailable {
		t.Fatalf("before the trigger: %s", got)
	}
	if err := f.Deliver(ctx, &cs[1], v1); err != nil {
		t.Fatal(err)
	}
	if obs, _ := f.Observe(ctx, &cs[2], v1); obs.State != multicluster.DeliveryFailed || obs.Message != "disk full" {
		t.Fatalf("after the trigger: %+v", obs)
	}
	if got := observe(t, f, &cs[1], v1); got != multicluster.DeliveryAvailable {
		t.Fatalf("the trigger itself: %s", got)
	}
	// A fault strikes once: healed, the cluster stays healed through
	// later deliveries.
	f.SetUnreachable(cs[0].Name, false)
	if err := f.Deliver(ctx, &cs[0], v1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Observe(ctx, &cs[0], v1); err != nil {
		t.Fatalf("a fault struck twice: %v", err)
	}
	f.Apply(cs[1].Name, memfleet.Fault{Unauthorized: true, NeverReady: true})
	if h := f.Probe(ctx, &cs[1]); h.State != multicluster.HealthUnauthorized {
		t.Fatalf("Apply: %s", h.State)
	}
}
