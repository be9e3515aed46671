package kubeplane

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/internal/process"
)

// Etcd is a running single-member etcd.
type Etcd struct {
	proc *process.Process
	// URL is the client URL, http://127.0.0.1:<port>.
	URL string
}

// StartEtcd starts etcd from binary path with its data in dir and waits
// until it reports healthy. Durability is traded for speed (no fsync): the
// data lives as long as a test.
func StartEtcd(ctx context.Context, path, dir string) (*Etcd, error) {
	ports, err := process.FreePorts(2)
	if err != nil {
		return nil, err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	p, err := process.Start(process.Spec{
		Name: "etcd",
		Path: path,
		Dir:  dir,
		Args: []string{
			"--name=default",
			"--data-dir=" + filepath.Join(dir, "data"),
			"--listen-client-urls=" + client,
			"--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer,
			"--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=default=" + peer,
			"--unsafe-no-fsync=true",
			"--log-level=warn",
		},
	})
	if err != nil {
		return nil, err
	}
	e := &Etcd{proc: p, URL: client}
	err = WaitHTTPReady(ctx, p, &rest.Config{Host: client}, "/health")
	if err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return e, nil
}

// Process returns etcd's process.
func (e *Etcd) Process() *process.Process { return e.proc }

// Stop stops etcd.
func (e *Etcd) Stop() error { return e.proc.Stop(10 * time.Second) }
