package multicluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// fleet is an in-memory fleet registered with a manager, and a propagator
// over it.
type fleet struct {
	mem      *memfleet.Fleet
	manager  *multicluster.ClusterManager
	prop     *multicluster.Propagator
	clusters []multicluster.Cluster
}

// newFleet registers n in-memory clusters spread over regions. The
// propagator saves every 20 ms unless cfg says otherwise.
func newFleet(t testing.TB, n, regions int, memCfg memfleet.Config, cfg multicluster.PropagatorConfig) *fleet {
	t.Helper()
	mem := memfleet.New(memCfg)
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: mem})
	clusters := mem.AddClusters("c", n, regions)
	for _, c := range clusters {
		if err := m.Register(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.SaveInterval == 0 {
		cfg.SaveInterval = 20 * time.Millisecond
	}
	p := multicluster.NewPropagator(m, mem, cfg)
	t.Cleanup(func() { _ = p.Close() })
	return &fleet{mem: mem, manager: m, prop: p, clusters: clusters}
}

func pkg(revision string) *multicluster.Package {
	return &multicluster.Package{Name: "web", Revision: revision, Resources: []*yaml.RNode{
		yaml.MustParse("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: web:" + revision + "\n"),
		yaml.MustParse("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n"),
		yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  version: " + revision + "\n"),
	}}
}

func fast(s multicluster.Strategy) multicluster.Strategy {
	if s.PollInterval == 0 {
		s.PollInterval = 5 * time.Millisecond
	}
	if s.ProgressDeadline == 0 {
		s.ProgressDeadline = 300 * time.Millisecond
	}
	return s
}

func all() multicluster.Selector { return multicluster.Selector{} }

func (f *fleet) run(t testing.TB, p *multicluster.Package, sel multicluster.Selector, s multicluster.Strategy) *multicluster.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := f.prop.Propagate(ctx, p, sel, fast(s))
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.prop.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// revisionIDs returns what each cluster runs.
func (f *fleet) running() map[string]string {
	out := map[string]string{}
	for _, c := range f.clusters {
		out[c.Name] = f.mem.Running(c.Name, "web")
	}
	return out
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParallelRolloutReachesEveryCluster(t *testing.T) {
	f := newFleet(t, 50, 3, memfleet.Config{ReadinessDelay: 10 * time.Millisecond}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel, MaxConcurrency: multicluster.Count(10)}))
	if err != nil {
		t.Fatal(err)
	}
	events, err := f.prop.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	succeeded := 0
	var last multicluster.Event
	for e := range events {
		if e.Type == multicluster.EventClusterSucceeded {
			succeeded++
		}
		last = e
	}
	st, err := f.prop.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 50 || st.Total != 50 {
		t.Fatalf("status %+v", st)
	}
	if last.Type != multicluster.EventFinished || succeeded+last.Dropped < 50 {
		t.Fatalf("events: %d ClusterSucceeded, last %+v", succeeded, last)
	}
	ids := map[string]bool{}
	for name, rev := range f.running() {
		if rev == "" {
			t.Fatalf("%s runs nothing", name)
		}
		ids[rev] = true
	}
	if len(ids) != 1 {
		t.Fatalf("clusters run %d different revisions of the same content", len(ids))
	}
	cs, err := f.prop.ClusterStatus(ctx, id, "c-0007")
	if err != nil || cs.State != multicluster.ClusterSucceeded || cs.Revision == "" || cs.Previous != "" {
		t.Fatalf("cluster detail %+v, %v", cs, err)
	}

	// A second rollout of the same content changes nothing.
	before := f.mem.Deliveries("c-0001")
	if st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel}); st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("second rollout %s", st.Phase)
	}
	if f.mem.Deliveries("c-0001") != before {
		t.Fatal("an unchanged revision was delivered again")
	}
}

