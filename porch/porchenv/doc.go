// Package porchenv runs a real, local Porch v1.5.3 for tests and tools, as
// controller-runtime's envtest does for the Kubernetes API: set the fields
// of an Environment, call Start, use the *rest.Configs it sets, and call
// Stop.
//
// The stack is five parts, on free ports of 127.0.0.1 and in a temporary
// directory that Stop removes:
//   - etcd;
//   - kube-apiserver, with TLS from a certificate authority made for the
//     stack, token and client-certificate authentication, RBAC, and the
//     Porch CRDs (Repository, PackageRev, PackageVariant, PackageVariantSet);
//   - the Porch function runner, with the exec runtime (no pods);
//   - porch-server in standalone mode, with its deletion-protection webhook
//     (unless DeletionWebhook is false), registered with kube-apiserver as
//     the aggregated API porch.kpt.dev by an APIService, as in a production
//     install: kube-apiserver serves Repositories and Secrets itself and
//     proxies porch.kpt.dev to porch-server;
//   - a git server speaking smart HTTP over real bare repositories, inside
//     the test process, behind basic authentication when GitAuth is set.
//
// The function runner and porch-server's webhook listen on every interface,
// as their upstream code does; everything else binds to 127.0.0.1.
//
// Start sets PorchConfig (porch-server itself), KubeConfig (kube-apiserver,
// which serves all of Porch's API through the aggregation) and
// KubeconfigPath, a kubeconfig file for kube-apiserver that serves every
// porchctl command, repo and rpkg alike, and kubectl. NewClient returns
// porchkit's own client of the stack. RegisterRepository creates a git
// repository and registers it through that client's Repositories.Register,
// with porch's own register options, and WaitReady. StopPorchServer and StartPorchServer take porch-server
// away and bring it back on the same port, for tests of clients during an
// outage; porch-server is sent SIGTERM and SIGINT together, since a
// Kubernetes API server exits at once on a second shutdown signal, where
// its graceful shutdown after the first outlasts a test's patience.
//
// APIServerArgs and PorchServerArgs add flags to kube-apiserver and
// porch-server, for example an audit policy and log for each.
//
// The binaries come from internal/testbin: built with "go build" from the
// tool modules embedded in that package (minutes the first time, printed to Progress; concurrent test processes wait on a file lock
// for one build), then cached under the user's cache directory, keyed by the
// tool modules' contents and the Go version. BinDir, or the
// PORCHKIT_BIN_DIR environment variable, names prebuilt ones instead.
//
// In a test, Setup does it all: it skips the test under "go test -short"
// (no servers are started then), starts the stack, logs the start-up steps
// to the test, prints every server's log tail when the test fails, and
// stops the stack when the test ends, checking that no process is left:
//
//	env := porchenv.Setup(t, nil) // or &porchenv.Environment{GitAuth: porch.BasicAuth{...}}
//	_, err := env.RegisterRepository(ctx, "blueprints", porch.Branch("main")) // Ready when it returns
//	c, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig})
package porchenv
