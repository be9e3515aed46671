package config

import (
	"sigs.k8s.io/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/porch"
)

// Config is porchkit's whole configuration, in the sections of config.yaml:
// porch, multicluster, krm, blueprint and observability. Default returns
// it with every key at the default of the option it maps onto; Load
// overlays files, ConfigMaps and the environment on those defaults; Build
// turns it into components. Each key's path and environment variable are
// in its field's json and env tags (and Keys lists them all).
//
// String, every fmt verb and JSON/YAML marshalling redact secret values.
type Config struct {
	// Porch configures the porch.Client.
	Porch PorchConfig `json:"porch"`
	// Multicluster configures the ClusterManager and the Propagator.
	Multicluster MulticlusterConfig `json:"multicluster"`
	// KRM configures the krm.Runner.
	KRM KRMConfig `json:"krm"`
	// Blueprint names the blueprint catalog's Porch repository.
	Blueprint BlueprintConfig `json:"blueprint"`
	// Observability turns metrics and spans on or off.
	Observability ObservabilityConfig `json:"observability"`
}

// Auth methods (porch.auth.method).
const (
	// AuthKubeconfig reads a kubeconfig file (porch.auth.kubeconfig), with
	// an optional context.
	AuthKubeconfig = "kubeconfig"
	// AuthServiceAccount uses the pod's service account token and CA, as
	// rest.InClusterConfig does, from porch.auth.serviceAccount's files.
	AuthServiceAccount = "serviceaccount"
	// AuthToken sends a bearer token (porch.auth.token).
	AuthToken = "token"
	// AuthCertificate authenticates with a client certificate
	// (porch.tls.certFile and keyFile, or porch.tls.secretRef).
	AuthCertificate = "certificate"
	// AuthOAuth2 gets bearer tokens through the OAuth2 client-credentials
	// flow (porch.auth.clientId, clientSecret, tokenUrl).
	AuthOAuth2 = "oauth2"
)

// Service account files and API server address in a pod.
const (
	// DefaultServiceAccountTokenFile is where a pod's token is mounted.
	DefaultServiceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	// DefaultServiceAccountCAFile is where a pod's cluster CA is mounted.
	DefaultServiceAccountCAFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
	// DefaultInClusterURL is the API server's in-cluster address, used by
	// the serviceaccount method when porch.apiUrl is empty (porchkit does
	// not read KUBERNETES_SERVICE_HOST).
	DefaultInClusterURL = "https://kubernetes.default.svc"
)

// PorchConfig is the porch section: the porch.Client's connection,
// authentication and resilience.
type PorchConfig struct {
	// APIURL is the API server that aggregates porch.kpt.dev (default "":
	// the kubeconfig's server, or DefaultInClusterURL for serviceaccount;
	// required for token, certificate and oauth2).
	APIURL string `json:"apiUrl,omitempty" env:"PORCH_API_URL"`
	// Timeout bounds each request (rest.Config.Timeout; default 0: none).
	Timeout Duration `json:"timeout" env:"PORCH_API_TIMEOUT"`
	// RetryCount is how often a request is retried after a transient error
	// (porch.DefaultRetryBackoff's Steps minus the first attempt: 5); 0
	// sends each request once.
	RetryCount int `json:"retryCount" env:"PORCH_API_RETRY_COUNT"`
	// ConflictRetries is how often a read-modify-write re-applies its
	// change after a conflict (porch.DefaultConflictRetries: 10); 0: never.
	ConflictRetries int `json:"conflictRetries" env:"PORCH_API_CONFLICT_RETRIES"`
	// RepositoryConcurrency is how many writes per repository are sent at
	// once (porch.DefaultRepositoryConcurrency: 1); 0: no limit.
	RepositoryConcurrency int `json:"repositoryConcurrency" env:"PORCH_REPOSITORY_CONCURRENCY"`
	// UserAgent is the User-Agent header (default "porchkit").
	UserAgent string `json:"userAgent" env:"PORCH_USER_AGENT"`

	// Auth says how the client authenticates.
	Auth AuthConfig `json:"auth"`
	// TLS verifies the server and adds a client certificate.
	TLS TLSConfig `json:"tls"`
	// CircuitBreaker configures the breaker in front of the server.
	CircuitBreaker BreakerConfig `json:"circuitBreaker"`
	// Cache configures the read cache.
	Cache CacheConfig `json:"cache"`
}

