package config

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/trace"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/blueprint"
	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/observability"
	"github.com/nephoran/porchkit/observability/clusterobs"
	"github.com/nephoran/porchkit/observability/krmobs"
	"github.com/nephoran/porchkit/observability/porchobs"
	"github.com/nephoran/porchkit/porch"
)

// BuildOptions are what Build takes from the caller rather than from the
// configuration: where logs, metrics and spans go, the Kubernetes client
// that reads Secrets, and the multicluster delivery backend.
type BuildOptions struct {
	// Logger receives the components' logs and Build's warnings (zero:
	// discarded).
	Logger logr.Logger
	// Registerer receives the metrics (nil: a new registry, which
	// Components.Observability.Registry returns).
	Registerer prometheus.Registerer
	// TracerProvider makes the spans (nil: none).
	TracerProvider trace.TracerProvider
	// KubeClient reads the Secrets the configuration references and holds
	// the configmap state store; needed only when they are used.
	KubeClient kubernetes.Interface
	// Backend delivers rollouts to clusters; required when
	// multicluster.enabled.
	Backend multicluster.Backend
	// Customizer renders a package per cluster (nil: the package as is).
	Customizer multicluster.Customizer
	// Prober, when set, replaces the KubeProber that
	// multicluster.healthCheck.timeout configures.
	Prober multicluster.Prober
}

// Components are what Build makes from one Config.
type Components struct {
	// RESTConfig is the Porch API server's config the auth method made
	// (it redacts its own credentials when printed).
	RESTConfig *rest.Config
	// Porch is the Porch client.
	Porch porch.Client
	// Runner runs KRM functions.
	Runner *krm.Runner
	// Clusters and Propagator are nil unless multicluster.enabled.
	Clusters   *multicluster.ClusterManager
	Propagator *multicluster.Propagator
	// Observability is where the components' metrics and spans go.
	Observability *observability.Provider
	// Blueprint is the blueprint catalog's repository, nil without
	// blueprint.catalogUrl.
	Blueprint *BlueprintCatalog
	// Catalog lists and resolves the blueprints published in that
	// repository (through Porch, refreshed by its watch), nil without
	// blueprint.catalogUrl. Registering the repository is the caller's
	// step (Blueprint.RegisterOptions); until then the catalog is empty.
	Catalog *blueprint.Catalog
}

// Close stops the Propagator's rollouts (they stay resumable) and the Porch
// client's watches.
func (c *Components) Close() error {
	var err error
	if c.Propagator != nil {
		err = c.Propagator.Close()
	}
	if c.Catalog != nil {
		c.Catalog.Close()
	}
	if c.Porch != nil {
		c.Porch.Close()
	}
	return err
}

// BlueprintCatalog is the blueprint section resolved: the Porch repository
// that holds the blueprints, ready to register with
// Repositories(Namespace).Register(ctx, Repository, URL, RegisterOptions()...).
// Components.Catalog reads it. Printing it never shows the git password.
type BlueprintCatalog struct {
	// Namespace is the Repository's namespace.
	Namespace string
	// Repository is the Repository's name.
	Repository string
	// URL is the git URL or oci:// image.
	URL  string
	opts porch.RegisterOptions
}

// RegisterOptions are the repository's branch, directory and credentials.
func (b *BlueprintCatalog) RegisterOptions() []porch.RegisterOption {
	o := b.opts
	return []porch.RegisterOption{&o}
}

// String names the repository, never the password.
func (b *BlueprintCatalog) String() string {
	return fmt.Sprintf("blueprint catalog %s/%s at %s", b.Namespace, b.Repository, b.URL)
}

// Format makes every fmt verb print String.
func (b *BlueprintCatalog) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(b.String())) }

