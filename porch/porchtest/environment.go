package porchtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
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
)

// PorchSystemNamespace is the namespace of Porch's own objects.
const PorchSystemNamespace = "porch-system"

// porchServiceName is the Service through which kube-apiserver aggregates
// porch.kpt.dev, as in a production install.
const porchServiceName = "api"

// Environment is a running local Porch stack. Create it with Start (or
// Setup in tests) and end it with Stop.
type Environment struct {
	// PorchConfig talks to porch-server's own HTTPS endpoint
	// (porch.kpt.dev), as porchctl does, with an administrator token and
	// TLS verification.
	PorchConfig *rest.Config
	// KubeConfig talks to kube-apiserver: Repositories, Secrets and, through
	// API aggregation, porch.kpt.dev too.
	KubeConfig *rest.Config
	// PorchKubeconfig is a kubeconfig file for porch-server, e.g. for
	// porchctl --kubeconfig.
	PorchKubeconfig string
	// Git is the stack's git server.
	Git *GitServer
	// Namespace is where RegisterRepository puts Repositories: "default".
	Namespace string
	// Client is a controller-runtime client of kube-apiserver whose scheme
	// knows the core, porch.kpt.dev and config.porch.kpt.dev types.
	Client client.Client

	opts        options
	dir         string
	creds       *kubeplane.Credentials
	etcd        *kubeplane.Etcd
	apiserver   *kubeplane.APIServer
	fnRunner    *process.Process
	porch       *process.Process
	porchSpec   process.Spec
	porchPort   int
	webhookPort int
}

type options struct {
	progress      io.Writer
	log           logr.Logger
	webhook       bool
	gitUser       string
	gitPassword   string
	startTimeout  time.Duration
	binDir        string
	syncFrequency time.Duration
}

// Option configures Start.
type Option func(*options)

// WithProgress sets where binary build progress is printed (default
// os.Stderr).
func WithProgress(w io.Writer) Option { return func(o *options) { o.progress = w } }

// WithLogger logs the stack's start-up steps and their durations.
func WithLogger(l logr.Logger) Option { return func(o *options) { o.log = l } }

// WithDeletionWebhook turns Porch's deletion-protection webhook on (the
// default, as in production: a Published revision must be proposed for
// deletion before it can be deleted) or off.
func WithDeletionWebhook(on bool) Option { return func(o *options) { o.webhook = on } }

// WithGitBasicAuth makes the git server require these credentials;
// RegisterRepository then creates a basic-auth Secret for each Repository.
func WithGitBasicAuth(user, password string) Option {
	return func(o *options) { o.gitUser, o.gitPassword = user, password }
}

// WithStartTimeout bounds the start of the servers, not counting the
// one-time build of the binaries (default 3 minutes).
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.startTimeout = d } }

// WithBinDir uses prebuilt binaries from dir (see internal/testbin for
// the file names) instead of building them.
func WithBinDir(dir string) Option { return func(o *options) { o.binDir = dir } }

// WithRepoSyncFrequency sets how often porch-server re-reads repositories
// (default 10s; Porch's own default is 10m).
func WithRepoSyncFrequency(d time.Duration) Option {
	return func(o *options) { o.syncFrequency = d }
}

// Scheme returns a scheme with the core Kubernetes types and Porch's
// porch.kpt.dev and config.porch.kpt.dev types.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, porchapi.AddToScheme, configapi.AddToScheme} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("porchtest: scheme: %w", err)
		}
	}
	return s, nil
}

