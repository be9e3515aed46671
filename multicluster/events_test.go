package multicluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// drain reads events until the channel closes.
func drain(t *testing.T, ch <-chan multicluster.Event) []multicluster.Event {
	t.Helper()
	var out []multicluster.Event
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, e)
		case <-timeout:
			t.Fatalf("events still open after 30s: %d so far", len(out))
		}
	}
}

// TestEventsReplayFromTheStart: a subscriber that comes late, even after
// the rollout finished, still gets EventStarted first and EventFinished
// last.
func TestEventsReplayFromTheStart(t *testing.T) {
	f := newFleet(t, 5, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel})
	ch, err := f.prop.Events(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	events := drain(t, ch)
	if len(events) < 2 || events[0].Type != multicluster.EventStarted || events[len(events)-1].Type != multicluster.EventFinished {
		t.Fatalf("events %+v", events)
	}
	if events[0].Message != "web v1 to 5 clusters in 1 wave (Parallel)" {
		t.Fatalf("started: %q", events[0].Message)
	}
	succeeded := 0
	for _, e := range events {
		if e.Type == multicluster.EventClusterSucceeded {
			succeeded++
		}
		if e.Dropped != 0 {
			t.Fatalf("nothing is dropped within the history: %+v", e)
		}
	}
	if succeeded != 5 {
		t.Fatalf("%d ClusterSucceeded events, want 5", succeeded)
	}
}

// TestEventsHistoryIsBounded: past its history a rollout keeps
// EventStarted and the latest events; a late subscriber is told how many
// it missed.
func TestEventsHistoryIsBounded(t *testing.T) {
	f := newFleet(t, 20, 1, memfleet.Config{}, multicluster.PropagatorConfig{EventHistory: 5})
	ctx := context.Background()
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategySequential}))
	if err != nil {
		t.Fatal(err)
	}
	early, err := f.prop.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	all := drain(t, early)
	late, err := f.prop.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	kept := drain(t, late)
	if all[0].Type != multicluster.EventStarted || kept[0].Type != multicluster.EventStarted {
		t.Fatalf("first events %s and %s, want Started", all[0].Type, kept[0].Type)
	}
	published := len(all)
	for _, e := range all {
		published += e.Dropped
	}
	if len(kept) != 5 || kept[1].Dropped != published-5 || kept[4].Type != multicluster.EventFinished {
		t.Fatalf("late subscriber got %d events (the second says %d dropped), want 5 of %d ending with Finished: %+v", len(kept), kept[1].Dropped, published, kept)
	}
}
