package porch

import (
	"time"

	"github.com/go-logr/logr"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/oauth2/clientcredentials"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
)

// Option configures a Client built by New.
type Option func(*options)

// Default resilience settings. Each can be replaced through an Option.
var (
	// DefaultRetryBackoff: up to 6 attempts, 100 ms doubling to at most 3 s,
	// with 20% jitter.
	DefaultRetryBackoff = wait.Backoff{Steps: 6, Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.2, Cap: 3 * time.Second}
	// DefaultConflictRetries is how many times a read-modify-write operation
	// re-reads and re-applies the caller's mutation after a conflict.
	DefaultConflictRetries = 10
)

const (
	// DefaultBreakerFailures is the number of consecutive server failures
	// (connection errors, 429, 502-504) that opens the circuit.
	DefaultBreakerFailures = 5
	// DefaultBreakerOpenFor is how long the circuit stays open before one
	// probe request is let through.
	DefaultBreakerOpenFor = 2 * time.Second
	// DefaultCacheSize is the number of objects and lists the read cache holds.
	DefaultCacheSize = 4096
	// DefaultCacheTTL bounds how long a cached read is served without the
	// watch having confirmed it is still current.
	DefaultCacheTTL = 30 * time.Second
	// DefaultRepositoryConcurrency is the number of writes sent at once per
	// repository. Porch serialises git work per repository; more than one
	// write at a time only adds failures (HTTP 500s) and lowers throughput.
	DefaultRepositoryConcurrency = 1
)

type options struct {
	porchConfig     *rest.Config
	oauth2          *clientcredentials.Config
	insecure        bool
	logger          logr.Logger
	backoff         wait.Backoff
	conflictRetries int
	breaker         *gobreaker.Settings
	cacheSize       int
	cacheTTL        time.Duration
	repoConcurrency int
	instrumentation Instrumentation
	userAgent       string
}

func defaultOptions() options {
	return options{
		logger:          logr.Discard(),
		backoff:         DefaultRetryBackoff,
		conflictRetries: DefaultConflictRetries,
		breaker:         &gobreaker.Settings{},
		cacheSize:       DefaultCacheSize,
		cacheTTL:        DefaultCacheTTL,
		repoConcurrency: DefaultRepositoryConcurrency,
		instrumentation: nopInstrumentation{},
		userAgent:       "porchkit",
	}
}

// WithPorchConfig sends porch.kpt.dev requests (package revisions and their
// resources) to a different endpoint, for example porch-server's own port
// instead of the kube-apiserver that aggregates it. Repositories and Secrets
// still use the Config passed to New.
func WithPorchConfig(cfg *rest.Config) Option {
	return func(o *options) { o.porchConfig = cfg }
}

// WithOAuth2ClientCredentials authenticates every request with a bearer token
// from an OAuth2 client-credentials flow; tokens are cached and refreshed.
func WithOAuth2ClientCredentials(cfg *clientcredentials.Config) Option {
	return func(o *options) { o.oauth2 = cfg }
}

// WithInsecureSkipTLSVerify allows a rest.Config with TLS verification turned
// off. Without it New refuses such a Config.
func WithInsecureSkipTLSVerify() Option {
	return func(o *options) { o.insecure = true }
}

// WithLogger sets the logger. The default discards.
func WithLogger(l logr.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithRetryBackoff replaces DefaultRetryBackoff for transient errors.
// Steps is the total number of attempts.
func WithRetryBackoff(b wait.Backoff) Option {
	return func(o *options) { o.backoff = b }
}

// WithoutRetries sends every request once.
func WithoutRetries() Option {
	return func(o *options) { o.backoff = wait.Backoff{Steps: 1}; o.conflictRetries = 0 }
}

// WithConflictRetries sets how often a read-modify-write operation re-reads
// and re-applies the caller's mutation after a conflict.
func WithConflictRetries(n int) Option {
	return func(o *options) { o.conflictRetries = n }
}

// WithCircuitBreaker replaces the breaker settings. Zero fields take the
// defaults above; ReadyToTrip and IsSuccessful are set by the client unless
// given.
func WithCircuitBreaker(s gobreaker.Settings) Option {
	return func(o *options) { o.breaker = &s }
}

// WithoutCircuitBreaker disables the circuit breaker.
func WithoutCircuitBreaker() Option {
	return func(o *options) { o.breaker = nil }
}

// WithCache sets the size and time-to-live of the read cache.
func WithCache(size int, ttl time.Duration) Option {
	return func(o *options) { o.cacheSize, o.cacheTTL = size, ttl }
}

// WithoutCache disables the read cache; every read goes to the server.
func WithoutCache() Option {
	return func(o *options) { o.cacheSize = 0 }
}

// WithRepositoryConcurrency sets how many writes per repository are sent at
// once; 0 means unlimited.
func WithRepositoryConcurrency(n int) Option {
	return func(o *options) { o.repoConcurrency = n }
}

// WithInstrumentation sends metrics and traces to i.
func WithInstrumentation(i Instrumentation) Option {
	return func(o *options) { o.instrumentation = i }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(o *options) { o.userAgent = ua }
}