// Start builds (first time only) and starts the stack. On error, everything
// it had started is stopped again.
func Start(ctx context.Context, opts ...Option) (env *Environment, err error) {
	o := options{progress: os.Stderr, log: logr.Discard(), webhook: true, startTimeout: 3 * time.Minute, syncFrequency: 10 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	binOpts := []testbin.Option{testbin.WithProgress(o.progress)}
	if o.binDir != "" {
		binOpts = append(binOpts, testbin.WithBinDir(o.binDir))
	}
	bins, err := testbin.New(binOpts...).Paths(ctx, testbin.Etcd, testbin.KubeAPIServer, testbin.PorchServer, testbin.FunctionRunner, testbin.PorchCRDs)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "porchtest-")
	if err != nil {
		return nil, fmt.Errorf("porchtest: %w", err)
	}
	env = &Environment{opts: o, dir: dir, Namespace: "default"}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, env.LogTails(30))
			_ = env.Stop()
			env = nil
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, o.startTimeout)
	defer cancel()

	step := func(name string, f func() error) error {
		start := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("porchtest: %s: %w", name, err)
		}
		o.log.Info("started", "component", name, "duration", time.Since(start).Round(time.Millisecond))
		return nil
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"credentials", func() error {
			env.creds, err = kubeplane.NewCredentials(filepath.Join(dir, "pki"), porchServiceName+"."+PorchSystemNamespace+".svc")
			return err
		}},
		{"etcd", func() error {
			env.etcd, err = kubeplane.StartEtcd(ctx, bins[testbin.Etcd], filepath.Join(dir, "etcd"))
			return err
		}},
		{"kube-apiserver", func() error { return env.startAPIServer(ctx, bins[testbin.KubeAPIServer]) }},
		{"crds", func() error { return env.installCRDs(ctx, bins[testbin.PorchCRDs]) }},
		{"git server", func() error { return env.startGit() }},
		{"function runner", func() error { return env.startFunctionRunner(ctx, bins[testbin.FunctionRunner]) }},
		{"porch-server", func() error { return env.startPorch(ctx, bins[testbin.PorchServer]) }},
		{"aggregation", func() error { return env.registerAPIService(ctx) }},
	}
	for _, s := range steps {
		if err := step(s.name, s.f); err != nil {
			return env, err
		}
	}
	return env, nil
}

func (e *Environment) startAPIServer(ctx context.Context, path string) error {
	a, err := kubeplane.StartAPIServer(ctx, kubeplane.APIServerSpec{
		Name:        "kube-apiserver",
		Path:        path,
		Dir:         filepath.Join(e.dir, "kube-apiserver"),
		EtcdURL:     e.etcd.URL,
		Credentials: e.creds,
	})
	if err != nil {
		return err
	}
	e.apiserver = a
	e.KubeConfig = a.RESTConfig()
	scheme, err := Scheme()
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
	var opts []GitOption
	if e.opts.gitUser != "" {
		opts = append(opts, WithBasicAuth(e.opts.gitUser, e.opts.gitPassword))
	}
	g, err := StartGitServer(filepath.Join(e.dir, "git"), opts...)
	if err != nil {
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
		"--repo-sync-frequency="+e.opts.syncFrequency.String(),
		"--v=2",
	)
	// The webhook code reads its kubeconfig from KUBECONFIG.
	e.porchSpec.Env = []string{"KUBECONFIG=" + kubeconfig}
	if e.opts.webhook {
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
	e.PorchKubeconfig = filepath.Join(e.dir, "porch.kubeconfig")
	if err := kubeplane.WriteKubeconfig(e.PorchKubeconfig, e.PorchConfig); err != nil {
		return err
	}
	return e.StartPorchServer(ctx)
}

// ClientCertConfig returns a configuration for kube-apiserver that
// authenticates with an administrator's client certificate instead of
// KubeConfig's bearer token.
func (e *Environment) ClientCertConfig() *rest.Config { return e.apiserver.ClientCertConfig() }

// StartPorchServer starts porch-server again after StopPorchServer, on the
// same port, and waits until it serves porch.kpt.dev.
func (e *Environment) StartPorchServer(ctx context.Context) error {
	if e.porch != nil && e.porch.Running() {
		return errors.New("porchtest: porch-server is already running")
	}
	p, err := process.Start(e.porchSpec)
	if err != nil {
		return err
	}
	e.porch = p
	err = kubeplane.WaitHTTPReady(ctx, p, e.PorchConfig, "/apis/porch.kpt.dev/v1alpha1")
	if err == nil && e.opts.webhook {
		addr := "127.0.0.1:" + strconv.Itoa(e.webhookPort)
		err = p.WaitReady(ctx, 100*time.Millisecond, func(ctx context.Context) error { return dialTCP(ctx, addr) })
	}
	if err != nil {
		_ = p.Stop(5 * time.Second)
		return err
	}
	return nil
}

// StopPorchServer stops porch-server (SIGTERM, then SIGKILL), for tests of
// what clients do while it is away.
func (e *Environment) StopPorchServer() error {
	if e.porch == nil {
		return nil
	}
	return e.porch.Stop(10 * time.Second)
}

// Stop stops every process of the stack and the git server and removes the
// temporary directory. It is safe to call on a partly started stack.
func (e *Environment) Stop() error {
	var errs []error
	if e.Git != nil {
		errs = append(errs, e.Git.Stop())
	}
	for _, p := range e.processes() {
		errs = append(errs, p.Stop(10*time.Second))
	}
	errs = append(errs, os.RemoveAll(e.dir))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("porchtest: stop: %w", err)
	}
	return nil
}

// processes lists the stack's processes, last started first.
func (e *Environment) processes() process.Group {
	var ps process.Group
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
