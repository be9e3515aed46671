package multicluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// blockFleet registers n in-memory clusters whose regions come in blocks
// of size (c-0000..c-<size-1> in region-a, the next block in region-b,
// ...), so that name order is not spread over regions; the last of each
// block is labelled tier=canary, the others tier=main. The propagator
// saves to the returned store.
func blockFleet(t testing.TB, n, size int) (*fleet, *multicluster.MemoryStore) {
	t.Helper()
	mem := memfleet.New(memfleet.Config{})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: mem})
	clusters := mem.AddClusters("c", n, 1)
	for i := range clusters {
		region := fmt.Sprintf("region-%c", 'a'+i/size)
		clusters[i].Region, clusters[i].Labels["region"] = region, region
		clusters[i].Labels["tier"] = map[bool]string{true: "canary", false: "main"}[i%size == size-1]
		if err := m.Register(context.Background(), clusters[i]); err != nil {
			t.Fatal(err)
		}
	}
	store := multicluster.NewMemoryStore()
	p := multicluster.NewPropagator(m, mem, multicluster.PropagatorConfig{SaveInterval: 20 * time.Millisecond, Store: store})
	t.Cleanup(func() { _ = p.Close() })
	return &fleet{mem: mem, manager: m, prop: p, clusters: clusters}, store
}

