// Package clusterenv starts real Kubernetes workload clusters for tests,
// as envtest starts an API server: an Environment says how many clusters
// and how many fake nodes each, Start starts them and Stop ends them, and
// Setup does both around a test (and skips it under -short).
//
// Each cluster runs its own kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok, which simulates nodes and pods
// (node-initialize, node-heartbeat, pod-ready, pod-complete and pod-delete
// stages). All clusters of an Environment share one etcd, each under its
// own --etcd-prefix. A Deployment applied to such a cluster is scheduled
// onto a fake node and becomes Available with simulated pods. The binaries
// are built once into a cache (internal/testbin), or taken from BinDir.
//
// A cluster costs about 0.5 GiB of memory. Fault hooks let tests stop and
// restart a cluster's API server (StopAPIServer, StartAPIServer) and make
// its new pods never become ready (SetPodsReady).
//
//	env := clusterenv.Setup(t, &clusterenv.Environment{Clusters: 3}) // skipped with -short
//	cs, err := kubernetes.NewForConfig(env.Cluster(0).Config)
//
// In-memory clusters, for strategy tests at thousands of clusters, are in
// multicluster/memfleet.
package clusterenv