func TestSequentialStopsAtTheFirstFailure(t *testing.T) {
	f := newFleet(t, 5, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	f.mem.SetNeverReady("c-0002", true)
	st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategySequential, OnFailure: multicluster.FailureHalt})
	if st.Phase != multicluster.PhaseHalted {
		t.Fatalf("phase %s: %s", st.Phase, st.Reason)
	}
	want := map[multicluster.ClusterState]int{multicluster.ClusterSucceeded: 2, multicluster.ClusterFailed: 1, multicluster.ClusterSkipped: 2}
	for s, n := range want {
		if st.Counts[s] != n {
			t.Errorf("%s: %d, want %d (%v)", s, st.Counts[s], n, st.Counts)
		}
	}
	if f.mem.Deliveries("c-0003") != 0 || f.mem.Deliveries("c-0004") != 0 {
		t.Fatal("clusters after the failed gate were touched")
	}
	if len(st.Failures) != 1 || st.Failures[0].Name != "c-0002" || !strings.Contains(st.Failures[0].Message, "progress deadline") {
		t.Fatalf("failures %+v", st.Failures)
	}
	if !strings.Contains(st.Reason, "maxFailures 0") {
		t.Fatalf("reason %q", st.Reason)
	}
}

func TestCanaryRollsBackEveryTouchedCluster(t *testing.T) {
	f := newFleet(t, 20, 2, memfleet.Config{}, multicluster.PropagatorConfig{})
	if st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel}); st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("v1: %s %s", st.Phase, st.Reason)
	}
	v1 := f.running()
	// Waves: 2 clusters (10%), then 5 (25%) each. c-0004 is in the second.
	f.mem.SetNeverReady("c-0004", true)
	st := f.run(t, pkg("v2"), all(), multicluster.Strategy{Type: multicluster.StrategyCanary, MaxFailures: multicluster.Percent(0),
		Canary: multicluster.CanaryStrategy{FirstPercent: 10, StepPercent: 25}})
	if st.Phase != multicluster.PhaseRolledBack {
		t.Fatalf("phase %s: %s", st.Phase, st.Reason)
	}
	if st.Waves != 5 || st.Wave != 1 {
		t.Fatalf("wave %d of %d, want 1 of 5", st.Wave, st.Waves)
	}
	for name, rev := range f.running() {
		if rev != v1[name] {
			t.Errorf("%s runs %s, want v1's %s", name, rev, v1[name])
		}
	}
	if st.Counts[multicluster.ClusterRolledBack] != 7 || st.Counts[multicluster.ClusterSkipped] != 13 {
		t.Fatalf("counts %v", st.Counts)
	}
	ctx := context.Background()
	cs, err := f.prop.ClusterStatus(ctx, st.ID, "c-0004")
	if err != nil {
		t.Fatal(err)
	}
	if cs.FailedAs != multicluster.ClusterFailed || !strings.Contains(cs.Failure, "progress deadline") || cs.State != multicluster.ClusterRolledBack {
		t.Fatalf("the failing cluster must be reported failed (not unreachable), then rolled back: %+v", cs)
	}
	if cs.Previous != v1["c-0004"] || !strings.Contains(cs.Message, "back at "+v1["c-0004"]) {
		t.Fatalf("rollback target: %+v", cs)
	}
}

func TestCanaryFirstWaveMustFullySucceed(t *testing.T) {
	f := newFleet(t, 10, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	f.mem.SetNeverReady("c-0009", true)
	st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyCanary, MaxFailures: multicluster.Percent(50),
		Canary: multicluster.CanaryStrategy{MandatoryClusters: []string{"c-0009", "c-0000"}}})
	if st.Phase != multicluster.PhaseRolledBack || !strings.Contains(st.Reason, "first wave") {
		t.Fatalf("phase %s: %s", st.Phase, st.Reason)
	}
	for name, rev := range f.running() {
		if rev != "" {
			t.Errorf("%s still runs %s; a first install rolls back to nothing", name, rev)
		}
	}
}

