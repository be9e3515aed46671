package clusterenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:v1"}}},
			},
		},
	}
}

func clientFor(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// waitAvailable waits until the Deployment reports Available with all
// replicas ready, and returns its running pods.
func waitAvailable(ctx context.Context, cs kubernetes.Interface, name string, replicas int32) error {
	var last string
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = fmt.Sprintf("ready %d/%d, conditions %v", d.Status.ReadyReplicas, replicas, d.Status.Conditions)
		if d.Status.ObservedGeneration < d.Generation || d.Status.ReadyReplicas != replicas || d.Status.AvailableReplicas != replicas {
			return false, nil
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("deployment %s not available (%s): %w", name, last, err)
	}
	return nil
}

func TestClustersRunDeploymentsAndSurviveAStoppedAPIServer(t *testing.T) {
	env := Setup(t, &Environment{Clusters: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	clusters := env.ClusterList()
	clients := make([]kubernetes.Interface, len(clusters))
	for i, c := range clusters {
		clients[i] = clientFor(t, c.Config)
		if _, err := clients[i].AppsV1().Deployments("default").Create(ctx, deployment("web", 3), metav1.CreateOptions{}); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
	}
	for i, c := range clusters {
		if err := waitAvailable(ctx, clients[i], "web", 3); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		pods, err := clients[i].CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" {
				running++
			}
		}
		if running != 3 {
			t.Errorf("%s: %d running pods, want 3", c.Name, running)
		}
	}

	// The clusters are separate: each sees only its own nodes.
	nodes, err := clients[1].CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 1 || nodes.Items[0].Name != "cluster-1-node-0" {
		t.Fatalf("cluster-1 nodes = %v, %v", nodes, err)
	}

	// Stop one API server: it fails with a connection error, the others answer.
	if err := env.Cluster(1).StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	_, err = clients[1].AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		var opErr *net.OpError
		t.Fatalf("stopped cluster: err = %v (net.OpError: %v), want connection refused", err, errors.As(err, &opErr))
	}
	for _, i := range []int{0, 2} {
		if _, err := clients[i].AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{}); err != nil {
			t.Errorf("%s stopped answering while cluster-1 was down: %v", env.Cluster(i).Name, err)
		}
	}
	if err := env.Cluster(1).StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := waitAvailable(ctx, clients[1], "web", 3); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestPodsNeverReadyFault(t *testing.T) {
	env := Setup(t, &Environment{Clusters: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := env.Cluster(0)
	cs := clientFor(t, c.Config)
	if err := c.SetPodsReady(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, deployment("stuck", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The scheduler reports the pods unschedulable: they cannot become ready.
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=stuck"})
		if err != nil || len(pods.Items) != 2 {
			return false, nil
		}
		for _, p := range pods.Items {
			unschedulable := false
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable {
					unschedulable = true
				}
			}
			if !unschedulable || p.Spec.NodeName != "" {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("pods were not reported unschedulable: %v", err)
	}
	d, err := cs.AppsV1().Deployments("default").Get(ctx, "stuck", metav1.GetOptions{})
	if err != nil || d.Status.ReadyReplicas != 0 {
		t.Fatalf("deployment = %+v, %v; want no ready replica", d.Status, err)
	}
	// Healed, the same Deployment becomes Available.
	if err := c.SetPodsReady(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := waitAvailable(ctx, cs, "stuck", 2); err != nil {
		t.Fatal(err)
	}
}
