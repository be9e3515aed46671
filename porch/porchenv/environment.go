package porchenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nephoran/porchkit/internal/kubeplane"
	"github.com/nephoran/porchkit/internal/process"
	"github.com/nephoran/porchkit/internal/testbin"
	"github.com/nephoran/porchkit/porch"
)

// PorchSystemNamespace is the namespace of Porch's own objects.
const PorchSystemNamespace = "porch-system"

// porchServiceName is the Service through which kube-apiserver aggregates
// porch.kpt.dev, as in a production install.
const porchServiceName = "api"

// DefaultStartTimeout bounds Start when Environment.StartTimeout is zero.
const DefaultStartTimeout = 3 * time.Minute

// DefaultRepoSyncFrequency is how often porch-server re-reads repositories
// when Environment.RepoSyncFrequency is zero (Porch's own default is 10m).
const DefaultRepoSyncFrequency = 10 * time.Second

// stopGrace is how long Stop and StopPorchServer wait for a process to exit
// on its own before they kill it.
const stopGrace = 10 * time.Second

// Environment is a local Porch stack, like controller-runtime's
// envtest.Environment: set the configuration fields, call Start, use the
// fields Start sets, and call Stop. The zero value is a stack in
// production's configuration (deletion webhook on, no git authentication).
type Environment struct {
	// GitAuth, when its Username is set, makes the git server require HTTP
	// basic authentication with these credentials; RegisterRepository then
	// gives each Repository a basic-auth Secret with them.
	GitAuth porch.BasicAuth
	// DeletionWebhook turns Porch's deletion-protection webhook on or off
	// (nil: on, as in production, where a Published revision must be
	// proposed for deletion before it can be deleted).
	DeletionWebhook *bool
	// StartTimeout bounds the start of the servers, not counting the
	// one-time build of the binaries (default DefaultStartTimeout).
	StartTimeout time.Duration
	// BinDir holds prebuilt binaries (named as in internal/testbin) to use
	// instead of building them.
	BinDir string
	// RepoSyncFrequency is how often porch-server re-reads every repository
	// from git (default DefaultRepoSyncFrequency).
	RepoSyncFrequency time.Duration
	// Progress receives the progress of a first build of the binaries
	// (default os.Stderr).
	Progress io.Writer
	// Logger logs the stack's start-up steps and their durations (default:
	// discard).
	Logger logr.Logger
	// APIServerArgs are extra kube-apiserver flags, appended after the
	// stack's own (so they win), for example an audit policy:
	// --audit-policy-file=<file> --audit-log-path=<file>.
	APIServerArgs []string
	// PorchServerArgs are extra porch-server flags, appended after the
	// stack's own. porch-server is a Kubernetes API server too and takes
	// the same audit flags; it is the one that sees the bodies of
	// porch.kpt.dev requests, which kube-apiserver only proxies.
	PorchServerArgs []string
	// PackageVariantController starts Porch's PackageVariant controller
	// (controllers/packagevariants of Porch v1.5.3, testbin's
	// porch-controllers) after porch-server, so that PackageVariants in the
	// stack are reconciled as in a Nephio install.
	PackageVariantController bool

	// PorchConfig is set by Start. It talks to porch-server's own HTTPS
	// endpoint (porch.kpt.dev), with an administrator token and TLS
	// verification.
	PorchConfig *rest.Config
	// KubeConfig is set by Start. It talks to kube-apiserver: Repositories,
	// Secrets and, through API aggregation, porch.kpt.dev too.
	KubeConfig *rest.Config
	// KubeconfigPath is set by Start: a kubeconfig file for kube-apiserver
	// with KubeConfig's credentials, which serves every porchctl command
	// (repo, rpkg) and kubectl.
	KubeconfigPath string
	// Git is set by Start: the stack's git server.
	Git *GitServer
	// Namespace is set by Start: where RegisterRepository puts
	// Repositories, "default".
	Namespace string
	// Client is set by Start: a controller-runtime client of kube-apiserver
	// whose scheme knows the core, porch.kpt.dev and config.porch.kpt.dev
	// types.
	Client client.Client

	dir         string
	creds       *kubeplane.Credentials
	etcd        *kubeplane.Etcd
	apiserver   *kubeplane.APIServer
	fnRunner    *process.Process
	porch       *process.Process
	controllers *process.Process
	porchSpec   process.Spec
	porchPort   int
	webhookPort int
	repos       porch.Client
}