func TestUnreachableClusterAndMaxFailures(t *testing.T) {
	for _, tc := range []struct {
		maxFailures multicluster.IntOrPercent
		phase       multicluster.Phase
	}{
		{multicluster.Count(1), multicluster.PhaseSucceededWithFailures},
		{multicluster.Count(0), multicluster.PhaseHalted},
	} {
		t.Run(tc.maxFailures.String(), func(t *testing.T) {
			f := newFleet(t, 6, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
			f.mem.SetUnreachable("c-0003", true)
			st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategySequential, MaxFailures: tc.maxFailures, OnFailure: multicluster.FailureHalt})
			if st.Phase != tc.phase {
				t.Fatalf("phase %s: %s", st.Phase, st.Reason)
			}
			if st.Counts[multicluster.ClusterUnreachable] != 1 || st.Counts[multicluster.ClusterFailed] != 0 {
				t.Fatalf("an unreachable cluster must be reported unreachable, not failed: %v", st.Counts)
			}
			for _, name := range []string{"c-0000", "c-0001", "c-0002"} {
				if f.mem.Running(name, "web") == "" {
					t.Fatalf("%s was affected", name)
				}
			}
		})
	}
}

func TestClusterUnreachableMidRollout(t *testing.T) {
	f := newFleet(t, 3, 1, memfleet.Config{ReadinessDelay: 150 * time.Millisecond}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel,
		MaxFailures: multicluster.Count(1), ProgressDeadline: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	// Delivered, not yet Available (the readiness delay is 150 ms).
	eventually.True(t, 10*time.Second, func() (bool, string) {
		return f.mem.Running("c-0001", "web") != "", "c-0001 has not been delivered to"
	})
	f.mem.SetUnreachable("c-0001", true)
	st, err := f.prop.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != multicluster.PhaseSucceededWithFailures || st.Counts[multicluster.ClusterUnreachable] != 1 || st.Counts[multicluster.ClusterSucceeded] != 2 {
		t.Fatalf("%s %v: %s", st.Phase, st.Counts, st.Reason)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	f := newFleet(t, 4, 2, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	failOn := multicluster.CustomizerFunc(func(_ context.Context, c *multicluster.Cluster, p *multicluster.Package) ([]*yaml.RNode, error) {
		if c.Name == "c-0002" {
			return nil, errors.New("no value for setter region-id")
		}
		return p.Resources, nil
	})
	broken := multicluster.NewPropagator(f.manager, f.mem, multicluster.PropagatorConfig{Customizer: failOn})
	defer broken.Close()
	cases := []struct {
		name string
		prop *multicluster.Propagator
		sel  multicluster.Selector
		s    multicluster.Strategy
		want error
	}{
		{"unknown cluster", f.prop, multicluster.Selector{Names: []string{"nowhere"}}, multicluster.Strategy{Type: multicluster.StrategyParallel}, multicluster.ErrUnknownCluster},
		{"empty selection", f.prop, multicluster.Selector{Regions: []string{"mars"}}, multicluster.Strategy{Type: multicluster.StrategyParallel}, multicluster.ErrEmptySelection},
		{"spread impossible", f.prop, multicluster.Selector{Spread: []multicluster.Spread{{Key: "region", MinGroups: 3}}}, multicluster.Strategy{Type: multicluster.StrategyParallel}, multicluster.ErrUnsatisfiable},
		{"contradictory spread", f.prop, multicluster.Selector{Spread: []multicluster.Spread{{Key: "region", MinGroups: 3, MaxGroups: 2}}}, multicluster.Strategy{Type: multicluster.StrategyParallel}, multicluster.ErrUnsatisfiable},
		{"negative maxFailures", f.prop, all(), multicluster.Strategy{Type: multicluster.StrategyParallel, MaxFailures: multicluster.Count(-1)}, multicluster.ErrInvalidStrategy},
		{"over 100%", f.prop, all(), multicluster.Strategy{Type: multicluster.StrategyParallel, MaxConcurrency: multicluster.Percent(150)}, multicluster.ErrInvalidStrategy},
		{"canary step over 100", f.prop, all(), multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{StepPercent: 101}}, multicluster.ErrInvalidStrategy},
		{"no strategy", f.prop, all(), multicluster.Strategy{}, multicluster.ErrInvalidStrategy},
		{"mandatory cluster not selected", f.prop, multicluster.Selector{Names: []string{"c-0000"}}, multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{MandatoryClusters: []string{"c-0001"}}}, multicluster.ErrInvalidStrategy},
		{"render fails for one cluster", broken, all(), multicluster.Strategy{Type: multicluster.StrategyParallel}, multicluster.ErrRenderFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.prop.Propagate(ctx, pkg("v1"), tc.sel, tc.s)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	var ce *multicluster.ClusterError
	_, err := broken.Propagate(ctx, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel})
	if !errors.As(err, &ce) || ce.Cluster != "c-0002" {
		t.Fatalf("a render failure must name the cluster: %v", err)
	}
	var fe *multicluster.FieldError
	_, err = f.prop.Propagate(ctx, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel, MaxFailures: multicluster.Percent(101)})
	if !errors.As(err, &fe) || fe.Field != "maxFailures" {
		t.Fatalf("a strategy error must name the field: %v", err)
	}

	f.mem.SetUnauthorized("c-0003", true)
	_, err = f.prop.Propagate(ctx, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel})
	if !errors.Is(err, multicluster.ErrUnauthorized) || !errors.As(err, &ce) || ce.Cluster != "c-0003" {
		t.Fatalf("rejected credentials: %v", err)
	}
	for _, c := range f.clusters {
		if n := f.mem.Deliveries(c.Name); n != 0 {
			t.Fatalf("%s got %d deliveries from refused rollouts", c.Name, n)
		}
	}
}