// AuthConfig is porch.auth: how the client authenticates.
type AuthConfig struct {
	// Method is kubeconfig, serviceaccount (default), token, certificate
	// or oauth2.
	Method string `json:"method" env:"PORCH_AUTH_METHOD"`
	// Kubeconfig is the kubeconfig file of the kubeconfig method
	// (required there: porchkit does not read KUBECONFIG).
	Kubeconfig string `json:"kubeconfig,omitempty" env:"PORCH_KUBECONFIG"`
	// Context is the kubeconfig context (default: its current context).
	Context string `json:"context,omitempty" env:"PORCH_KUBECONFIG_CONTEXT"`
	// ServiceAccount holds the files of the serviceaccount method.
	ServiceAccount ServiceAccountConfig `json:"serviceAccount"`
	// Token is the bearer token of the token method.
	Token Secret `json:"token" env:"PORCH_BEARER_TOKEN"`
	// ClientID is the OAuth2 client id.
	ClientID string `json:"clientId,omitempty" env:"PORCH_CLIENT_ID"`
	// ClientSecret is the OAuth2 client secret.
	ClientSecret Secret `json:"clientSecret" env:"PORCH_CLIENT_SECRET"`
	// TokenURL is the OAuth2 token endpoint.
	TokenURL string `json:"tokenUrl,omitempty" env:"PORCH_TOKEN_URL"`
	// Scopes are the OAuth2 scopes requested (default none).
	Scopes []string `json:"scopes,omitempty" env:"PORCH_SCOPES"`
	// Audience, when set, is sent as the token request's audience
	// parameter.
	Audience string `json:"audience,omitempty" env:"PORCH_AUDIENCE"`
}

// ServiceAccountConfig is porch.auth.serviceAccount: the files the pod's
// service account is mounted as.
type ServiceAccountConfig struct {
	// TokenFile is re-read as the token rotates (default
	// DefaultServiceAccountTokenFile).
	TokenFile string `json:"tokenFile" env:"PORCH_SERVICEACCOUNT_TOKEN_FILE"`
	// CAFile is the cluster's CA bundle (default DefaultServiceAccountCAFile);
	// porch.tls.caFile overrides it.
	CAFile string `json:"caFile" env:"PORCH_SERVICEACCOUNT_CA_FILE"`
}

// TLSConfig is porch.tls: server verification and client certificates.
// It applies to every auth method.
type TLSConfig struct {
	// CAFile is a PEM bundle of the CAs that sign the server's certificate
	// (default: the kubeconfig's or the service account's, else the
	// system's).
	CAFile string `json:"caFile,omitempty" env:"PORCH_TLS_CA_FILE"`
	// CertFile is a PEM client certificate (mTLS), with KeyFile.
	CertFile string `json:"certFile,omitempty" env:"PORCH_TLS_CERT_FILE"`
	// KeyFile is CertFile's PEM private key.
	KeyFile string `json:"keyFile,omitempty" env:"PORCH_TLS_KEY_FILE"`
	// SecretRef names a kubernetes.io/tls Secret whose tls.crt, tls.key and
	// ca.crt take the place of the files (Key is not used).
	SecretRef *ObjectRef `json:"secretRef,omitempty" env:"PORCH_TLS_SECRET"`
	// ServerName is the name the server's certificate must carry (default:
	// the URL's host).
	ServerName string `json:"serverName,omitempty" env:"PORCH_TLS_SERVER_NAME"`
	// InsecureSkipVerify turns server verification off; Build logs a
	// warning. Default false.
	InsecureSkipVerify bool `json:"insecureSkipVerify" env:"PORCH_TLS_INSECURE_SKIP_VERIFY"`
}

