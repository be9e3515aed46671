// Package clustertest has clusters for propagation tests.
//
// MemoryFleet is a fleet of in-memory clusters: a multicluster.Backend and
// multicluster.Prober with configurable latency, readiness delay and
// failure rate, and per-cluster faults (unreachable, unauthorized, never
// ready), for testing strategies on 1,000+ clusters in seconds.
//
// Fleet starts real Kubernetes workload clusters: per cluster a
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok, which
// simulates nodes and pods (node-initialize,
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