func TestSkipPreflightProbeLetsTheRolloutFindRejectedCredentials(t *testing.T) {
	f := newFleet(t, 3, 1, memfleet.Config{}, multicluster.PropagatorConfig{SkipPreflightProbe: true})
	f.mem.SetUnauthorized("c-0001", true)
	st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel, MaxFailures: multicluster.Count(1)})
	if st.Phase != multicluster.PhaseSucceededWithFailures || st.Counts[multicluster.ClusterFailed] != 1 || st.Counts[multicluster.ClusterSucceeded] != 2 {
		t.Fatalf("%s %v: %s", st.Phase, st.Counts, st.Reason)
	}
	if st.Failures[0].Name != "c-0001" || !strings.Contains(st.Failures[0].Message, "rejected the credentials") {
		t.Fatalf("failures %+v", st.Failures)
	}
}

func TestAnalysisFailsTheGate(t *testing.T) {
	f := newFleet(t, 6, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	if st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel}); st.Phase != multicluster.PhaseSucceeded {
		t.Fatal(st.Reason)
	}
	var calls atomic.Int32
	errorRate := multicluster.CheckFunc(func(_ context.Context, in multicluster.AnalysisInput) (float64, error) {
		calls.Add(1)
		if len(in.Clusters) == 0 || in.Package != "web" {
			return 0, fmt.Errorf("bad input %+v", in)
		}
		return 0.2, nil // 20% errors
	})
	st := f.run(t, pkg("v2"), all(), multicluster.Strategy{Type: multicluster.StrategyCanary, MinSuccessTime: 100 * time.Millisecond,
		Canary: multicluster.CanaryStrategy{MandatoryClusters: []string{"c-0000"}, StepPercent: 50},
		Analysis: []multicluster.Analysis{{Name: "error-rate", Check: errorRate, Range: multicluster.AtMost(0.05),
			Interval: 20 * time.Millisecond, FailureThreshold: 3}}})
	if st.Phase != multicluster.PhaseRolledBack || !strings.Contains(st.Reason, "analysis error-rate failed 3 time(s) after wave 0") {
		t.Fatalf("phase %s: %s", st.Phase, st.Reason)
	}
	if calls.Load() != 3 || len(st.Analysis) != 1 || st.Analysis[0].Failures != 3 {
		t.Fatalf("%d checks, status %+v", calls.Load(), st.Analysis)
	}
	if f.mem.Deliveries("c-0003") != 1 {
		t.Fatal("the second wave started although the analysis failed")
	}

	// A passing analysis lets every wave through.
	ok := multicluster.CheckFunc(func(context.Context, multicluster.AnalysisInput) (float64, error) { return 0.01, nil })
	st = f.run(t, pkg("v2"), all(), multicluster.Strategy{Type: multicluster.StrategyCanary, MinSuccessTime: 20 * time.Millisecond,
		Canary:   multicluster.CanaryStrategy{FirstPercent: 20, StepPercent: 50},
		Analysis: []multicluster.Analysis{{Name: "error-rate", Check: ok, Range: multicluster.Between(0, 0.05)}}})
	if st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("phase %s: %s", st.Phase, st.Reason)
	}
}