func wavesOf(t *testing.T, f *fleet, s multicluster.Strategy) string {
	t.Helper()
	plan, err := f.prop.Plan(context.Background(), pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range plan.Waves {
		out = append(out, strings.Join(w, ","))
	}
	return strings.Join(out, " | ")
}

func TestWavesSpreadOverATopologyKey(t *testing.T) {
	f, _ := blockFleet(t, 12, 4) // regions a: 0-3, b: 4-7, c: 8-11
	canary := multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{FirstPercent: 25, StepPercent: 25}}
	for _, tc := range []struct {
		name string
		s    multicluster.Strategy
		want string
	}{
		{"no spread: name order", canary,
			"c-0000,c-0001,c-0002 | c-0003,c-0004,c-0005 | c-0006,c-0007,c-0008 | c-0009,c-0010,c-0011"},
		{"spread by region", withSpread(canary, "region"),
			"c-0000,c-0004,c-0008 | c-0001,c-0005,c-0009 | c-0002,c-0006,c-0010 | c-0003,c-0007,c-0011"},
		{"spread by a label", withSpread(multicluster.Strategy{Type: multicluster.StrategySequential}, "tier"),
			"c-0003 | c-0000 | c-0007 | c-0001 | c-0011 | c-0002 | c-0004 | c-0005 | c-0006 | c-0008 | c-0009 | c-0010"},
		{"blue-green batches spread", withSpread(multicluster.Strategy{Type: multicluster.StrategyBlueGreen, MaxConcurrency: multicluster.Count(3)}, "region"),
			"c-0000,c-0004,c-0008 | c-0001,c-0005,c-0009 | c-0002,c-0006,c-0010 | c-0003,c-0007,c-0011"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wavesOf(t, f, tc.s); got != tc.want {
				t.Fatalf("waves\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	// What Plan shows is what runs.
	st := f.run(t, pkg("v1"), all(), withSpread(canary, "region"))
	if st.Phase != multicluster.PhaseSucceeded || st.Waves != 4 {
		t.Fatalf("%s: %s", st.Phase, st.Reason)
	}
	cs, err := f.prop.ClusterStatus(context.Background(), st.ID, "c-0008")
	if err != nil || cs.Wave != 0 {
		t.Fatalf("c-0008 (region-c) must be in the first wave: %+v %v", cs, err)
	}
}

func withSpread(s multicluster.Strategy, key string) multicluster.Strategy {
	s.SpreadBy = key
	return s
}

func TestDecisionGroups(t *testing.T) {
	f, store := blockFleet(t, 12, 4)
	for _, tc := range []struct {
		name string
		s    multicluster.Strategy
		want string
	}{
		{"a group per region, one wave each (ProgressivePerGroup)",
			multicluster.Strategy{Type: multicluster.StrategyParallel, Groups: multicluster.GroupStrategy{By: "region"}},
			"c-0000,c-0001,c-0002,c-0003 | c-0004,c-0005,c-0006,c-0007 | c-0008,c-0009,c-0010,c-0011"},
		{"named groups first, the rest by region, split",
			multicluster.Strategy{Type: multicluster.StrategyParallel, Groups: multicluster.GroupStrategy{
				Groups: []multicluster.DecisionGroup{{Name: "canaries", Labels: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "canary"}}}},
				By:     "region", ClustersPerGroup: multicluster.Count(2)}},
			"c-0003,c-0007 | c-0011 | c-0000,c-0001 | c-0002 | c-0004,c-0005 | c-0006 | c-0008,c-0009 | c-0010"},
		{"canary: first wave round-robin over the groups, then each group its own waves",
			multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{FirstPercent: 25, StepPercent: 25},
				Groups: multicluster.GroupStrategy{By: "region"}},
			"c-0000,c-0004,c-0008 | c-0001,c-0002,c-0003 | c-0005,c-0006,c-0007 | c-0009,c-0010,c-0011"},
		{"a nil selector takes the rest",
			multicluster.Strategy{Type: multicluster.StrategyParallel, Groups: multicluster.GroupStrategy{Groups: []multicluster.DecisionGroup{
				{Name: "b", Labels: &metav1.LabelSelector{MatchLabels: map[string]string{"region": "region-b"}}}, {Name: "others"}}}},
			"c-0004,c-0005,c-0006,c-0007 | c-0000,c-0001,c-0002,c-0003,c-0008,c-0009,c-0010,c-0011"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wavesOf(t, f, tc.s); got != tc.want {
				t.Fatalf("waves\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel, Groups: multicluster.GroupStrategy{By: "region"}})
	if st.Phase != multicluster.PhaseSucceeded || st.Waves != 3 {
		t.Fatalf("%s: %s", st.Phase, st.Reason)
	}
	var groups []string
	for _, w := range st.WaveProgress {
		groups = append(groups, w.Group)
	}
	if got := strings.Join(groups, ","); got != "region=region-a,region=region-b,region=region-c" {
		t.Fatalf("wave groups in status: %s", got)
	}
	other := multicluster.NewPropagator(f.manager, f.mem, multicluster.PropagatorConfig{Store: store})
	defer other.Close()
	fromStore, err := other.Status(context.Background(), st.ID)
	if err != nil || len(fromStore.WaveProgress) != 3 || fromStore.WaveProgress[1].Group != "region=region-b" {
		t.Fatalf("wave groups from the store: %+v %v", fromStore, err)
	}
}

func TestPerGroupMaxFailures(t *testing.T) {
	f, _ := blockFleet(t, 12, 4)
	f.mem.SetFailed("c-0005", "CrashLoopBackOff")
	byRegion := multicluster.Strategy{Type: multicluster.StrategyParallel, MaxFailures: multicluster.Count(5), OnFailure: multicluster.FailureHalt,
		Groups: multicluster.GroupStrategy{By: "region"}}
	st := f.run(t, pkg("v1"), all(), byRegion)
	if st.Phase != multicluster.PhaseHalted || !strings.Contains(st.Reason, "decision group region=region-b") || !strings.Contains(st.Reason, "groups.maxFailures 0") {
		t.Fatalf("one failure in a group with the default budget 0: %s: %s", st.Phase, st.Reason)
	}
	if st.Counts[multicluster.ClusterSkipped] != 4 || f.mem.Deliveries("c-0008") != 0 {
		t.Fatalf("the next group must not start: %v", st.Counts)
	}

	byRegion.Groups.MaxFailures = multicluster.Count(1)
	if st := f.run(t, pkg("v2"), all(), byRegion); st.Phase != multicluster.PhaseSucceededWithFailures || st.Counts[multicluster.ClusterFailed] != 1 {
		t.Fatalf("one failure within the group's budget of 1: %s: %s %v", st.Phase, st.Reason, st.Counts)
	}
	f.mem.SetFailed("c-0006", "CrashLoopBackOff")
	st = f.run(t, pkg("v3"), all(), byRegion)
	if st.Phase != multicluster.PhaseHalted || !strings.Contains(st.Reason, "2 clusters of decision group region=region-b failed") {
		t.Fatalf("two failures in one group over a budget of 1: %s: %s", st.Phase, st.Reason)
	}
	// A percentage is of the group's clusters: 50% of 4 is 2.
	byRegion.Groups.MaxFailures = multicluster.Percent(50)
	if st := f.run(t, pkg("v4"), all(), byRegion); st.Phase != multicluster.PhaseSucceededWithFailures {
		t.Fatalf("two failures within 50%% of a group of 4: %s: %s", st.Phase, st.Reason)
	}
	// Strategy.MaxFailures still bounds the total.
	byRegion.MaxFailures = multicluster.Count(1)
	if st := f.run(t, pkg("v5"), all(), byRegion); st.Phase != multicluster.PhaseHalted || !strings.Contains(st.Reason, "more than maxFailures 1") {
		t.Fatalf("the total budget: %s: %s", st.Phase, st.Reason)
	}
}

func TestKnobsAreValidated(t *testing.T) {
	hook := func(context.Context, multicluster.WebhookPayload) error { return nil }
	neg := -1
	for _, tc := range []struct {
		s     multicluster.Strategy
		field string
	}{
		{multicluster.Strategy{Groups: multicluster.GroupStrategy{Groups: []multicluster.DecisionGroup{{}}}}, "groups.groups[0].name"},
		{multicluster.Strategy{Groups: multicluster.GroupStrategy{Groups: []multicluster.DecisionGroup{{Name: "a"}, {Name: "a"}}}}, "groups.groups[1].name"},
		{multicluster.Strategy{Groups: multicluster.GroupStrategy{Groups: []multicluster.DecisionGroup{{Name: "a",
			Labels: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Near"}}}}}}}, "groups.groups[0].labels"},
		{multicluster.Strategy{Groups: multicluster.GroupStrategy{By: "region", ClustersPerGroup: multicluster.Count(-1)}}, "groups.clustersPerGroup"},
		{multicluster.Strategy{Groups: multicluster.GroupStrategy{By: "region", MaxFailures: multicluster.Percent(101)}}, "groups.maxFailures"},
		{multicluster.Strategy{Groups: multicluster.GroupStrategy{MaxFailures: multicluster.Count(1)}}, "groups.maxFailures"},
		{multicluster.Strategy{ApprovalBefore: []int{-1}}, "approvalBefore"},
		{multicluster.Strategy{ApprovalBefore: []int{1, 1}}, "approvalBefore"},
		{multicluster.Strategy{Suspended: []string{""}}, "suspended"},
		{multicluster.Strategy{Suspended: []string{"c-0001", "c-0001"}}, "suspended"},
		{multicluster.Strategy{Webhooks: []multicluster.Webhook{{Name: "h", URL: "http://127.0.0.1/"}}}, "webhooks[0].type"},
		{multicluster.Strategy{Webhooks: []multicluster.Webhook{{Name: "h", Type: "sometimes", URL: "http://127.0.0.1/"}}}, "webhooks[0].type"},
		{multicluster.Strategy{Webhooks: []multicluster.Webhook{{Type: multicluster.WebhookPreRollout, URL: "http://127.0.0.1/"}}}, "webhooks[0].name"},
		{multicluster.Strategy{Webhooks: []multicluster.Webhook{{Name: "h", Type: multicluster.WebhookPreRollout}}}, "webhooks[0].url"},
		{multicluster.Strategy{Webhooks: []multicluster.Webhook{{Name: "h", Type: multicluster.WebhookPreRollout, URL: "http://127.0.0.1/", Func: hook}}}, "webhooks[0].url"},
		{multicluster.Strategy{Webhooks: []multicluster.Webhook{{Name: "h", Type: multicluster.WebhookPreRollout, URL: "ftp://127.0.0.1/"}}}, "webhooks[0].url"},
		{multicluster.Strategy{Webhooks: []multicluster.Webhook{{Name: "h", Type: multicluster.WebhookPreRollout, Func: hook, Timeout: -time.Second}}}, "webhooks[0].timeout"},
		{multicluster.Strategy{Webhooks: []multicluster.Webhook{{Name: "h", Type: multicluster.WebhookConfirmWave, Func: hook, Interval: -time.Second}}}, "webhooks[0].interval"},
		{multicluster.Strategy{Webhooks: []multicluster.Webhook{{Name: "h", Type: multicluster.WebhookWave, Func: hook}, {Name: "h", Type: multicluster.WebhookWave, Func: hook}}}, "webhooks[1].name"},
		{multicluster.Strategy{Analysis: []multicluster.Analysis{{Name: "a", Check: constant(1), InconclusiveLimit: -1}}}, "analysis[0].inconclusiveLimit"},
		{multicluster.Strategy{Analysis: []multicluster.Analysis{{Name: "a", Check: constant(1), ConsecutiveErrorLimit: &neg}}}, "analysis[0].consecutiveErrorLimit"},
		{multicluster.Strategy{Analysis: []multicluster.Analysis{{Name: "a", Check: constant(1), Range: multicluster.AtMost(1), FailureRange: ptr(multicluster.AtLeast(0.5))}}}, "analysis[0].failureRange"},
		{multicluster.Strategy{Analysis: []multicluster.Analysis{{Name: "a", Check: constant(1), FailureRange: &multicluster.Range{}}}}, "analysis[0].failureRange"},
		{multicluster.Strategy{Analysis: []multicluster.Analysis{{Name: "a", Check: constant(1), FailureRange: ptr(multicluster.Between(2, 1))}}}, "analysis[0].failureRange"},
	} {
		tc.s.Type = multicluster.StrategyParallel
		err := tc.s.Validate()
		var fe *multicluster.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, multicluster.ErrInvalidStrategy) {
			t.Errorf("%+v: %v, want a FieldError on %s", tc.s, err, tc.field)
		}
	}
	// Knobs that need the waves are checked when they are cut, before any
	// cluster changes.
	f := newFleet(t, 3, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	for field, s := range map[string]multicluster.Strategy{
		"approvalBefore": {Type: multicluster.StrategyParallel, ApprovalBefore: []int{1}},
		"suspended":      {Type: multicluster.StrategyParallel, Suspended: []string{"elsewhere"}},
	} {
		_, err := f.prop.Propagate(context.Background(), pkg("v1"), all(), s)
		var fe *multicluster.FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	for _, c := range f.clusters {
		if f.mem.Deliveries(c.Name) != 0 {
			t.Fatalf("a refused strategy delivered to %s", c.Name)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// constant is a check that always measures v.
func constant(v float64) multicluster.Check {
	return multicluster.CheckFunc(func(context.Context, multicluster.AnalysisInput) (float64, error) { return v, nil })
}

func TestDecisionGroupsSurviveRestore(t *testing.T) {
	f, store := blockFleet(t, 8, 4) // region-a: 0-3, region-b: 4-7
	ctx := context.Background()
	s := fast(multicluster.Strategy{Type: multicluster.StrategyParallel, OnFailure: multicluster.FailureHalt, ApprovalBefore: []int{1}, MaxFailures: multicluster.Count(5),
		Groups: multicluster.GroupStrategy{By: "region"}})
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	awaiting(t, f.prop, id, 1)
	if err := f.prop.Close(); err != nil {
		t.Fatal(err)
	}
	// c-0004 moves to region-a meanwhile: the rollout keeps the groups it
	// started with, and region-b's budget of 0 still counts c-0004.
	c, _, err := f.manager.Get("c-0004")
	if err != nil {
		t.Fatal(err)
	}
	c.Region, c.Labels["region"] = "region-a", "region-a"
	if err := f.manager.Unregister(ctx, c.Name); err != nil {
		t.Fatal(err)
	}
	if err := f.manager.Register(ctx, c); err != nil {
		t.Fatal(err)
	}
	f.mem.SetFailed("c-0004", "CrashLoopBackOff")
	p2 := multicluster.NewPropagator(f.manager, f.mem, multicluster.PropagatorConfig{Store: store, SaveInterval: 20 * time.Millisecond})
	defer p2.Close()
	if err := p2.Restore(ctx, id, pkg("v1"), s); err != nil {
		t.Fatal(err)
	}
	awaiting(t, p2, id, 1)
	if err := p2.Approve(ctx, id, 1, "alice"); err != nil {
		t.Fatal(err)
	}
	st, err := p2.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseHalted || !strings.Contains(st.Reason, "decision group region=region-b") {
		t.Fatalf("%v %s: %s", err, st.Phase, st.Reason)
	}
	if got := st.WaveProgress[1].Group; got != "region=region-b" {
		t.Fatalf("wave 1's group after Restore: %q", got)
	}
}
