package multicluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

func registry(t *testing.T) *multicluster.ClusterManager {
	t.Helper()
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{})
	for _, c := range []multicluster.Cluster{
		{Name: "eu-1", Region: "eu", Zone: "eu-a", Environment: "prod", Labels: map[string]string{"tier": "edge"}, Capabilities: []string{"sriov"}},
		{Name: "eu-2", Region: "eu", Zone: "eu-b", Environment: "prod", Labels: map[string]string{"tier": "edge"}},
		{Name: "us-1", Region: "us", Zone: "us-a", Environment: "prod", Labels: map[string]string{"tier": "edge"}, Capabilities: []string{"sriov"}},
		{Name: "us-2", Region: "us", Zone: "us-b", Environment: "staging", Labels: map[string]string{"tier": "core"}},
		{Name: "ap-1", Region: "ap", Zone: "ap-a", Environment: "prod", Labels: map[string]string{"tier": "edge"},
			Taints: []multicluster.Taint{{Key: "maintenance", Value: "true"}}},
	} {
		if err := m.Register(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestSelection(t *testing.T) {
	m := registry(t)
	ctx := context.Background()
	cases := []struct {
		name string
		sel  multicluster.Selector
		want string
	}{
		{"everything untainted", multicluster.Selector{}, "eu-1,eu-2,us-1,us-2"},
		{"labels", multicluster.Selector{Labels: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "edge"}}}, "eu-1,eu-2,us-1"},
		{"capability", multicluster.Selector{Capabilities: []string{"sriov"}}, "eu-1,us-1"},
		{"region and environment", multicluster.Selector{Regions: []string{"us"}, Environments: []string{"prod"}}, "us-1"},
		{"toleration", multicluster.Selector{Regions: []string{"ap"}, Tolerations: []multicluster.Toleration{{Key: "maintenance"}}}, "ap-1"},
		{"exclusion", multicluster.Selector{Exclude: []string{"eu-1", "us-2"}}, "eu-2,us-1"},
		{"names", multicluster.Selector{Names: []string{"us-2", "eu-1"}}, "eu-1,us-2"},
		{"max groups", multicluster.Selector{Spread: []multicluster.Spread{{Key: "region", MaxGroups: 1}}}, "eu-1,eu-2"},
		{"spread over regions with a cap", multicluster.Selector{MaxClusters: 2, Spread: []multicluster.Spread{{Key: "region", MinGroups: 2}}}, "eu-1,us-1"},
		{"fallback", multicluster.Selector{Regions: []string{"mars"}, Fallback: []multicluster.Selector{{Regions: []string{"eu"}}}}, "eu-1,eu-2"},
		{"label spread key", multicluster.Selector{Spread: []multicluster.Spread{{Key: "tier", MinGroups: 2, MaxGroups: 2}}}, "eu-1,eu-2,us-1,us-2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := m.Select(ctx, tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(d.Selected, ","); got != tc.want {
				t.Fatalf("selected %s, want %s", got, tc.want)
			}
			if len(d.Clusters) != 5 {
				t.Fatalf("the decision must cover every cluster: %d", len(d.Clusters))
			}
		})
	}

	d, err := m.Select(ctx, multicluster.Selector{Capabilities: []string{"sriov"}, Regions: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	for _, c := range d.Clusters {
		why[c.Name] = strings.Join(c.Reasons, "; ")
	}
	for name, want := range map[string]string{"eu-1": "has capabilities sriov; region eu", "eu-2": "lacks capability sriov",
		"us-1": `region "us" not in [eu]`, "ap-1": "lacks capability sriov"} {
		if why[name] != want {
			t.Errorf("%s: reasons %q, want %q", name, why[name], want)
		}
	}
	d, err = m.Select(ctx, multicluster.Selector{Regions: []string{"mars"}, Fallback: []multicluster.Selector{{Regions: []string{"eu"}}}})
	if err != nil || d.Group != 1 {
		t.Fatalf("fallback group: %+v %v", d, err)
	}

	for name, tc := range map[string]struct {
		sel  multicluster.Selector
		want error
	}{
		"unknown name":        {multicluster.Selector{Names: []string{"mars-1"}}, multicluster.ErrUnknownCluster},
		"nothing":             {multicluster.Selector{Regions: []string{"mars"}}, multicluster.ErrEmptySelection},
		"too few groups":      {multicluster.Selector{Regions: []string{"eu"}, Spread: []multicluster.Spread{{Key: "region", MinGroups: 2}}}, multicluster.ErrUnsatisfiable},
		"min over max":        {multicluster.Selector{Spread: []multicluster.Spread{{Key: "zone", MinGroups: 3, MaxGroups: 1}}}, multicluster.ErrUnsatisfiable},
		"named and excluded":  {multicluster.Selector{Names: []string{"eu-1"}, Exclude: []string{"eu-1"}}, multicluster.ErrUnsatisfiable},
		"bad label selector":  {multicluster.Selector{Labels: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}}}, multicluster.ErrUnsatisfiable},
		"tainted without tol": {multicluster.Selector{Regions: []string{"ap"}}, multicluster.ErrEmptySelection},
	} {
		if _, err := m.Select(ctx, tc.sel); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	m := registry(t)
	ctx := context.Background()
	for name, c := range map[string]multicluster.Cluster{
		"bad name":          {Name: "Not_DNS"},
		"negative capacity": {Name: "x", Capacity: map[string]int64{"cpu": -1}},
		"taint without key": {Name: "y", Taints: []multicluster.Taint{{Value: "v"}}},
	} {
		if err := m.Register(ctx, c); !errors.Is(err, multicluster.ErrInvalidCluster) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := m.Register(ctx, multicluster.Cluster{Name: "eu-1"}); !errors.Is(err, multicluster.ErrAlreadyRegistered) {
		t.Fatalf("duplicate: %v", err)
	}
	c, h, err := m.Get("eu-1")
	if err != nil || c.Region != "eu" || h.State != multicluster.HealthUnknown {
		t.Fatalf("get: %+v %+v %v", c, h, err)
	}
	c.Labels["tier"] = "changed"
	if again, _, _ := m.Get("eu-1"); again.Labels["tier"] != "edge" {
		t.Fatal("Get must return a copy")
	}
	if err := m.Unregister(ctx, "eu-1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Get("eu-1"); !errors.Is(err, multicluster.ErrUnknownCluster) {
		t.Fatalf("after unregister: %v", err)
	}
	// A cluster without credentials is unreachable... in fact invalid.
	h, err = m.Probe(ctx, "eu-2")
	if err != nil || h.State != multicluster.HealthUnauthorized || !strings.Contains(h.Message, "neither Config nor Kubeconfig") {
		t.Fatalf("probe without credentials: %+v %v", h, err)
	}
}

func TestPlanChangesNothing(t *testing.T) {
	f := newFleet(t, 4, 2, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	if st := f.run(t, pkg("v1"), multicluster.Selector{Names: []string{"c-0000"}}, multicluster.Strategy{Type: multicluster.StrategyParallel}); st.Phase != multicluster.PhaseSucceeded {
		t.Fatal(st.Reason)
	}
	before := f.mem.Deliveries("c-0000")
	plan, err := f.prop.Plan(ctx, pkg("v2"), all(), multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{FirstPercent: 25, StepPercent: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Waves) != 3 || len(plan.Waves[0]) != 1 || len(plan.Decision.Selected) != 4 {
		t.Fatalf("waves %v", plan.Waves)
	}
	cp := plan.Clusters["c-0000"]
	if !cp.Changed || cp.Current == nil || !strings.Contains(cp.Diff, "-        image: web:v1") || !strings.Contains(cp.Diff, "+        image: web:v2") {
		t.Fatalf("diff against what the cluster runs:\n%s", cp.Diff)
	}
	if strings.Contains(cp.Diff, multicluster.RevisionAnnotation) {
		t.Fatalf("the diff shows porchkit's annotations:\n%s", cp.Diff)
	}
	if c1 := plan.Clusters["c-0001"]; c1.Current != nil || !c1.Changed {
		t.Fatalf("a cluster that runs nothing: %+v", c1)
	}
	for _, c := range f.clusters {
		want := 0
		if c.Name == "c-0000" {
			want = before
		}
		if f.mem.Deliveries(c.Name) != want {
			t.Fatalf("Plan delivered to %s", c.Name)
		}
	}
}

func TestCapacitySelection(t *testing.T) {
	ctx := context.Background()
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{})
	for _, c := range []multicluster.Cluster{
		{Name: "big", Capacity: map[string]int64{"cpu": 16000, "memory": 64 << 30, "pods": 200}},
		{Name: "small", Capacity: map[string]int64{"cpu": 1500, "memory": 4 << 30, "pods": 30}},
		{Name: "unknown"},
	} {
		if err := m.Register(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		min  map[string]resource.Quantity
		want string
	}{
		{map[string]resource.Quantity{"cpu": resource.MustParse("2")}, "big"},
		{map[string]resource.Quantity{"cpu": resource.MustParse("1500m")}, "big,small"},
		{map[string]resource.Quantity{"memory": resource.MustParse("4Gi"), "pods": resource.MustParse("30")}, "big,small"},
		{map[string]resource.Quantity{"memory": resource.MustParse("5G")}, "big"},
		{map[string]resource.Quantity{"pods": resource.MustParse("0")}, "big,small"},
	} {
		d, err := m.Select(ctx, multicluster.Selector{MinCapacity: tc.min})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(d.Selected, ","); got != tc.want {
			t.Errorf("%v: selected %s, want %s", tc.min, got, tc.want)
		}
	}
	d, err := m.Select(ctx, multicluster.Selector{MinCapacity: map[string]resource.Quantity{"cpu": resource.MustParse("2"), "memory": resource.MustParse("8Gi")}})
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	for _, c := range d.Clusters {
		why[c.Name] = strings.Join(c.Reasons, "; ")
	}
	for name, want := range map[string]string{"big": "free cpu 16 >= 2, memory 64Gi >= 8Gi", "small": "free cpu 1500m < 2", "unknown": "no cpu capacity registered (need 2)"} {
		if why[name] != want {
			t.Errorf("%s: reasons %q, want %q", name, why[name], want)
		}
	}
	if _, err := m.Select(ctx, multicluster.Selector{MinCapacity: map[string]resource.Quantity{"gpu": resource.MustParse("1")}}); !errors.Is(err, multicluster.ErrEmptySelection) {
		t.Fatalf("no cluster with the resource: %v", err)
	}

	for field, min := range map[string]map[string]resource.Quantity{
		"minCapacity.cpu":    {"cpu": resource.MustParse("-1")},
		"minCapacity.pods":   {"pods": resource.MustParse("1500m")},
		"minCapacity.memory": {"memory": resource.MustParse("0.5")},
		"minCapacity.":       {"": resource.MustParse("1")},
	} {
		_, err := m.Select(ctx, multicluster.Selector{MinCapacity: min})
		var fe *multicluster.FieldError
		if !errors.As(err, &fe) || fe.Field != field || !errors.Is(err, multicluster.ErrUnsatisfiable) {
			t.Errorf("%v: %v, want a FieldError on %s", min, err, field)
		}
	}
	sub := resource.MustParse("100u")
	var fe *multicluster.FieldError
	if _, err := m.Select(ctx, multicluster.Selector{Regions: []string{"mars"}, Fallback: []multicluster.Selector{{MinCapacity: map[string]resource.Quantity{"cpu": sub}}}}); !errors.As(err, &fe) || fe.Field != "fallback[0].minCapacity.cpu" {
		t.Fatalf("a cpu finer than a millicore in a fallback: %v", err)
	}
}
