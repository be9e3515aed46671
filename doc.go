// Package porchkit is a Go SDK for Nephio Porch: it lets Go operators,
// controllers and tests drive Porch and the work around it — package
// lifecycle, blueprints, KRM functions, dependency resolution, multi-cluster
// propagation and workload clusters.
//
// The root package holds only this overview; the work is done by its
// packages, each with one job, a small interface, config structs for
// constructors and ApplyToX options for verbs, and a fake or test kit
// beside it:
//
//   - porch is the Porch client: everything porchctl does as Go methods,
//     a LifecycleManager with approval policies (Go, CEL, built-ins) and
//     an audit sink, retries, a circuit breaker, a watch-backed read cache
//     and a per-repository write limit, and typed errors that absorb
//     Porch's surprises.
//   - krm runs KRM functions (in-process, sandboxed executables,
//     containers) through one registry and capability policy, memoises and
//     audits runs, and renders Kptfile pipelines like kpt fn render;
//     krm/catalog has the builtin functions, krm/krmtest a fake executor.
//   - porch/porchenv starts a real, local Porch for tests — etcd,
//     kube-apiserver with Porch's CRDs, porch-server with its deletion
//     webhook, the function runner and a smart-HTTP git server — like
//     controller-runtime's envtest does for the Kubernetes API;
//     porch/fake is the in-memory Porch server, with a client builder and
//     per-verb hooks for faults, and porch/conformance the conformance
//     suite that holds the fake and the real server to the same behaviours.
//   - multicluster registers clusters, probes their health, selects them
//     with reasons, and rolls packages out with sequential, parallel,
//     canary and blue-green strategies, gates on the exact revision,
//     analysis between waves and automatic rollback;
//     multicluster/applier (server-side apply with cli-utils) and
//     multicluster/gitops (Porch deployment repositories) deliver,
//     multicluster/krmcustomize specialises a package per cluster with krm
//     functions, and for tests multicluster/memfleet has in-memory
//     clusters and multicluster/clusterenv real workload clusters
//     (kube-apiserver, controller-manager, scheduler and kwok).
//   - observability gives all of them Prometheus metrics and
//     OpenTelemetry spans: a shared Provider and one adapter per component
//     (observability/porchobs, observability/krmobs,
//     observability/clusterobs), so that each links only what it adapts.
//   - deps resolves dependencies between packages with a SAT solver
//     (github.com/crillab/gophersat) and explains failures as minimal
//     conflicts with repairs; deps/porchsource reads its universe from
//     the published revisions of a porch Client; deps/depstest fakes its
//     Resolver.
//   - internal/testbin builds the servers of both from tool modules embedded
//     in it (pinned upstream versions) and caches them; internal/process,
//     internal/kubeplane and internal/pki run them.
//
// Blueprints (blueprint) and cluster provisioning (workload) build on these
// and arrive as their own packages; the README lists what each one offers
// today.
package porchkit