// webhook reports whether the deletion webhook is on.
func (e *Environment) webhook() bool { return e.DeletionWebhook == nil || *e.DeletionWebhook }

// newScheme returns a scheme with the core Kubernetes types and Porch's
// porch.kpt.dev and config.porch.kpt.dev types.
func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, porchapi.AddToScheme, configapi.AddToScheme} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("scheme: %w", err)
		}
	}
	return s, nil
}

// Start builds the binaries (first time only) and starts the stack. On
// error, everything it had started is stopped again, the error carries the
// end of every server's log, and the Environment can be started again.
func (e *Environment) Start(ctx context.Context) (err error) {
	if e.dir != "" {
		return errors.New("porchenv: the environment was started already")
	}
	progress := e.Progress
	if progress == nil {
		progress = os.Stderr
	}
	names := []string{testbin.Etcd, testbin.KubeAPIServer, testbin.PorchServer, testbin.FunctionRunner, testbin.PorchCRDs}
	if e.PackageVariantController {
		names = append(names, testbin.PorchControllers)
	}
	bins, err := testbin.New(testbin.Config{BinDir: e.BinDir, Progress: progress}).Paths(ctx, names...)
	if err != nil {
		return fmt.Errorf("porchenv: %w", err)
	}
	dir, err := os.MkdirTemp("", "porchenv-")
	if err != nil {
		return fmt.Errorf("porchenv: %w", err)
	}
	e.dir, e.Namespace = dir, "default"
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, e.LogTails(30))
			_ = e.Stop()
			e.reset()
		}
	}()
	timeout := e.StartTimeout
	if timeout == 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	steps := []struct {
		name string
		f    func() error
	}{
		{"credentials", func() (err error) {
			e.creds, err = kubeplane.NewCredentials(filepath.Join(dir, "pki"), porchServiceName+"."+PorchSystemNamespace+".svc")
			return err
		}},
		{"etcd", func() (err error) {
			e.etcd, err = kubeplane.StartEtcd(ctx, bins[testbin.Etcd], filepath.Join(dir, "etcd"))
			return err
		}},
		{"kube-apiserver", func() error { return e.startAPIServer(ctx, bins[testbin.KubeAPIServer]) }},
		{"crds", func() error { return e.installCRDs(ctx, bins[testbin.PorchCRDs]) }},
		{"git server", e.startGit},
		{"function runner", func() error { return e.startFunctionRunner(ctx, bins[testbin.FunctionRunner]) }},
		{"porch-server", func() error { return e.startPorch(ctx, bins[testbin.PorchServer]) }},
		{"aggregation", func() error { return e.registerAPIService(ctx) }},
		{"porch client", e.startClient},
	}
	if e.PackageVariantController {
		steps = append(steps, struct {
			name string
			f    func() error
		}{"packagevariant controller", func() error { return e.startPackageVariantController(ctx, bins[testbin.PorchControllers]) }})
	}
	for _, s := range steps {
		begin := time.Now()
		if err := s.f(); err != nil {
			return fmt.Errorf("porchenv: %s: %w", s.name, err)
		}
		e.Logger.Info("started", "component", s.name, "duration", time.Since(begin).Round(time.Millisecond))
	}
	return nil
}