// ObjectRef names a namespaced object; in the environment it is written
// namespace/name.
type ObjectRef struct {
	// Namespace of the object (required).
	Namespace string `json:"namespace,omitempty"`
	// Name of the object (required).
	Name string `json:"name,omitempty"`
}

// BreakerConfig is porch.circuitBreaker.
type BreakerConfig struct {
	// Enabled turns the breaker on (default true).
	Enabled bool `json:"enabled" env:"CIRCUIT_BREAKER_ENABLED"`
	// Threshold is the consecutive server failures that open it
	// (porch.DefaultBreakerFailures: 5).
	Threshold int `json:"threshold" env:"CIRCUIT_BREAKER_THRESHOLD"`
	// Timeout is how long it stays open (porch.DefaultBreakerOpenFor: 2s).
	Timeout Duration `json:"timeout" env:"CIRCUIT_BREAKER_TIMEOUT"`
}

// CacheConfig is porch.cache: the client's read cache.
type CacheConfig struct {
	// Enabled turns the cache on (default true).
	Enabled bool `json:"enabled" env:"REQUEST_CACHE_ENABLED"`
	// TTL bounds how long a read is served unconfirmed
	// (porch.DefaultCacheTTL: 30s).
	TTL Duration `json:"ttl" env:"REQUEST_CACHE_TTL"`
	// Size is the objects and lists held (porch.DefaultCacheSize: 4096).
	Size int `json:"size" env:"REQUEST_CACHE_SIZE"`
}

// MulticlusterConfig is the multicluster section: the ClusterManager and
// the Propagator.
type MulticlusterConfig struct {
	// Enabled makes Build build a ClusterManager and a Propagator (default
	// false); it needs BuildOptions.Backend.
	Enabled bool `json:"enabled" env:"MULTICLUSTER_ENABLED"`
	// HealthCheck configures the cluster probes.
	HealthCheck HealthCheckConfig `json:"healthCheck"`
	// Propagation configures the Propagator.
	Propagation PropagationConfig `json:"propagation"`
	// StateStore says where rollout records are kept.
	StateStore StateStoreConfig `json:"stateStore"`
}

// HealthCheckConfig is multicluster.healthCheck: the cluster probes.
type HealthCheckConfig struct {
	// Interval between probes of every cluster
	// (multicluster.DefaultProbeInterval: 30s).
	Interval Duration `json:"interval" env:"MULTICLUSTER_HEALTH_CHECK_INTERVAL"`
	// Timeout bounds one probe (multicluster.DefaultProbeTimeout: 5s).
	Timeout Duration `json:"timeout" env:"MULTICLUSTER_HEALTH_CHECK_TIMEOUT"`
	// Concurrency bounds the probes at once
	// (multicluster.DefaultProbeConcurrency: 32).
	Concurrency int `json:"concurrency" env:"MULTICLUSTER_HEALTH_CHECK_CONCURRENCY"`
}

