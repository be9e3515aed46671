package applier_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/applier"
	"github.com/nephoran/porchkit/multicluster/clusterenv"
)

// app is a package of a Deployment, a Service and a ConfigMap; extra adds a
// second ConfigMap (to see pruning).
func app(name, version string, extra bool) *multicluster.Package {
	docs := []string{
		fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
      - name: app
        image: registry.example.com/%[1]s:%[2]s
`, name, version),
		fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %[1]s\n  namespace: default\nspec:\n  selector:\n    app: %[1]s\n  ports:\n  - port: 80\n", name),
		fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %[1]s\n  namespace: default\ndata:\n  version: %[2]s\n", name, version),
	}
	if extra {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-extra\n  namespace: default\ndata:\n  x: \"1\"\n", name))
	}
	p := &multicluster.Package{Name: name, Revision: version}
	for _, d := range docs {
		p.Resources = append(p.Resources, yaml.MustParse(d))
	}
	return p
}

type realFleet struct {
	env     *clusterenv.Environment
	manager *multicluster.ClusterManager
	backend *applier.Backend
	prop    *multicluster.Propagator
	clients map[string]kubernetes.Interface
}

func setupReal(t *testing.T, n int) *realFleet { return setupRealTB(t, n) }

func setupRealTB(t testing.TB, n int) *realFleet {
	env := clusterenv.Setup(t, &clusterenv.Environment{Clusters: n})
	ctx := context.Background()
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{})
	rf := &realFleet{env: env, manager: m, backend: applier.New(applier.Config{}), clients: map[string]kubernetes.Interface{}}
	for _, c := range env.ClusterList() {
		if err := m.Register(ctx, multicluster.Cluster{Name: c.Name, Config: c.Config, Region: "r1"}); err != nil {
			t.Fatal(err)
		}
		cs, err := kubernetes.NewForConfig(c.Config)
		if err != nil {
			t.Fatal(err)
		}
		rf.clients[c.Name] = cs
	}
	rf.prop = multicluster.NewPropagator(m, rf.backend, multicluster.PropagatorConfig{})
	t.Cleanup(func() { _ = rf.prop.Close() })
	return rf
}

func (rf *realFleet) rollout(t *testing.T, p *multicluster.Package, sel multicluster.Selector, s multicluster.Strategy) *multicluster.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if s.PollInterval == 0 {
		s.PollInterval = 200 * time.Millisecond
	}
	if s.ProgressDeadline == 0 {
		s.ProgressDeadline = time.Minute
	}
	id, err := rf.prop.Propagate(ctx, p, sel, s)
	if err != nil {
		t.Fatal(err)
	}
	st, err := rf.prop.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// runs waits until the cluster's Deployment runs image and is Available.
// The rollout has already judged it so; the wait only covers a node whose
// simulated heartbeat lags when the machine is loaded (the Deployment then
// dips for a moment).
func (rf *realFleet) runs(t *testing.T, cluster, name, want string) {
	t.Helper()
	var wrong string // the image, when it is not want: that fails at once
	eventually.True(t, time.Minute, func() (bool, string) {
		d, err := rf.clients[cluster].AppsV1().Deployments("default").Get(context.Background(), name, metav1.GetOptions{})
		switch {
		case err != nil:
			wrong = fmt.Sprintf("deployment %s: %v", name, err)
			return true, ""
		case image(d) != want && want != "":
			wrong = fmt.Sprintf("%s runs %s, want %s", name, image(d), want)
			return true, ""
		}
		return available(d), fmt.Sprintf("%s: %s (%s) not Available: %+v", cluster, name, image(d), d.Status)
	})
	if wrong != "" {
		t.Fatalf("%s: %s", cluster, wrong)
	}
}

func available(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return d.Status.ObservedGeneration == d.Generation && d.Status.UpdatedReplicas == *d.Spec.Replicas
		}
	}
	return false
}

func image(d *appsv1.Deployment) string { return d.Spec.Template.Spec.Containers[0].Image }

// TestRealClusters proves the propagator and the direct backend on four
// real workload clusters (kube-apiserver, controller-manager, scheduler
// and kwok each).
func TestRealClusters(t *testing.T) {
	rf := setupReal(t, 4)
	names := []string{rf.env.Cluster(0).Name, rf.env.Cluster(1).Name, rf.env.Cluster(2).Name, rf.env.Cluster(3).Name}
	ctx := context.Background()

	t.Run("parallel to three clusters, then prune", func(t *testing.T) {
		three := multicluster.Selector{Names: names[:3]}
		st := rf.rollout(t, app("web", "v1", true), three, multicluster.Strategy{Type: multicluster.StrategyParallel})
		if st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 3 {
			t.Fatalf("%s %v: %s %+v", st.Phase, st.Counts, st.Reason, st.Failures)
		}
		for _, n := range names[:3] {
			cs, err := rf.prop.ClusterStatus(ctx, st.ID, n)
			if err != nil || cs.State != multicluster.ClusterSucceeded || !strings.Contains(cs.Message, "Current") {
				t.Fatalf("%s: %+v %v", n, cs, err)
			}
			rf.runs(t, n, "web", "registry.example.com/web:v1")
		}
		if _, err := rf.clients[names[3]].AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("a cluster outside the selection got the package: %v", err)
		}
		st = rf.rollout(t, app("web", "v2", false), three, multicluster.Strategy{Type: multicluster.StrategyParallel})
		if st.Phase != multicluster.PhaseSucceeded {
			t.Fatalf("%s: %s", st.Phase, st.Reason)
		}
		for _, n := range names[:3] {
			if _, err := rf.clients[n].CoreV1().ConfigMaps("default").Get(ctx, "web-extra", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Fatalf("%s: the resource v2 dropped was not pruned: %v", n, err)
			}
			rf.runs(t, n, "web", "registry.example.com/web:v2")
		}
	})

	t.Run("canary halts at the deadline and rolls back", func(t *testing.T) {
		all4 := multicluster.Selector{Names: names}
		if st := rf.rollout(t, app("api", "v1", false), all4, multicluster.Strategy{Type: multicluster.StrategyParallel}); st.Phase != multicluster.PhaseSucceeded {
			t.Fatalf("v1: %s %s", st.Phase, st.Reason)
		}
		c := rf.env.Cluster(1)
		if err := c.SetPodsReady(ctx, false); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.SetPodsReady(ctx, true) }()
		st := rf.rollout(t, app("api", "v2", false), all4, multicluster.Strategy{Type: multicluster.StrategyCanary, ProgressDeadline: 15 * time.Second,
			Canary: multicluster.CanaryStrategy{MandatoryClusters: []string{names[0]}, StepPercent: 25}})
		if st.Phase != multicluster.PhaseRolledBack || st.Wave != 1 {
			t.Fatalf("%s at wave %d: %s", st.Phase, st.Wave, st.Reason)
		}
		cs, err := rf.prop.ClusterStatus(ctx, st.ID, c.Name)
		if err != nil {
			t.Fatal(err)
		}
		if cs.FailedAs != multicluster.ClusterFailed || !strings.Contains(cs.Failure, "progress deadline") {
			t.Fatalf("the failing cluster must be reported failed, not unreachable: %+v", cs)
		}
		for _, n := range names {
			rf.runs(t, n, "api", "registry.example.com/api:v1")
		}
		if cs0, _ := rf.prop.ClusterStatus(ctx, st.ID, names[0]); cs0.State != multicluster.ClusterRolledBack {
			t.Fatalf("the first wave's cluster: %+v", cs0)
		}
		if cs3, _ := rf.prop.ClusterStatus(ctx, st.ID, names[3]); cs3.State != multicluster.ClusterSkipped {
			t.Fatalf("a later wave's cluster: %+v", cs3)
		}
	})

	t.Run("health probes and rejected credentials", func(t *testing.T) {
		h, err := rf.manager.Probe(ctx, names[0])
		if err != nil || h.State != multicluster.HealthHealthy || h.Nodes == 0 || h.Version == "" {
			t.Fatalf("probe: %+v %v", h, err)
		}
		bad := rest.CopyConfig(rf.env.Cluster(0).Config)
		bad.BearerToken = "not-a-token"
		if err := rf.manager.Register(ctx, multicluster.Cluster{Name: "bad-creds", Config: bad}); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rf.manager.Unregister(ctx, "bad-creds") }()
		if h, _ := rf.manager.Probe(ctx, "bad-creds"); h.State != multicluster.HealthUnauthorized {
			t.Fatalf("wrong token: %+v", h)
		}
		_, err = rf.prop.Propagate(ctx, app("nope", "v1", false), multicluster.Selector{Names: []string{names[0], "bad-creds"}},
			multicluster.Strategy{Type: multicluster.StrategyParallel})
		if !errors.Is(err, multicluster.ErrUnauthorized) {
			t.Fatalf("propagate to a cluster that rejects the credentials: %v", err)
		}
		if _, err := rf.clients[names[0]].AppsV1().Deployments("default").Get(ctx, "nope", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("a refused rollout changed a cluster: %v", err)
		}
	})

	t.Run("a stopped API server is unreachable and maxFailures decides", func(t *testing.T) {
		c := rf.env.Cluster(2)
		if err := c.StopAPIServer(); err != nil {
			t.Fatal(err)
		}
		if h, _ := rf.manager.Probe(ctx, c.Name); h.State != multicluster.HealthUnreachable {
			t.Fatalf("stopped API server: %+v", h)
		}
		defer func() {
			if err := c.StartAPIServer(ctx); err != nil {
				t.Error(err)
			}
		}()
		st := rf.rollout(t, app("db", "v1", false), multicluster.Selector{Names: names[:3]}, multicluster.Strategy{Type: multicluster.StrategyParallel,
			MaxFailures: multicluster.Count(1), ProgressDeadline: 20 * time.Second})
		if st.Phase != multicluster.PhaseSucceededWithFailures || st.Counts[multicluster.ClusterUnreachable] != 1 || st.Counts[multicluster.ClusterSucceeded] != 2 {
			t.Fatalf("%s %v: %s", st.Phase, st.Counts, st.Reason)
		}
		if st.Failures[0].Name != c.Name || st.Failures[0].State != multicluster.ClusterUnreachable {
			t.Fatalf("failures %+v", st.Failures)
		}
		for _, n := range names[:2] {
			rf.runs(t, n, "db", "registry.example.com/db:v1")
		}
		st = rf.rollout(t, app("db", "v2", false), multicluster.Selector{Names: names[:3]}, multicluster.Strategy{Type: multicluster.StrategySequential,
			OnFailure: multicluster.FailureHalt, ProgressDeadline: 20 * time.Second})
		if st.Phase != multicluster.PhaseHalted || st.Counts[multicluster.ClusterUnreachable] != 1 {
			t.Fatalf("with maxFailures 0: %s %v: %s", st.Phase, st.Counts, st.Reason)
		}
	})

	t.Run("progress kept in ConfigMaps survives a new propagator", func(t *testing.T) {
		mgmt := rf.clients[names[0]]
		if _, err := mgmt.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "rollouts"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		s := multicluster.Strategy{Type: multicluster.StrategySequential, PollInterval: 200 * time.Millisecond, ProgressDeadline: time.Minute}
		first := multicluster.NewPropagator(rf.manager, rf.backend, multicluster.PropagatorConfig{
			Store: multicluster.NewConfigMapStore(mgmt, "rollouts"), SaveInterval: 100 * time.Millisecond})
		sel := multicluster.Selector{Names: names[1:]}
		id, err := first.Propagate(ctx, app("queue", "v1", false), sel, s)
		if err != nil {
			t.Fatal(err)
		}
		var statusErr error
		eventually.True(t, 2*time.Minute, func() (bool, string) {
			st, err := first.Status(ctx, id)
			if err != nil {
				statusErr = err
				return true, ""
			}
			return st.Counts[multicluster.ClusterSucceeded] >= 1, fmt.Sprintf("%s %v", st.Phase, st.Counts)
		})
		if statusErr != nil {
			t.Fatal(statusErr)
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		next := multicluster.NewPropagator(rf.manager, rf.backend, multicluster.PropagatorConfig{Store: multicluster.NewConfigMapStore(mgmt, "rollouts")})
		defer next.Close()
		st, err := next.Status(ctx, id)
		if err != nil || st.Phase != multicluster.PhaseRunning || st.Counts[multicluster.ClusterSucceeded] < 1 {
			t.Fatalf("stored: %+v %v", st, err)
		}
		if err := next.Restore(ctx, id, app("queue", "v1", false), s); err != nil {
			t.Fatal(err)
		}
		st, err = next.Wait(ctx, id)
		if err != nil || st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 3 {
			t.Fatalf("after restore: %+v %v", st, err)
		}
		for _, n := range names[1:] {
			rf.runs(t, n, "queue", "registry.example.com/queue:v1")
		}
	})

	t.Run("blue-green switches Services only after green is Available", func(t *testing.T) {
		n := names[3]
		one := multicluster.Selector{Names: []string{n}}
		if st := rf.rollout(t, app("shop", "v1", false), one, multicluster.Strategy{Type: multicluster.StrategyBlueGreen}); st.Phase != multicluster.PhaseSucceeded {
			t.Fatalf("v1: %s %s", st.Phase, st.Reason)
		}
		cs := rf.clients[n]
		selector := func() string {
			svc, err := cs.CoreV1().Services("default").Get(ctx, "shop", metav1.GetOptions{})
			if err != nil {
				return "error: " + err.Error()
			}
			return svc.Spec.Selector[multicluster.ColorLabel]
		}
		if got := selector(); got != "blue" {
			t.Fatalf("v1 serves %q", got)
		}
		// Watch the Service while v2 rolls out: when it first selects
		// green, green must already be Available.
		watchCtx, stop := context.WithCancel(ctx)
		var mu sync.Mutex
		var violations []string
		switched := false
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait.UntilWithContext(watchCtx, func(context.Context) {
				green, err := cs.AppsV1().Deployments("default").Get(ctx, "shop-green", metav1.GetOptions{})
				greenOK := err == nil && available(green)
				if sel := selector(); sel == "green" {
					mu.Lock()
					if !switched && !greenOK {
						violations = append(violations, "Service selected green before green was Available")
					}
					switched = true
					mu.Unlock()
				}
			}, 20*time.Millisecond)
		}()
		st := rf.rollout(t, app("shop", "v2", false), one, multicluster.Strategy{Type: multicluster.StrategyBlueGreen})
		stop()
		wg.Wait()
		if st.Phase != multicluster.PhaseSucceeded {
			t.Fatalf("v2: %s %s", st.Phase, st.Reason)
		}
		if len(violations) > 0 || !switched {
			t.Fatalf("switch observed %v, violations %v", switched, violations)
		}
		if _, err := cs.AppsV1().Deployments("default").Get(ctx, "shop-blue", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("blue not removed: %v", err)
		}

		// A green that never becomes Available leaves blue serving.
		if err := rf.env.Cluster(3).SetPodsReady(ctx, false); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rf.env.Cluster(3).SetPodsReady(ctx, true) }()
		st = rf.rollout(t, app("shop", "v3", false), one, multicluster.Strategy{Type: multicluster.StrategyBlueGreen, OnFailure: multicluster.FailureHalt,
			ProgressDeadline: 10 * time.Second})
		if st.Phase != multicluster.PhaseHalted || !strings.Contains(st.Failures[0].Message, "blue kept serving") {
			t.Fatalf("%s: %+v", st.Phase, st.Failures)
		}
		if got := selector(); got != "green" {
			t.Fatalf("the Service moved to %q although the new color failed", got)
		}
		rf.runs(t, n, "shop-green", "registry.example.com/shop:v2")
		if _, err := cs.AppsV1().Deployments("default").Get(ctx, "shop-blue", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("the failed color was not removed: %v", err)
		}
	})
}