func TestPauseResumeAbort(t *testing.T) {
	f := newFleet(t, 8, 1, memfleet.Config{ReadinessDelay: 20 * time.Millisecond}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	if st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel}); st.Phase != multicluster.PhaseSucceeded {
		t.Fatal(st.Reason)
	}
	v1 := f.running()
	id, err := f.prop.Propagate(ctx, pkg("v2"), all(), fast(multicluster.Strategy{Type: multicluster.StrategySequential}))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.prop.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	// That a paused rollout does not go on shows only over time: in each
	// window it would, unpaused, have started several clusters (each is
	// Available 20 ms after delivery).
	time.Sleep(100 * time.Millisecond)
	st, _ := f.prop.Status(ctx, id)
	started := st.Total - st.Counts[multicluster.ClusterPending]
	if st.Phase != multicluster.PhasePaused || started > 1 {
		t.Fatalf("paused rollout went on: %s %v", st.Phase, st.Counts)
	}
	time.Sleep(50 * time.Millisecond)
	if st2, _ := f.prop.Status(ctx, id); st2.Total-st2.Counts[multicluster.ClusterPending] != started {
		t.Fatalf("clusters started while paused: %v", st2.Counts)
	}
	if err := f.prop.Resume(ctx, id); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, _ = f.prop.Status(ctx, id)
		return st.Counts[multicluster.ClusterSucceeded] >= 3, fmt.Sprintf("%s %v", st.Phase, st.Counts)
	})
	if err := f.prop.Abort(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, _ = f.prop.Status(ctx, id)
	if st.Phase != multicluster.PhaseAborted || st.Counts[multicluster.ClusterSucceeded] != 0 || st.Counts[multicluster.ClusterSkipped] == 0 {
		t.Fatalf("after abort: %s %v", st.Phase, st.Counts)
	}
	for name, rev := range f.running() {
		if rev != v1[name] {
			t.Errorf("%s runs %s after abort, want v1's %s", name, rev, v1[name])
		}
	}
	if err := f.prop.Abort(ctx, id); !errors.Is(err, multicluster.ErrRolloutFinished) {
		t.Fatalf("abort of a finished rollout: %v", err)
	}
	if err := f.prop.Pause(ctx, "nope"); !errors.Is(err, multicluster.ErrUnknownRollout) {
		t.Fatalf("unknown rollout: %v", err)
	}
}

