// Package clustertest starts real Kubernetes workload clusters for
// propagation tests: per cluster a kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok, which simulates nodes and pods (node-initialize,
// node-heartbeat, pod-ready, pod-complete and pod-delete stages). All
// clusters of a Fleet share one etcd, each under its own --etcd-prefix. A
// Deployment applied to such a cluster is scheduled onto a fake node and
// becomes Available with simulated pods.
//
// A cluster costs about 0.5 GiB of memory. Fault hooks let tests stop and
// restart a cluster's API server and make its new pods never become ready.
//
//	fleet := clustertest.SetupFleet(t, 3) // skipped with -short
//	cs, err := kubernetes.NewForConfig(fleet.Clusters[0].Config)
package clustertest