// PropagationConfig is multicluster.propagation: the Propagator's
// settings (rollout strategies are per call, not configuration).
type PropagationConfig struct {
	// UnreachableAfter is the failed observations in a row after which a
	// cluster counts as unreachable (multicluster.DefaultUnreachableAfter: 3).
	UnreachableAfter int `json:"unreachableAfter" env:"MULTICLUSTER_UNREACHABLE_AFTER"`
	// RenderConcurrency bounds the clusters rendered for at once
	// (multicluster.DefaultRenderConcurrency: 16).
	RenderConcurrency int `json:"renderConcurrency" env:"MULTICLUSTER_RENDER_CONCURRENCY"`
	// SaveInterval is how often a running rollout's record is saved
	// (multicluster.DefaultSaveInterval: 1s).
	SaveInterval Duration `json:"saveInterval" env:"MULTICLUSTER_SAVE_INTERVAL"`
	// SaveTimeout bounds one save (multicluster.DefaultSaveTimeout: 30s).
	SaveTimeout Duration `json:"saveTimeout" env:"MULTICLUSTER_SAVE_TIMEOUT"`
	// Retention is how long a finished rollout stays in memory
	// (multicluster.DefaultRetention: 1h).
	Retention Duration `json:"retention" env:"MULTICLUSTER_RETENTION"`
	// FailuresShown bounds Status.Failures (multicluster.DefaultFailuresShown: 10).
	FailuresShown int `json:"failuresShown" env:"MULTICLUSTER_FAILURES_SHOWN"`
	// WavesShown bounds Status.WaveProgress (multicluster.DefaultWavesShown: 10).
	WavesShown int `json:"wavesShown" env:"MULTICLUSTER_WAVES_SHOWN"`
	// EventBuffer is each Events subscriber's capacity
	// (multicluster.DefaultEventBuffer: 1024).
	EventBuffer int `json:"eventBuffer" env:"MULTICLUSTER_EVENT_BUFFER"`
	// PreflightProbe probes the targets before a rollout starts (default
	// true).
	PreflightProbe bool `json:"preflightProbe" env:"MULTICLUSTER_PREFLIGHT_PROBE"`
}

// State stores (multicluster.stateStore.type).
const (
	// StoreMemory keeps rollout records in memory (multicluster.MemoryStore).
	StoreMemory = "memory"
	// StoreConfigMap keeps them in ConfigMaps (multicluster.ConfigMapStore),
	// so another replica can resume them.
	StoreConfigMap = "configmap"
)

// StateStoreConfig is multicluster.stateStore: where rollout records live.
type StateStoreConfig struct {
	// Type is memory (default) or configmap.
	Type string `json:"type" env:"MULTICLUSTER_STATE_STORE"`
	// Namespace of the ConfigMaps (required for configmap).
	Namespace string `json:"namespace,omitempty" env:"MULTICLUSTER_STATE_NAMESPACE"`
}

// KRMConfig is the krm section: the function Runner.
type KRMConfig struct {
	// Executor configures how functions run.
	Executor ExecutorConfig `json:"executor"`
}

// ExecutorConfig is krm.executor.
type ExecutorConfig struct {
	// SandboxEnabled must be true: porchkit always runs exec and container
	// functions in a sandbox (the key is accepted for the seed's files).
	SandboxEnabled bool `json:"sandboxEnabled" env:"KRM_EXECUTOR_SANDBOX_ENABLED"`
	// Timeout is the wall time a function runs under: what one that asks
	// nothing gets, and the most one may ask for (krm.Policy.Defaults and
	// MaxWallTime; default unset: krm.DefaultWallTime, no cap).
	Timeout Duration `json:"timeout" env:"KRM_EXECUTOR_TIMEOUT"`
	// MemoSize is how many runs are remembered for reuse
	// (krm.DefaultMemoSize: 1024); 0 turns memoisation off.
	MemoSize int `json:"memoSize" env:"KRM_EXECUTOR_MEMO_SIZE"`
	// Resources caps what a function may ask for.
	Resources ExecutorResourceConfig `json:"resources"`
	// Security says what functions may do.
	Security ExecutorSecurityConfig `json:"security"`
	// Container configures container functions.
	Container ContainerConfig `json:"container"`
}