func TestBlueGreen(t *testing.T) {
	f := newFleet(t, 2, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	if st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyBlueGreen}); st.Phase != multicluster.PhaseSucceeded {
		t.Fatal(st.Reason)
	}
	v1 := f.running()
	st := f.run(t, pkg("v2"), all(), multicluster.Strategy{Type: multicluster.StrategyBlueGreen})
	if st.Phase != multicluster.PhaseSucceeded {
		t.Fatal(st.Reason)
	}
	ctx := context.Background()
	c := f.clusters[0]
	rev, err := f.mem.Current(ctx, &c, "web")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, n := range rev.Resources {
		kinds = append(kinds, n.GetKind()+"/"+n.GetName())
		if n.GetKind() == "Service" {
			if sel, err := n.Pipe(yaml.Lookup("spec", "selector", multicluster.ColorLabel)); err != nil || sel.YNode().Value != "green" {
				t.Fatalf("the Service does not select green:\n%s", n.MustString())
			}
		}
	}
	if strings.Join(kinds, ",") != "ConfigMap/web,Deployment/web-green,Service/web" {
		t.Fatalf("after blue-green: %v", kinds)
	}
	if f.mem.Deliveries(c.Name) != 4 { // v1, then green beside blue, switch, blue removed
		t.Fatalf("%d deliveries", f.mem.Deliveries(c.Name))
	}

	// A green that never becomes Available leaves blue serving.
	v2 := f.running()
	f.mem.SetNeverReady(f.clusters[1].Name, true)
	st = f.run(t, pkg("v3"), multicluster.Selector{Names: []string{f.clusters[1].Name}}, multicluster.Strategy{Type: multicluster.StrategyBlueGreen, OnFailure: multicluster.FailureHalt})
	if st.Phase != multicluster.PhaseHalted || !strings.Contains(st.Failures[0].Message, "blue kept serving") {
		t.Fatalf("%s: %+v", st.Phase, st.Failures)
	}
	if got := f.mem.Running(f.clusters[1].Name, "web"); got != v2[f.clusters[1].Name] || got == v1[f.clusters[1].Name] {
		t.Fatalf("cluster runs %s, want v2's %s", got, v2[f.clusters[1].Name])
	}
}

func TestRestoreAfterTheProcessStops(t *testing.T) {
	store := multicluster.NewMemoryStore()
	f := newFleet(t, 6, 1, memfleet.Config{ReadinessDelay: 30 * time.Millisecond}, multicluster.PropagatorConfig{Store: store})
	ctx := context.Background()
	s := fast(multicluster.Strategy{Type: multicluster.StrategySequential})
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, _ := f.prop.Status(ctx, id)
		return st.Counts[multicluster.ClusterSucceeded] >= 2, fmt.Sprintf("%s %v", st.Phase, st.Counts)
	})
	if err := f.prop.Close(); err != nil {
		t.Fatal(err)
	}
	first := f.mem.Deliveries("c-0000")

	// A new propagator (a restarted process) sees the record and resumes.
	next := multicluster.NewPropagator(f.manager, f.mem, multicluster.PropagatorConfig{Store: store})
	defer next.Close()
	st, err := next.Status(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseRunning || st.Counts[multicluster.ClusterSucceeded] < 2 {
		t.Fatalf("stored status: %+v %v", st, err)
	}
	if err := next.Restore(ctx, id, pkg("v2"), s); !errors.Is(err, multicluster.ErrRevisionMismatch) {
		t.Fatalf("restore with another package: %v", err)
	}
	if err := next.Restore(ctx, id, pkg("v1"), s); err != nil {
		t.Fatal(err)
	}
	st, err = next.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 6 {
		t.Fatalf("after restore: %+v %v", st, err)
	}
	if f.mem.Deliveries("c-0000") != first {
		t.Fatal("a cluster finished before the restart was delivered to again")
	}
}

func TestStatusStaysSmallAt10000Clusters(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: 10,000 in-memory clusters take several seconds")
	}
	f := newFleet(t, 10000, 10, memfleet.Config{}, multicluster.PropagatorConfig{})
	for i := 150; i < 10000; i += 97 { // none in the first wave
		f.mem.SetNeverReady(fmt.Sprintf("c-%04d", i), true)
	}
	st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyCanary, MaxFailures: multicluster.Percent(5),
		Canary: multicluster.CanaryStrategy{FirstPercent: 1, StepPercent: 1}, ProgressDeadline: 50 * time.Millisecond, PollInterval: 10 * time.Millisecond})
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != multicluster.PhaseSucceededWithFailures || st.Counts[multicluster.ClusterFailed] != 102 {
		t.Fatalf("%s %v: %s", st.Phase, st.Counts, st.Reason)
	}
	if st.Waves != 100 || len(st.WaveProgress) != multicluster.DefaultWavesShown || len(st.Failures) != multicluster.DefaultFailuresShown {
		t.Fatalf("status not bounded: %d waves shown, %d failures", len(st.WaveProgress), len(st.Failures))
	}
	if len(b) > 8<<10 {
		t.Fatalf("status of 10,000 clusters is %d bytes", len(b))
	}
	t.Logf("status of 10,000 clusters: %d bytes JSON, phase %s, %v", len(b), st.Phase, st.Counts)
}

