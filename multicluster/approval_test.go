package multicluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// awaiting waits until the rollout waits for the approval of wave.
func awaiting(t *testing.T, p *multicluster.Propagator, id multicluster.ID, wave int) *multicluster.Status {
	t.Helper()
	var st *multicluster.Status
	eventually.True(t, 10*time.Second, func() (bool, string) {
		var err error
		st, err = p.Status(context.Background(), id)
		if err != nil {
			return false, err.Error()
		}
		return st.AwaitingApproval != nil && *st.AwaitingApproval == wave, fmt.Sprintf("%s %q awaiting %v", st.Phase, st.Reason, st.AwaitingApproval)
	})
	return st
}

func TestApprovalGatesBetweenWaves(t *testing.T) {
	f := newFleet(t, 4, 2, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	s := fast(multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{FirstPercent: 25, StepPercent: 50},
		ApprovalBefore: []int{1}})
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	events, err := f.prop.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	st := awaiting(t, f.prop, id, 1)
	if st.Phase != multicluster.PhaseRunning || st.Reason != "waiting for approval of wave 1 (2 clusters)" || st.Wave != 1 {
		t.Fatalf("waiting: %s %q wave %d", st.Phase, st.Reason, st.Wave)
	}
	if st.Counts[multicluster.ClusterSucceeded] != 1 || f.mem.Deliveries("c-0001") != 0 {
		t.Fatalf("only the first wave may run before the approval: %v", st.Counts)
	}

	var ae *multicluster.ApprovalError
	if err := f.prop.Approve(ctx, id, 2, "alice"); !errors.Is(err, multicluster.ErrNotAwaitingApproval) || !errors.As(err, &ae) || ae.Wave != 2 {
		t.Fatalf("approving a wave that is not waiting: %v", err)
	}
	var fe *multicluster.FieldError
	if err := f.prop.Approve(ctx, id, 1, ""); !errors.Is(err, multicluster.ErrInvalidApproval) || !errors.As(err, &fe) || fe.Field != "by" {
		t.Fatalf("an approval by nobody: %v", err)
	}
	if err := f.prop.Approve(ctx, "nothing-1", 1, "alice"); !errors.Is(err, multicluster.ErrUnknownRollout) || !errors.As(err, &ae) {
		t.Fatalf("an unknown rollout: %v", err)
	}
	before := time.Now()
	if err := f.prop.Approve(ctx, id, 1, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.prop.Approve(ctx, id, 1, "bob"); !errors.Is(err, multicluster.ErrNotAwaitingApproval) && !errors.Is(err, multicluster.ErrRolloutFinished) {
		t.Fatalf("approving twice: %v", err)
	}
	st, err = f.prop.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("%v %s: %s", err, st.Phase, st.Reason)
	}
	if len(st.Approvals) != 1 || st.Approvals[0].Wave != 1 || st.Approvals[0].By != "alice" || st.Approvals[0].At.Before(before) || st.AwaitingApproval != nil {
		t.Fatalf("approvals in the status: %+v awaiting %v", st.Approvals, st.AwaitingApproval)
	}
	var seen []string
	for e := range events {
		if e.Type == multicluster.EventApprovalRequired || e.Type == multicluster.EventApproved {
			seen = append(seen, fmt.Sprintf("%s %d %s", e.Type, e.Wave, e.Message))
		}
	}
	// Events replay from the start: ApprovalRequired is never missed.
	got := strings.Join(seen, "; ")
	if got != "ApprovalRequired 1 waiting for approval of wave 1 (2 clusters); Approved 1 approved by alice" {
		t.Fatalf("events: %s", got)
	}
	if err := f.prop.Approve(ctx, id, 1, "alice"); !errors.Is(err, multicluster.ErrRolloutFinished) {
		t.Fatalf("approving a finished rollout: %v", err)
	}
}

func TestApprovalSurvivesRestore(t *testing.T) {
	store := multicluster.NewMemoryStore()
	f := newFleet(t, 3, 1, memfleet.Config{}, multicluster.PropagatorConfig{Store: store})
	ctx := context.Background()
	s := fast(multicluster.Strategy{Type: multicluster.StrategySequential, ApprovalBefore: []int{0, 2}})
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	awaiting(t, f.prop, id, 0)
	if f.mem.Deliveries("c-0000") != 0 {
		t.Fatal("an approval before wave 0 holds every cluster")
	}
	if err := f.prop.Approve(ctx, id, 0, "alice"); err != nil {
		t.Fatal(err)
	}
	awaiting(t, f.prop, id, 2)
	if err := f.prop.Close(); err != nil {
		t.Fatal(err)
	}

	// Another process reads the record, then continues the rollout.
	p2 := multicluster.NewPropagator(f.manager, f.mem, multicluster.PropagatorConfig{Store: store, SaveInterval: 20 * time.Millisecond})
	defer p2.Close()
	st, err := p2.Status(ctx, id)
	if err != nil || st.AwaitingApproval == nil || *st.AwaitingApproval != 2 || len(st.Approvals) != 1 || st.Approvals[0].By != "alice" {
		t.Fatalf("status from the record: %+v %v", st, err)
	}
	if err := p2.Restore(ctx, id, pkg("v1"), s); err != nil {
		t.Fatal(err)
	}
	st = awaiting(t, p2, id, 2)
	if st.Counts[multicluster.ClusterSucceeded] != 2 || f.mem.Deliveries("c-0002") != 0 || f.mem.Deliveries("c-0000") != 1 {
		t.Fatalf("restored: %v, deliveries %d %d", st.Counts, f.mem.Deliveries("c-0000"), f.mem.Deliveries("c-0002"))
	}
	if err := p2.Approve(ctx, id, 2, "bob"); err != nil {
		t.Fatal(err)
	}
	st, err = p2.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseSucceeded || len(st.Approvals) != 2 || st.Approvals[1].By != "bob" {
		t.Fatalf("%v %s: %s %+v", err, st.Phase, st.Reason, st.Approvals)
	}
}

func TestAbortWhileWaitingForApproval(t *testing.T) {
	f := newFleet(t, 3, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategySequential, ApprovalBefore: []int{1}}))
	if err != nil {
		t.Fatal(err)
	}
	awaiting(t, f.prop, id, 1)
	if err := f.prop.Abort(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, err := f.prop.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseAborted || st.AwaitingApproval != nil || st.Counts[multicluster.ClusterSkipped] != 2 {
		t.Fatalf("%v %s: %s %v", err, st.Phase, st.Reason, st.Counts)
	}
	if f.mem.Running("c-0000", "web") != "" || f.mem.Deliveries("c-0001") != 0 {
		t.Fatal("the aborted rollout must roll c-0000 back and never reach c-0001")
	}
}