// ExecutorResourceConfig is krm.executor.resources.
type ExecutorResourceConfig struct {
	// MemoryLimit is the memory a function runs under: what one that asks
	// nothing gets, and the most one may ask for (krm.Policy.Defaults and
	// MaxMemory; default unset: krm.DefaultMemory, 512Mi, no cap).
	MemoryLimit Quantity `json:"memoryLimit" env:"KRM_EXECUTOR_MEMORY_LIMIT"`
	// CPUTimeLimit is the CPU time a function runs under: what one that
	// asks nothing gets, and the most one may ask for (krm.Policy.Defaults
	// and MaxCPU; default unset: krm.DefaultCPU, no cap).
	CPUTimeLimit Duration `json:"cpuTimeLimit" env:"KRM_EXECUTOR_CPU_TIME_LIMIT"`
	// CPULimit is a container function's CPU rate in cores
	// (krm.ContainerConfig.CPUs; default 1).
	CPULimit Quantity `json:"cpuLimit" env:"KRM_EXECUTOR_CPU_LIMIT"`
}

// ExecutorSecurityConfig is krm.executor.security: what functions may do.
type ExecutorSecurityConfig struct {
	// AllowedImages are glob patterns of the images that may run
	// (krm.Registry.Allow; default none: every image).
	AllowedImages []string `json:"allowedImages,omitempty" env:"KRM_EXECUTOR_ALLOWED_IMAGES"`
	// AllowNetwork grants network to functions that declare it (default
	// false).
	AllowNetwork bool `json:"allowNetwork" env:"KRM_EXECUTOR_ALLOW_NETWORK"`
	// AllowMounts are glob patterns of host paths functions may mount
	// (default none).
	AllowMounts []string `json:"allowMounts,omitempty" env:"KRM_EXECUTOR_ALLOW_MOUNTS"`
	// AllowExec allows local executables (krm.RunnerConfig.AllowExec;
	// default false).
	AllowExec bool `json:"allowExec" env:"KRM_EXECUTOR_ALLOW_EXEC"`
}

// Image pull policies (krm.executor.container.pull).
var pullPolicies = []string{"missing", "never", "always"}

// ContainerConfig is krm.executor.container: running images that have no
// builtin through docker or podman.
type ContainerConfig struct {
	// Enabled sets a container fallback on the registry (default false:
	// only builtin functions run).
	Enabled bool `json:"enabled" env:"KRM_EXECUTOR_CONTAINER_ENABLED"`
	// Engine is docker, podman or a path (default "": docker, then podman).
	Engine string `json:"engine,omitempty" env:"KRM_EXECUTOR_CONTAINER_ENGINE"`
	// Pull is missing (default), never or always.
	Pull string `json:"pull" env:"KRM_EXECUTOR_CONTAINER_PULL"`
}

// BlueprintConfig is the blueprint section: the Porch repository that holds
// the blueprint catalog. Build resolves it into Components.Blueprint (the
// repository's registration, with its credentials read) and
// Components.Catalog (a blueprint.Catalog over the repository's published
// revisions); it registers nothing, which is the caller's step.
type BlueprintConfig struct {
	// CatalogURL is the catalog's git URL, or oci:// image (default "": no
	// catalog).
	CatalogURL string `json:"catalogUrl,omitempty" env:"BLUEPRINT_CATALOG_URL"`
	// Repository is the Porch Repository's name (default "blueprints").
	Repository string `json:"repository" env:"BLUEPRINT_REPOSITORY"`
	// Namespace is the Repository's namespace (default "default").
	Namespace string `json:"namespace" env:"BLUEPRINT_NAMESPACE"`
	// Branch is the git branch (default "main").
	Branch string `json:"branch" env:"BLUEPRINT_BRANCH"`
	// Directory restricts the catalog to a directory (default: the root).
	Directory string `json:"directory,omitempty" env:"BLUEPRINT_DIRECTORY"`
	// Auth holds the git credentials.
	Auth BlueprintAuthConfig `json:"auth"`
}