func (e *Environment) startAPIServer(ctx context.Context, path string) error {
	a, err := kubeplane.StartAPIServer(ctx, kubeplane.APIServerSpec{
		Name:        "kube-apiserver",
		Path:        path,
		Dir:         filepath.Join(e.dir, "kube-apiserver"),
		EtcdURL:     e.etcd.URL,
		Credentials: e.creds,
		ExtraArgs:   e.APIServerArgs,
	})
	if err != nil {
		return err
	}
	e.apiserver = a
	e.KubeConfig = a.RESTConfig()
	e.KubeconfigPath = filepath.Join(e.dir, "kubeconfig")
	if err := a.WriteKubeconfig(e.KubeconfigPath); err != nil {
		return err
	}
	scheme, err := newScheme()
	if err != nil {
		return err
	}
	e.Client, err = client.New(e.KubeConfig, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

func (e *Environment) startGit() error {
	g := &GitServer{Root: filepath.Join(e.dir, "git"), Auth: e.GitAuth}
	if err := g.Start(); err != nil {
		return err
	}
	e.Git = g
	return nil
}

func (e *Environment) startFunctionRunner(ctx context.Context, path string) error {
	dir := filepath.Join(e.dir, "function-runner")
	fnDir := filepath.Join(dir, "functions")
	if err := os.MkdirAll(fnDir, 0o755); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("functions: []\n"), 0o644); err != nil {
		return err
	}
	ports, err := process.FreePorts(1)
	if err != nil {
		return err
	}
	p, err := process.Start(process.Spec{
		Name: "function-runner",
		Path: path,
		Dir:  dir,
		Args: []string{"--port=" + strconv.Itoa(ports[0]), "--disable-runtimes=pod", "--functions=" + fnDir, "--config=" + cfg},
	})
	if err != nil {
		return err
	}
	e.fnRunner = p
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	e.porchSpec.Args = append(e.porchSpec.Args, "--function-runner="+addr)
	return p.WaitReady(ctx, 100*time.Millisecond, func(ctx context.Context) error { return dialTCP(ctx, addr) })
}

func (e *Environment) startPorch(ctx context.Context, path string) error {
	dir := filepath.Join(e.dir, "porch-server")
	kubeconfig := filepath.Join(dir, "kube.kubeconfig")
	if err := e.apiserver.WriteKubeconfig(kubeconfig); err != nil {
		return err
	}
	ports, err := process.FreePorts(2)
	if err != nil {
		return err
	}
	sync := e.RepoSyncFrequency
	if sync == 0 {
		sync = DefaultRepoSyncFrequency
	}
	e.porchSpec.Name = "porch-server"
	e.porchSpec.Path = path
	e.porchSpec.Dir = dir
	e.porchSpec.Args = append(e.porchSpec.Args,
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--standalone-debug-mode",
		"--secure-port="+strconv.Itoa(ports[0]),
		"--bind-address=127.0.0.1",
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--tls-cert-file="+e.creds.ServingCert,
		"--tls-private-key-file="+e.creds.ServingKey,
		"--cache-directory="+filepath.Join(dir, "cache"),
		"--repo-sync-frequency="+sync.String(),
		"--v=2",
	)
	e.porchSpec.Args = append(e.porchSpec.Args, e.PorchServerArgs...)
	// porch-server, like every Kubernetes API server, takes the first
	// SIGINT or SIGTERM as the start of a graceful shutdown that lasts
	// longer than a test wants to wait, and exits at once (status 1) on the
	// second. Two different signals, so that they cannot merge into one.
	e.porchSpec.StopSignals = []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}
	// The webhook code reads its kubeconfig from KUBECONFIG.
	e.porchSpec.Env = []string{"KUBECONFIG=" + kubeconfig}
	if e.webhook() {
		e.porchSpec.Env = append(e.porchSpec.Env,
			"CERT_STORAGE_DIR="+filepath.Join(dir, "webhook-certs"),
			"WEBHOOK_HOST=localhost",
			"WEBHOOK_PORT="+strconv.Itoa(ports[1]))
		e.webhookPort = ports[1]
	}
	e.porchPort = ports[0]
	e.PorchConfig = &rest.Config{
		Host:            "https://127.0.0.1:" + strconv.Itoa(ports[0]),
		BearerToken:     e.creds.AdminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: e.creds.CA.CertPEM},
		QPS:             -1,
	}
	return e.StartPorchServer(ctx)
}

// startClient makes the porch client RegisterRepository uses.
func (e *Environment) startClient() (err error) {
	e.repos, err = e.NewClient(porch.Options{Cache: porch.CacheOptions{Disabled: true}})
	return err
}

// NewClient returns a porch client of the stack: KubeConfig for
// Repositories and Secrets, PorchConfig for porch.kpt.dev (unless opts
// name another), and opts.
func (e *Environment) NewClient(opts porch.Options) (porch.Client, error) {
	if e.KubeConfig == nil || e.PorchConfig == nil {
		return nil, errors.New("porchenv: new client: the environment is not started")
	}
	if opts.PorchConfig == nil {
		opts.PorchConfig = e.PorchConfig
	}
	return porch.New(e.KubeConfig, opts)
}

