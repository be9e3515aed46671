package porch

import (
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/oauth2/clientcredentials"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
)

// Default resilience settings, used where Options leaves a field zero.
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

// Options configures a Client built by New. The zero value is the
// documented defaults: retries, the circuit breaker, the read cache and the
// per-repository write limit on, logs discarded.
type Options struct {
	// PorchConfig sends porch.kpt.dev requests (package revisions and their
	// resources) to a different endpoint, for example porch-server's own
	// port instead of the kube-apiserver that aggregates it. Repositories
	// and Secrets still use the Config passed to New.
	PorchConfig *rest.Config
	// OAuth2 authenticates every request with a bearer token from an OAuth2
	// client-credentials flow; tokens are cached and refreshed.
	OAuth2 *clientcredentials.Config
	// OAuth2HTTPClient sends the token requests of OAuth2 (nil:
	// http.DefaultClient), so that a token endpoint behind a private CA
	// or a proxy can be reached.
	OAuth2HTTPClient *http.Client
	// InsecureSkipTLSVerify allows a rest.Config with TLS verification
	// turned off. Without it New refuses such a Config.
	InsecureSkipTLSVerify bool
	// Logger receives the client's logs; the zero Logger discards.
	Logger logr.Logger
	// Retry decides how transient errors and conflicts are retried.
	Retry RetryOptions
	// CircuitBreaker configures the breaker in front of the server.
	CircuitBreaker BreakerOptions
	// Cache configures the read cache.
	Cache CacheOptions
	// RepositoryConcurrency is how many writes per repository are sent at
	// once: zero means DefaultRepositoryConcurrency, a negative value no
	// limit.
	RepositoryConcurrency int
	// Instrumentation receives metrics and traces; nil records nothing.
	Instrumentation Instrumentation
	// UserAgent is the User-Agent header, unless the rest.Config sets one
	// (default "porchkit").
	UserAgent string
}

// RetryOptions configures retries.
type RetryOptions struct {
	// Backoff spaces the attempts at a request after a transient error;
	// Steps is the total number of attempts. Zero means DefaultRetryBackoff.
	Backoff wait.Backoff
	// ConflictRetries is how often a read-modify-write operation re-reads
	// and re-applies the caller's mutation after a conflict. Zero means
	// DefaultConflictRetries, a negative value none.
	ConflictRetries int
	// Disabled sends every request once and never re-applies a mutation.
	Disabled bool
}

// BreakerOptions configures the circuit breaker.
type BreakerOptions struct {
	// Settings are gobreaker's; zero fields take DefaultBreakerFailures and
	// DefaultBreakerOpenFor, and ReadyToTrip and IsSuccessful are set by the
	// client unless given.
	Settings gobreaker.Settings
	// Failures is how many server failures in a row open the breaker (0:
	// DefaultBreakerFailures); Settings.ReadyToTrip, when set, decides
	// instead.
	Failures uint32
	// Disabled turns the breaker off.
	Disabled bool
}

// CacheOptions configures the read cache.
type CacheOptions struct {
	// Size is the number of objects and lists held; zero means
	// DefaultCacheSize.
	Size int
	// TTL bounds how long a cached read is served without the watch having
	// confirmed it; zero means DefaultCacheTTL.
	TTL time.Duration
	// Disabled turns the cache off: every read goes to the server.
	Disabled bool
}

// settings are Options with the defaults filled in.
type settings struct {
	Options
	backoff         wait.Backoff
	conflictRetries int
	repoConcurrency int
	cacheSize       int
	cacheTTL        time.Duration
}

func (o Options) settings() settings {
	s := settings{Options: o, backoff: o.Retry.Backoff, conflictRetries: o.Retry.ConflictRetries,
		repoConcurrency: o.RepositoryConcurrency, cacheSize: o.Cache.Size, cacheTTL: o.Cache.TTL}
	if s.Logger.GetSink() == nil {
		s.Logger = logr.Discard()
	}
	if s.Instrumentation == nil {
		s.Instrumentation = nopInstrumentation{}
	}
	if s.UserAgent == "" {
		s.UserAgent = "porchkit"
	}
	if s.backoff == (wait.Backoff{}) {
		s.backoff = DefaultRetryBackoff
	}
	switch {
	case s.conflictRetries == 0:
		s.conflictRetries = DefaultConflictRetries
	case s.conflictRetries < 0:
		s.conflictRetries = 0
	}
	if o.Retry.Disabled {
		s.backoff, s.conflictRetries = wait.Backoff{Steps: 1}, 0
	}
	if s.backoff.Steps < 1 {
		s.backoff.Steps = 1
	}
	switch {
	case s.repoConcurrency == 0:
		s.repoConcurrency = DefaultRepositoryConcurrency
	case s.repoConcurrency < 0:
		s.repoConcurrency = 0 // no limit
	}
	if s.cacheSize == 0 {
		s.cacheSize = DefaultCacheSize
	}
	if s.cacheTTL == 0 {
		s.cacheTTL = DefaultCacheTTL
	}
	if o.Cache.Disabled {
		s.cacheSize = 0
	}
	return s
}
