package clusterenv

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"

	"github.com/nephoran/porchkit/internal/kubeplane"
	"github.com/nephoran/porchkit/internal/process"
	"github.com/nephoran/porchkit/internal/testbin"
)

// UnreadyTaint is the taint SetPodsReady(false) puts on a cluster's nodes:
// new pods are not scheduled, so they never become ready.
const UnreadyTaint = "porchkit.io/pods-never-ready"

// fakeNodeAnnotation marks a node as one that kwok simulates.
const fakeNodeAnnotation = "kwok.x-k8s.io/node"

// Cluster is one workload cluster of an Environment.
type Cluster struct {
	// Name is the cluster's name, e.g. "cluster-0".
	Name string
	// Config is an administrator's configuration for the cluster's API
	// server (bearer token, TLS verified).
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file with the same access.
	Kubeconfig string

	env        *Environment
	apiserver  *kubeplane.APIServer
	components []*process.Process
	client     kubernetes.Interface
}

func (c *Cluster) dir() string { return filepath.Join(c.env.dir, c.Name) }

func (c *Cluster) start(ctx context.Context) error {
	e := c.env
	a, err := kubeplane.StartAPIServer(ctx, kubeplane.APIServerSpec{
		Name:        c.Name + "-kube-apiserver",
		Path:        e.bins[testbin.KubeAPIServer],
		Dir:         filepath.Join(c.dir(), "kube-apiserver"),
		EtcdURL:     e.etcd.URL,
		EtcdPrefix:  "/" + c.Name,
		Credentials: e.creds,
	})
	if err != nil {
		return err
	}
	c.apiserver = a
	c.Config = a.RESTConfig()
	c.Kubeconfig = filepath.Join(c.dir(), "admin.kubeconfig")
	if err := a.WriteKubeconfig(c.Kubeconfig); err != nil {
		return err
	}
	if c.client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if err := c.createNodes(ctx); err != nil {
		return err
	}
	type comp struct {
		name, bin string
		args      []string
	}
	comps := []comp{
		{"kube-controller-manager", testbin.KubeControllerManager, kubeplane.ControllerManagerArgs},
		{"kube-scheduler", testbin.KubeScheduler, kubeplane.SchedulerArgs},
	}
	procs := make([]*process.Process, len(comps)+1)
	g, gctx := errgroup.WithContext(ctx)
	for i, cp := range comps {
		g.Go(func() error {
			p, err := kubeplane.StartComponent(gctx, kubeplane.ComponentSpec{
				Name:        c.Name + "-" + cp.name,
				Path:        e.bins[cp.bin],
				Dir:         filepath.Join(c.dir(), cp.name),
				Kubeconfig:  c.Kubeconfig,
				Credentials: e.creds,
				Args:        cp.args,
			})
			procs[i] = p
			return err
		})
	}
	g.Go(func() error {
		p, err := c.startKwok()
		procs[len(comps)] = p
		return err
	})
	err = g.Wait()
	for _, p := range procs {
		if p != nil {
			c.components = append(c.components, p)
		}
	}
	if err != nil {
		return err
	}
	kwok := len(c.components) - 1
	for attempt := 1; ; attempt++ {
		err := c.waitNodesReady(ctx, c.components[kwok])
		if err == nil || c.components[kwok].Running() || attempt == kwokStartAttempts || ctx.Err() != nil {
			return err
		}
		// kwok v0.8.0 sometimes dies while it starts (a concurrent map
		// write in its CEL setup, easycel v0.6.0): start it again.
		e.log().Info("kwok exited while starting; starting it again", "cluster", c.Name, "attempt", attempt)
		p, err := c.startKwok()
		if err != nil {
			return err
		}
		c.components[kwok] = p
	}
}

// kwokStartAttempts is how many times a cluster starts kwok when it dies
// while starting.
const kwokStartAttempts = 3

func (c *Cluster) startKwok() (*process.Process, error) {
	ports, err := process.FreePorts(1)
	if err != nil {
		return nil, err
	}
	return process.Start(process.Spec{
		Name: c.Name + "-kwok",
		Path: c.env.bins[testbin.Kwok],
		Dir:  filepath.Join(c.dir(), "kwok"),
		Args: []string{
			"--kubeconfig=" + c.Kubeconfig,
			"--manage-all-nodes=true",
			"--server-address=127.0.0.1:" + strconv.Itoa(ports[0]),
			"--config=" + c.env.bins[testbin.KwokStages],
		},
	})
}

// createNodes registers the cluster's fake nodes; kwok makes them Ready.
func (c *Cluster) createNodes(ctx context.Context) error {
	for i := range c.env.nodes() {
		name := fmt.Sprintf("%s-node-%d", c.Name, i)
		capacity := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("32"),
			corev1.ResourceMemory: resource.MustParse("256Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		}
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Labels:      map[string]string{"type": "kwok", corev1.LabelHostname: name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64"},
				Annotations: map[string]string{fakeNodeAnnotation: "fake"},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		if _, err := c.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", name, err)
		}
	}
	return nil
}

// waitNodesReady waits until kwok has made every fake node Ready; it fails
// early, with kwok's log, when kwok exits.
func (c *Cluster) waitNodesReady(ctx context.Context, kwok *process.Process) error {
	return kwok.WaitReady(ctx, 200*time.Millisecond, func(ctx context.Context) error {
		nodes, err := c.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready != c.env.nodes() {
			return fmt.Errorf("%d of %d nodes ready", ready, len(nodes.Items))
		}
		return nil
	})
}

// StopAPIServer stops the cluster's kube-apiserver; requests to the cluster
// then fail with connection errors. The other processes keep running.
func (c *Cluster) StopAPIServer() error { return c.apiserver.Stop() }

// StartAPIServer starts the cluster's kube-apiserver again, on the same
// address, after StopAPIServer, and waits until it is ready.
func (c *Cluster) StartAPIServer(ctx context.Context) error { return c.apiserver.Start(ctx) }

// SetPodsReady(false) taints every node of the cluster so that new pods are
// never scheduled and so never become ready (rollouts stall until their
// progress deadline); SetPodsReady(true) removes the taint. Pods already
// running are not affected.
func (c *Cluster) SetPodsReady(ctx context.Context, ready bool) error {
	nodes, err := c.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("clusterenv: %s: list nodes: %w", c.Name, err)
	}
	for _, node := range nodes.Items {
		// kwok's heartbeats update the nodes too: re-read on conflict.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			n, err := c.client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			var taints []corev1.Taint
			for _, t := range n.Spec.Taints {
				if t.Key != UnreadyTaint {
					taints = append(taints, t)
				}
			}
			if !ready {
				taints = append(taints, corev1.Taint{Key: UnreadyTaint, Effect: corev1.TaintEffectNoSchedule})
			}
			n.Spec.Taints = taints
			_, err = c.client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return fmt.Errorf("clusterenv: %s: taint node %s: %w", c.Name, node.Name, err)
		}
	}
	return nil
}

func (c *Cluster) processes() process.Group {
	var ps process.Group
	if c.apiserver != nil && c.apiserver.Process() != nil {
		ps = append(ps, c.apiserver.Process())
	}
	return append(ps, c.components...)
}

func (c *Cluster) stop() error {
	var errs []error
	for _, p := range c.components {
		errs = append(errs, p.Stop(5*time.Second))
	}
	if c.apiserver != nil {
		errs = append(errs, c.apiserver.Stop())
	}
	return errors.Join(errs...)
}