func TestFinishedRolloutsLeaveMemory(t *testing.T) {
	f := newFleet(t, 3, 1, memfleet.Config{}, multicluster.PropagatorConfig{Retention: 30 * time.Millisecond})
	st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel})
	ctx := context.Background()
	eventually.True(t, 10*time.Second, func() (bool, string) {
		_, err := f.prop.Events(ctx, st.ID)
		return errors.Is(err, multicluster.ErrUnknownRollout), fmt.Sprintf("the rollout is still in memory: Events = %v", err)
	})
	again, err := f.prop.Status(ctx, st.ID)
	if err != nil || again.Phase != multicluster.PhaseSucceeded || again.Counts[multicluster.ClusterSucceeded] != 3 {
		t.Fatalf("status from the store: %+v %v", again, err)
	}
	cs, err := f.prop.ClusterStatus(ctx, st.ID, "c-0001")
	if err != nil || cs.State != multicluster.ClusterSucceeded || cs.Revision == "" {
		t.Fatalf("cluster status from the store: %+v %v", cs, err)
	}
}

// TestAnalysisEventsNameTheirWave: an analysis event carries the index of
// the wave the check ran after.
func TestAnalysisEventsNameTheirWave(t *testing.T) {
	f := newFleet(t, 4, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	ok := multicluster.CheckFunc(func(context.Context, multicluster.AnalysisInput) (float64, error) { return 0.01, nil })
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyCanary, MinSuccessTime: 20 * time.Millisecond,
		Canary:   multicluster.CanaryStrategy{FirstPercent: 25, StepPercent: 50},
		Analysis: []multicluster.Analysis{{Name: "error-rate", Check: ok, Range: multicluster.Between(0, 0.05)}}})
	if err != nil {
		t.Fatal(err)
	}
	events, err := f.prop.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	waves := map[int]bool{}
	for e := range events {
		if e.Type == multicluster.EventAnalysis {
			waves[e.Wave] = true
		}
	}
	if len(waves) == 0 || waves[-1] {
		t.Fatalf("analysis events by wave %v, want wave indexes and no -1", waves)
	}
}

// TestRestoreHereWrapsASentinel: Restore of a rollout that runs, or ran, on
// the same Propagator says which with an exported sentinel.
func TestRestoreHereWrapsASentinel(t *testing.T) {
	store := multicluster.NewMemoryStore()
	f := newFleet(t, 4, 1, memfleet.Config{ReadinessDelay: 200 * time.Millisecond}, multicluster.PropagatorConfig{Store: store})
	ctx := context.Background()
	s := fast(multicluster.Strategy{Type: multicluster.StrategySequential})
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.prop.Restore(ctx, id, pkg("v1"), s); !errors.Is(err, multicluster.ErrRolloutRunning) {
		t.Fatalf("restore of a running rollout: %v, want ErrRolloutRunning", err)
	}
	if _, err := f.prop.Wait(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := f.prop.Restore(ctx, id, pkg("v1"), s); !errors.Is(err, multicluster.ErrRolloutFinished) {
		t.Fatalf("restore of a finished rollout: %v, want ErrRolloutFinished", err)
	}
}

// TestReasonsCountWithGrammar: a reason says "1 cluster" and "2 clusters".
func TestReasonsCountWithGrammar(t *testing.T) {
	one := newFleet(t, 1, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	if st := one.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel}); !strings.HasPrefix(st.Reason, "1 cluster runs ") {
		t.Fatalf("reason %q, want it to start with %q", st.Reason, "1 cluster runs ")
	}
	two := newFleet(t, 2, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	if st := two.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel}); !strings.HasPrefix(st.Reason, "2 clusters run ") {
		t.Fatalf("reason %q, want it to start with %q", st.Reason, "2 clusters run ")
	}
}
