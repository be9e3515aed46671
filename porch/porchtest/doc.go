// Package porchtest runs a real Porch for tests, like controller-runtime's
// envtest does for the Kubernetes API: etcd, kube-apiserver with the Porch
// CRDs, porch-server (standalone, with its deletion-protection webhook), the
// Porch function runner (exec runtime, no pods) and a git server speaking
// smart HTTP over real repositories, on free ports and in a temporary
// directory. Everything binds to 127.0.0.1 except the function runner and
// porch-server's webhook, whose upstream code listens on all interfaces.
//
// In a test:
//
//	env := porchtest.Setup(t)                       // skipped with -short
//	repo, err := env.RegisterRepository(ctx, "blueprints")
//	cs, err := versioned.NewForConfig(env.PorchConfig) // porch.kpt.dev client
//
// Package porch/fake is the in-memory alternative. RunConformance holds any
// porch.Client and its server to the behaviours porchkit relies on; porch's
// own TestConformance runs it on the fake and on the real stack.
//
// Outside tests, Start and Environment.Stop do the same. Binaries come from
// internal/testbin: built once from the tool modules in tools/ (minutes the
// first time, printed as progress), then cached.
package porchtest