// Build validates cfg, reads every Secret and file it references and
// parses every certificate, and only then makes the components: the Porch
// client (porch.New), the KRM runner, the cluster manager and propagator
// (when multicluster.enabled) and the observability provider. Any problem
// (a value Validate refuses, a missing Secret, a malformed certificate,
// an option the configuration needs from opts) is reported with all the
// others in one *ValidationError, and nothing is made.
func Build(ctx context.Context, cfg Config, opts BuildOptions) (*Components, error) {
	log := opts.Logger
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	ps := cfg.validate()
	if cfg.Multicluster.Enabled && opts.Backend == nil {
		ps.invalid("multicluster.enabled", "true", "needs BuildOptions.Backend")
	}
	if cfg.Multicluster.StateStore.Type == StoreConfigMap && opts.KubeClient == nil {
		ps.invalid("multicluster.stateStore.type", StoreConfigMap, "needs BuildOptions.KubeClient")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	var secrets corev1client.SecretsGetter
	if opts.KubeClient != nil {
		secrets = opts.KubeClient.CoreV1()
	}
	cr, ps := restConfig(ctx, cfg.Porch, secrets, log)
	bpRepo, bps := resolveBlueprint(ctx, cfg.Blueprint, secrets)
	ps = append(ps, bps...)
	if err := ps.err(); err != nil {
		return nil, err
	}

	var container krm.Runtime
	if cfg.KRM.Executor.Container.Enabled {
		rt, err := krm.NewContainer(containerConfig(cfg.KRM.Executor))
		if err != nil {
			return nil, fmt.Errorf("config: krm.executor.container: %w", err)
		}
		container = rt
	}

	tp := opts.TracerProvider
	if !cfg.Observability.Tracing.Enabled {
		tp = nil
	}
	reg := opts.Registerer
	if !cfg.Observability.Metrics.Enabled {
		// The adapters make metrics and spans together: keep the metrics
		// out of the caller's registry.
		reg = prometheus.NewRegistry()
	}
	provider := observability.New(observability.Config{Registerer: reg, TracerProvider: tp})
	instrument := cfg.Observability.Metrics.Enabled || (cfg.Observability.Tracing.Enabled && opts.TracerProvider != nil)

	po := porchOptions(cfg.Porch)
	po.Logger, po.OAuth2 = log.WithName("porch"), cr.oauth2
	if instrument {
		po.Instrumentation = porchobs.New(provider)
	}
	client, err := porch.New(cr.rest, po)
	if err != nil {
		return nil, fmt.Errorf("config: porch client: %w", err)
	}

	rc := runnerConfig(cfg.KRM.Executor)
	rc.Registry = krm.DefaultRegistry()
	if len(cfg.KRM.Executor.Security.AllowedImages) > 0 {
		rc.Registry.Allow(cfg.KRM.Executor.Security.AllowedImages...)
	}
	if container != nil {
		rc.Registry.SetContainerFallback(container)
	}
	if instrument {
		rc.Instrumentation = krmobs.New(provider)
	}

	c := &Components{RESTConfig: cr.rest, Porch: client, Runner: krm.NewRunner(rc), Observability: provider, Blueprint: bpRepo}
	if bpRepo != nil {
		src, err := blueprint.NewPorchSource(client, blueprint.PorchSourceConfig{Namespace: bpRepo.Namespace, Repositories: []string{bpRepo.Repository}})
		if err == nil {
			c.Catalog, err = blueprint.NewCatalog(ctx, blueprint.CatalogOptions{Logger: log.WithName("blueprint")}, src)
		}
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("config: blueprint catalog: %w", err)
		}
	}
	if cfg.Multicluster.Enabled {
		mc := managerConfig(cfg.Multicluster)
		mc.Logger = log.WithName("multicluster")
		if opts.Prober != nil {
			mc.Prober = opts.Prober
		}
		c.Clusters = multicluster.NewClusterManager(mc)
		pc := propagatorConfig(cfg.Multicluster)
		pc.Logger, pc.Customizer = log.WithName("propagator"), opts.Customizer
		if cfg.Multicluster.StateStore.Type == StoreConfigMap {
			pc.Store = multicluster.NewConfigMapStore(opts.KubeClient, cfg.Multicluster.StateStore.Namespace)
		}
		if instrument {
			pc.Instrumentation = clusterobs.New(provider)
		}
		c.Propagator = multicluster.NewPropagator(c.Clusters, opts.Backend, pc)
	}
	log.Info("porchkit components built", "host", cr.rest.Host, "authMethod", cfg.Porch.Auth.Method,
		"multicluster", cfg.Multicluster.Enabled, "blueprintCatalog", bpRepo != nil)
	return c, nil
}

