package clusterenv_test

import (
	"context"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nephoran/porchkit/multicluster/clusterenv"
)

// Two workload clusters on one etcd: list each one's fake nodes, then stop
// one API server and start it again. (Without an // Output: line, the
// example is compiled but not run: it needs the kube binaries.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	env := &clusterenv.Environment{Clusters: 2, Nodes: 2, Progress: os.Stderr}
	if err := env.Start(ctx); err != nil {
		panic(err)
	}
	defer func() {
		if err := env.Stop(); err != nil {
			panic(err)
		}
	}()
	for _, c := range env.ClusterList() {
		cs, err := kubernetes.NewForConfig(c.Config)
		if err != nil {
			panic(err)
		}
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			panic(err)
		}
		fmt.Println(c.Name, len(nodes.Items), "nodes; kubeconfig", c.Kubeconfig)
	}
	if err := env.Cluster(1).StopAPIServer(); err != nil {
		panic(err)
	}
	if err := env.Cluster(1).StartAPIServer(ctx); err != nil {
		panic(err)
	}
}
