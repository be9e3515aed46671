package multicluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultProbeTimeout bounds one KubeProber probe.
const DefaultProbeTimeout = 5 * time.Second

// KubeProber probes a cluster's API server: it asks for the version and
// lists the nodes. The API server not answering is HealthUnreachable;
// rejected credentials are HealthUnauthorized; no nodes, or nodes that are
// not Ready, are HealthDegraded.
type KubeProber struct {
	// Timeout bounds a probe; 0 means DefaultProbeTimeout.
	Timeout time.Duration
}

// Probe implements Prober.
func (p *KubeProber) Probe(ctx context.Context, c *Cluster) Health {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h := Health{Checked: time.Now()}
	cfg, err := RESTConfig(c)
	if err != nil {
		h.State, h.Message = HealthUnauthorized, err.Error()
		return h
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = timeout
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		h.State, h.Message = HealthUnreachable, err.Error()
		return h
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		h.State, h.Message = classifyProbeError(err), err.Error()
		return h
	}
	h.Version = v.GitVersion
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		h.State, h.Message = classifyProbeError(err), err.Error()
		return h
	}
	h.Nodes = len(nodes.Items)
	for _, n := range nodes.Items {
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				h.ReadyNodes++
			}
		}
	}
	switch {
	case h.Nodes == 0:
		h.State, h.Message = HealthDegraded, "no nodes"
	case h.ReadyNodes < h.Nodes:
		h.State, h.Message = HealthDegraded, fmt.Sprintf("%d of %d nodes ready", h.ReadyNodes, h.Nodes)
	default:
		h.State = HealthHealthy
	}
	return h
}

func classifyProbeError(err error) HealthState {
	switch {
	case apierrors.IsUnauthorized(err), apierrors.IsForbidden(err):
		return HealthUnauthorized
	case apierrors.IsInternalError(err), apierrors.IsServiceUnavailable(err), apierrors.IsTooManyRequests(err):
		return HealthDegraded
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return HealthDegraded
	}
	return HealthUnreachable
}

// RESTConfig returns the cluster's REST config: Config, or one built from
// Kubeconfig.
func RESTConfig(c *Cluster) (*rest.Config, error) {
	if c.Config != nil {
		return c.Config, nil
	}
	if len(c.Kubeconfig) == 0 {
		return nil, &ClusterError{Cluster: c.Name, Err: fmt.Errorf("%w: neither Config nor Kubeconfig is set", ErrInvalidCluster)}
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(c.Kubeconfig)
	if err != nil {
		return nil, &ClusterError{Cluster: c.Name, Err: fmt.Errorf("%w: kubeconfig: %v", ErrInvalidCluster, err)}
	}
	return cfg, nil
}