// porchOptions maps the porch section onto porch.Options (without the
// logger, credentials and instrumentation).
func porchOptions(p PorchConfig) porch.Options {
	backoff := porch.DefaultRetryBackoff
	backoff.Steps = p.RetryCount + 1
	return porch.Options{
		InsecureSkipTLSVerify: p.TLS.InsecureSkipVerify,
		UserAgent:             p.UserAgent,
		Retry:                 porch.RetryOptions{Backoff: backoff, ConflictRetries: orNone(p.ConflictRetries)},
		CircuitBreaker: porch.BreakerOptions{Disabled: !p.CircuitBreaker.Enabled, Failures: uint32(p.CircuitBreaker.Threshold),
			Settings: gobreaker.Settings{Timeout: p.CircuitBreaker.Timeout.Duration}},
		Cache:                 porch.CacheOptions{Disabled: !p.Cache.Enabled, Size: p.Cache.Size, TTL: p.Cache.TTL.Duration},
		RepositoryConcurrency: orNone(p.RepositoryConcurrency),
	}
}

// orNone maps a configuration's 0 ("none") onto the options' negative
// value, since the options read 0 as "the default".
func orNone(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// runnerConfig maps krm.executor onto krm.RunnerConfig (without the
// registry and instrumentation).
func runnerConfig(e ExecutorConfig) krm.RunnerConfig {
	return krm.RunnerConfig{
		Policy: krm.Policy{
			AllowNetwork: e.Security.AllowNetwork,
			AllowMounts:  e.Security.AllowMounts,
			MaxMemory:    e.Resources.MemoryLimit.Value(),
			MaxCPU:       e.Resources.CPUTimeLimit.Duration,
			MaxWallTime:  e.Timeout.Duration,
			Defaults: krm.Capabilities{Memory: e.Resources.MemoryLimit.Value(), CPU: e.Resources.CPUTimeLimit.Duration,
				WallTime: e.Timeout.Duration},
		},
		MemoSize:  orNone(e.MemoSize),
		AllowExec: e.Security.AllowExec,
	}
}

// containerConfig maps krm.executor.container onto krm.ContainerConfig.
func containerConfig(e ExecutorConfig) krm.ContainerConfig {
	return krm.ContainerConfig{Engine: e.Container.Engine, Pull: e.Container.Pull, CPUs: e.Resources.CPULimit.Float()}
}

// managerConfig maps multicluster.healthCheck onto
// multicluster.ManagerConfig (without the logger).
func managerConfig(m MulticlusterConfig) multicluster.ManagerConfig {
	return multicluster.ManagerConfig{
		Prober:           &multicluster.KubeProber{Timeout: m.HealthCheck.Timeout.Duration},
		ProbeInterval:    m.HealthCheck.Interval.Duration,
		ProbeConcurrency: m.HealthCheck.Concurrency,
	}
}

// propagatorConfig maps multicluster.propagation onto
// multicluster.PropagatorConfig (without the logger, store, customizer and
// instrumentation).
func propagatorConfig(m MulticlusterConfig) multicluster.PropagatorConfig {
	p := m.Propagation
	return multicluster.PropagatorConfig{
		FailuresShown:      p.FailuresShown,
		WavesShown:         p.WavesShown,
		UnreachableAfter:   p.UnreachableAfter,
		SaveInterval:       p.SaveInterval.Duration,
		SaveTimeout:        p.SaveTimeout.Duration,
		RenderConcurrency:  p.RenderConcurrency,
		EventBuffer:        p.EventBuffer,
		Retention:          p.Retention.Duration,
		SkipPreflightProbe: !p.PreflightProbe,
	}
}

// resolveBlueprint reads the blueprint catalog's credentials.
func resolveBlueprint(ctx context.Context, b BlueprintConfig, secrets corev1client.SecretsGetter) (*BlueprintCatalog, problems) {
	if b.CatalogURL == "" {
		return nil, nil
	}
	bc := &BlueprintCatalog{Namespace: b.Namespace, Repository: b.Repository, URL: b.CatalogURL,
		opts: porch.RegisterOptions{Branch: b.Branch, Directory: b.Directory, SecretRef: b.Auth.SecretName}}
	if b.Auth.Password.IsSet() {
		pw, prob := b.Auth.Password.resolve(ctx, secrets, "blueprint.auth.password")
		if prob != nil {
			return nil, problems{*prob}
		}
		bc.opts.BasicAuth = porch.BasicAuth{Username: b.Auth.Username, Password: string(pw)}
	}
	return bc, nil
}