// ClientCertConfig returns a configuration for kube-apiserver that
// authenticates with an administrator's client certificate instead of
// KubeConfig's bearer token.
func (e *Environment) ClientCertConfig() *rest.Config { return e.apiserver.ClientCertConfig() }

// StartPorchServer starts porch-server again after StopPorchServer, on the
// same port, and waits until it serves porch.kpt.dev.
func (e *Environment) StartPorchServer(ctx context.Context) error {
	if e.porch != nil && e.porch.Running() {
		return errors.New("porchenv: porch-server is already running")
	}
	p, err := process.Start(e.porchSpec)
	if err != nil {
		return err
	}
	e.porch = p
	err = kubeplane.WaitHTTPReady(ctx, p, e.PorchConfig, "/apis/porch.kpt.dev/v1alpha1")
	if err == nil && e.webhook() {
		addr := "127.0.0.1:" + strconv.Itoa(e.webhookPort)
		err = p.WaitReady(ctx, 100*time.Millisecond, func(ctx context.Context) error { return dialTCP(ctx, addr) })
	}
	if err != nil {
		_ = p.Stop(stopGrace)
		return err
	}
	return nil
}

// StopPorchServer stops porch-server, for tests of what clients do while it
// is away; StartPorchServer brings it back. porch-server exits at once: it
// is sent SIGTERM and then SIGINT, since a Kubernetes API server takes the
// first shutdown signal as the start of a graceful shutdown that outlasts a
// test's patience and exits on the second; SIGKILL follows only if it has
// not exited after a grace period.
func (e *Environment) StopPorchServer() error {
	if e.porch == nil {
		return nil
	}
	if err := e.porch.Stop(stopGrace); err != nil {
		return fmt.Errorf("porchenv: stop porch-server: %w", err)
	}
	return nil
}

// Stop stops every process of the stack and the git server and removes the
// temporary directory. It is safe to call on a partly started stack and
// more than once.
func (e *Environment) Stop() error {
	var errs []error
	if e.repos != nil {
		e.repos.Close()
	}
	if e.Git != nil {
		errs = append(errs, e.Git.Stop())
	}
	for _, p := range e.processes() {
		errs = append(errs, p.Stop(stopGrace))
	}
	if e.dir != "" {
		errs = append(errs, os.RemoveAll(e.dir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("porchenv: stop: %w", err)
	}
	return nil
}

// reset forgets a stopped stack, so that Start can begin afresh; the
// configuration fields stay.
func (e *Environment) reset() {
	e.PorchConfig, e.KubeConfig, e.KubeconfigPath, e.Git, e.Namespace, e.Client = nil, nil, "", nil, "", nil
	e.dir, e.creds, e.etcd, e.apiserver, e.fnRunner, e.porch, e.controllers = "", nil, nil, nil, nil, nil, nil
	e.porchSpec, e.porchPort, e.webhookPort, e.repos = process.Spec{}, 0, 0, nil
}

// processes lists the stack's processes, last started first.
func (e *Environment) processes() process.Group {
	var ps process.Group
	if e.controllers != nil {
		ps = append(ps, e.controllers)
	}
	if e.porch != nil {
		ps = append(ps, e.porch)
	}
	if e.fnRunner != nil {
		ps = append(ps, e.fnRunner)
	}
	if e.apiserver != nil && e.apiserver.Process() != nil {
		ps = append(ps, e.apiserver.Process())
	}
	if e.etcd != nil {
		ps = append(ps, e.etcd.Process())
	}
	return ps
}

// Running lists the names of the processes that are still running.
func (e *Environment) Running() []string { return e.processes().Running() }

// LogTails returns the last n lines of every process's log.
func (e *Environment) LogTails(n int) string { return e.processes().LogTails(n) }

// MemoryUsage returns the resident set size in bytes of each running
// process, by process name.
func (e *Environment) MemoryUsage() (map[string]int64, error) { return e.processes().MemoryUsage() }

// ensureNamespace creates namespace name if it does not exist.
func ensureNamespace(ctx context.Context, c client.Client, name string) error {
	ns := &corev1.Namespace{}
	ns.Name = name
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}