// BlueprintAuthConfig is blueprint.auth: the git credentials Porch uses.
type BlueprintAuthConfig struct {
	// Username is the git user; Porch gets it and Password in a Secret
	// made at registration.
	Username string `json:"username,omitempty" env:"BLUEPRINT_GIT_USERNAME"`
	// Password is the git password or access token.
	Password Secret `json:"password" env:"BLUEPRINT_GIT_PASSWORD"`
	// SecretName names an existing basic-auth Secret in the namespace
	// instead.
	SecretName string `json:"secretName,omitempty" env:"BLUEPRINT_GIT_SECRET_NAME"`
}

// ObservabilityConfig is the observability section.
type ObservabilityConfig struct {
	// Metrics turns the components' metrics on or off.
	Metrics MetricsConfig `json:"metrics"`
	// Tracing turns their spans on or off.
	Tracing TracingConfig `json:"tracing"`
}

// MetricsConfig is observability.metrics.
type MetricsConfig struct {
	// Enabled instruments the components with metrics, registered with
	// BuildOptions.Registerer (default true).
	Enabled bool `json:"enabled" env:"OBSERVABILITY_METRICS_ENABLED"`
}

// TracingConfig is observability.tracing.
type TracingConfig struct {
	// Enabled makes spans through BuildOptions.TracerProvider (default
	// true).
	Enabled bool `json:"enabled" env:"OBSERVABILITY_TRACING_ENABLED"`
}

// Default returns the configuration every key of which has the default of
// the option it maps onto. It is not the zero Config.
func Default() Config {
	return Config{
		Porch: PorchConfig{
			RetryCount:            porch.DefaultRetryBackoff.Steps - 1,
			ConflictRetries:       porch.DefaultConflictRetries,
			RepositoryConcurrency: porch.DefaultRepositoryConcurrency,
			UserAgent:             "porchkit",
			Auth: AuthConfig{
				Method:         AuthServiceAccount,
				ServiceAccount: ServiceAccountConfig{TokenFile: DefaultServiceAccountTokenFile, CAFile: DefaultServiceAccountCAFile},
			},
			CircuitBreaker: BreakerConfig{Enabled: true, Threshold: porch.DefaultBreakerFailures, Timeout: D(porch.DefaultBreakerOpenFor)},
			Cache:          CacheConfig{Enabled: true, TTL: D(porch.DefaultCacheTTL), Size: porch.DefaultCacheSize},
		},
		Multicluster: MulticlusterConfig{
			HealthCheck: HealthCheckConfig{
				Interval:    D(multicluster.DefaultProbeInterval),
				Timeout:     D(multicluster.DefaultProbeTimeout),
				Concurrency: multicluster.DefaultProbeConcurrency,
			},
			Propagation: PropagationConfig{
				UnreachableAfter:  multicluster.DefaultUnreachableAfter,
				RenderConcurrency: multicluster.DefaultRenderConcurrency,
				SaveInterval:      D(multicluster.DefaultSaveInterval),
				SaveTimeout:       D(multicluster.DefaultSaveTimeout),
				Retention:         D(multicluster.DefaultRetention),
				FailuresShown:     multicluster.DefaultFailuresShown,
				WavesShown:        multicluster.DefaultWavesShown,
				EventBuffer:       multicluster.DefaultEventBuffer,
				PreflightProbe:    true,
			},
			StateStore: StateStoreConfig{Type: StoreMemory},
		},
		KRM: KRMConfig{Executor: ExecutorConfig{
			SandboxEnabled: true,
			MemoSize:       krm.DefaultMemoSize,
			Resources:      ExecutorResourceConfig{CPULimit: Q("1")},
			Container:      ContainerConfig{Pull: "missing"},
		}},
		Blueprint:     BlueprintConfig{Repository: "blueprints", Namespace: "default", Branch: "main"},
		Observability: ObservabilityConfig{Metrics: MetricsConfig{Enabled: true}, Tracing: TracingConfig{Enabled: true}},
	}
}

// String is the configuration as YAML, secret values redacted.
func (c Config) String() string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return "config: " + err.Error()
	}
	return string(b)
}

// GoString is String, so %#v redacts too.
func (c Config) GoString() string { return c.String() }
