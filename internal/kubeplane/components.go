package kubeplane

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/internal/process"
)

// ComponentSpec configures kube-controller-manager or kube-scheduler.
type ComponentSpec struct {
	// Name distinguishes the process in logs.
	Name string
	// Path is the binary.
	Path string
	// Dir holds the log.
	Dir string
	// Kubeconfig is the administrator kubeconfig of the API server.
	Kubeconfig string
	// Credentials provide the serving certificate of the health endpoint.
	Credentials *Credentials
	// Args are added to the common ones.
	Args []string
}

// ControllerManagerArgs are kube-controller-manager's arguments for a cluster
// without real nodes or service-account tokens. kwok's node-heartbeat stage
// beats every 20 to 45 s, about the controller-manager's default node grace
// period: on a loaded machine nodes went NotReady (and their pods unready)
// at random, so the grace period is raised.
var ControllerManagerArgs = []string{
	"--leader-elect=false",
	"--controllers=*,-serviceaccount-token",
	"--use-service-account-credentials=false",
	"--node-monitor-grace-period=3m",
}

// SchedulerArgs are kube-scheduler's arguments for a test cluster.
var SchedulerArgs = []string{"--leader-elect=false"}

// StartComponent starts a controller-manager or scheduler and waits until
// its /healthz answers.
func StartComponent(ctx context.Context, spec ComponentSpec) (*process.Process, error) {
	ports, err := process.FreePorts(1)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--kubeconfig=" + spec.Kubeconfig,
		"--authentication-kubeconfig=" + spec.Kubeconfig,
		"--authorization-kubeconfig=" + spec.Kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[0]),
		"--tls-cert-file=" + spec.Credentials.ServingCert,
		"--tls-private-key-file=" + spec.Credentials.ServingKey,
		"--v=1",
	}, spec.Args...)
	p, err := process.Start(process.Spec{Name: spec.Name, Path: spec.Path, Dir: spec.Dir, Args: args})
	if err != nil {
		return nil, err
	}
	cfg := &rest.Config{
		Host:            fmt.Sprintf("https://127.0.0.1:%d", ports[0]),
		TLSClientConfig: rest.TLSClientConfig{CAData: spec.Credentials.CA.CertPEM},
	}
	if err := WaitHTTPReady(ctx, p, cfg, "/healthz"); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}
