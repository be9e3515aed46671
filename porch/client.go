package porch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/nephio-project/porch/api/generated/clientset/versioned"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/oauth2"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
)

// Client drives Porch: repositories and package revisions, per namespace,
// the way client-go's typed clients do. It is safe for concurrent use.
type Client interface {
	// Repositories returns the repositories of a namespace.
	Repositories(namespace string) Repositories
	// PackageRevisions returns the package revisions of a namespace.
	PackageRevisions(namespace string) PackageRevisions
	// Close stops the watches that keep the read cache current. Calls made
	// after Close still work, uncached.
	Close()
}

// client is the Client New returns.
type client struct {
	porch   versioned.Interface
	config  rest.Interface
	core    corev1client.CoreV1Interface
	opts    options
	log     logr.Logger
	inst    Instrumentation
	breaker *gobreaker.CircuitBreaker[struct{}]
	cache   *readCache
	limiter *repositoryLimiter

	// recent remembers revisions this client wrote or read lately, by
	// namespace/name, to absorb Porch's brief NotFound for them (see
	// getFresh).
	recentMu sync.Mutex
	recent   map[string]time.Time
	// deleted remembers revisions this client deleted lately, so that a
	// delete racing another of its own stops waiting out a brief NotFound.
	deleted map[string]time.Time

	closeOnce sync.Once
	stop      context.CancelFunc
	ctx       context.Context
}

var _ Client = (*client)(nil)

// New returns a Client for the server cfg points at (a kube-apiserver that
// aggregates porch.kpt.dev, or see WithPorchConfig). Retries, the circuit
// breaker, the read cache and the per-repository write limit are on with the
// documented defaults. New refuses a Config with TLS verification turned off
// unless WithInsecureSkipTLSVerify is given.
func New(cfg *rest.Config, opts ...Option) (Client, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if cfg == nil {
		return nil, newError("new client", "", ErrInvalid, "nil rest.Config")
	}
	porchCfg := cfg
	if o.porchConfig != nil {
		porchCfg = o.porchConfig
	}
	for _, c := range []*rest.Config{cfg, porchCfg} {
		if c.Insecure && !o.insecure {
			return nil, newError("new client", "", ErrInvalid,
				"the rest.Config turns TLS verification off; pass porch.WithInsecureSkipTLSVerify() to allow it")
		}
	}
	cfg, porchCfg = o.prepare(cfg), o.prepare(porchCfg)

	pcs, err := versioned.NewForConfig(porchCfg)
	if err != nil {
		return nil, fmt.Errorf("porch: client for porch.kpt.dev: %w", err)
	}
	coreCfg := rest.CopyConfig(cfg)
	coreCfg.ContentType, coreCfg.AcceptContentTypes = "application/json", "application/json"
	core, err := corev1client.NewForConfig(coreCfg)
	if err != nil {
		return nil, fmt.Errorf("porch: client for core/v1: %w", err)
	}
	configREST, err := configRESTClient(cfg)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	c := &client{
		porch: pcs, config: configREST, core: core, opts: o, log: o.logger, inst: o.instrumentation,
		limiter: newRepositoryLimiter(o.repoConcurrency), ctx: ctx, stop: stop, recent: map[string]time.Time{}, deleted: map[string]time.Time{},
	}
	if o.breaker != nil {
		c.breaker = gobreaker.NewCircuitBreaker[struct{}](c.breakerSettings(*o.breaker))
	}
	if o.cacheSize > 0 {
		c.cache = newReadCache(c, o.cacheSize, o.cacheTTL)
	}
	return c, nil
}

// prepare copies cfg and applies the transport-level options.
func (o *options) prepare(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	if cfg.UserAgent == "" {
		cfg.UserAgent = o.userAgent
	}
	if o.oauth2 != nil {
		src := o.oauth2.TokenSource(context.Background())
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return &oauth2.Transport{Source: src, Base: rt}
		})
	}
	// The client retries itself; client-go's own retry of 429s would multiply.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 200, 400
	}
	return cfg
}

func configRESTClient(cfg *rest.Config) (rest.Interface, error) {
	scheme := runtime.NewScheme()
	if err := configapi.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("porch: config.porch.kpt.dev scheme: %w", err)
	}
	c := rest.CopyConfig(cfg)
	gv := schema.GroupVersion{Group: configapi.GroupVersion.Group, Version: configapi.GroupVersion.Version}
	c.GroupVersion = &gv
	c.APIPath = "/apis"
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("porch: client for config.porch.kpt.dev: %w", err)
	}
	return rc, nil
}

// Repositories implements Client.
func (c *client) Repositories(namespace string) Repositories {
	return &repositories{c: c, ns: namespace}
}

// PackageRevisions implements Client.
func (c *client) PackageRevisions(namespace string) PackageRevisions {
	return &packageRevisions{c: c, ns: namespace}
}

// Close implements Client.
func (c *client) Close() {
	c.closeOnce.Do(func() {
		c.stop()
		if c.cache != nil {
			c.cache.close()
		}
	})
}

// Scheme returns a runtime.Scheme with the Porch API types
// (porch.kpt.dev/v1alpha1 and config.porch.kpt.dev/v1alpha1) registered, for
// callers that build controller-runtime clients or decoders.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := porchapi.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := configapi.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// seen notes that a revision exists (or was just written) now.
func (c *client) seen(namespace, name string) {
	c.recentMu.Lock()
	defer c.recentMu.Unlock()
	remember(c.recent, namespace+"/"+name)
}

// remember stamps key with the time now, first dropping stamps older than
// recentFor once m grows large. The caller holds recentMu.
func remember(m map[string]time.Time, key string) {
	if len(m) > 10000 {
		for k, t := range m {
			if time.Since(t) > recentFor {
				delete(m, k)
			}
		}
	}
	m[key] = time.Now()
}

// forget notes that a revision was deleted by this client.
func (c *client) forget(namespace, name string) {
	c.recentMu.Lock()
	defer c.recentMu.Unlock()
	delete(c.recent, namespace+"/"+name)
}

// markDeleted notes that this client deleted a revision now.
func (c *client) markDeleted(namespace, name string) {
	c.recentMu.Lock()
	defer c.recentMu.Unlock()
	remember(c.deleted, namespace+"/"+name)
}

// wasDeleted reports whether this client deleted the revision within
// recentFor.
func (c *client) wasDeleted(namespace, name string) bool {
	c.recentMu.Lock()
	defer c.recentMu.Unlock()
	t, ok := c.deleted[namespace+"/"+name]
	return ok && time.Since(t) < recentFor
}

// wasRecent reports whether the revision was seen within recentFor.
func (c *client) wasRecent(namespace, name string) bool {
	c.recentMu.Lock()
	defer c.recentMu.Unlock()
	t, ok := c.recent[namespace+"/"+name]
	return ok && time.Since(t) < recentFor
}

const (
	// recentFor is how long a revision counts as recently seen.
	recentFor = time.Minute
	// vanishedFor bounds how long a read waits for a recently seen revision
	// that Porch briefly does not serve.
	vanishedFor = 10 * time.Second
)

// stillThere repeats read while it answers ErrNotFound for a revision this
// client saw within the last minute, for up to vanishedFor: Porch's
// background repository sync can stop serving a draft for a moment after a
// write (seen on v1.5.3 under load). A revision deleted by this client is
// not waited for, and a real NotFound is reported after the wait.
func stillThere[T any](ctx context.Context, c *client, namespace, name string, read func(context.Context) (T, error)) (T, error) {
	v, err := read(ctx)
	if !errors.Is(err, ErrNotFound) || !c.wasRecent(namespace, name) {
		if err == nil {
			c.seen(namespace, name)
		}
		return v, err
	}
	deadline := time.Now().Add(vanishedFor)
	for errors.Is(err, ErrNotFound) && time.Now().Before(deadline) && c.wasRecent(namespace, name) {
		c.log.V(1).Info("revision briefly not served by Porch; reading again", "name", name)
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(200 * time.Millisecond):
		}
		v, err = read(ctx)
	}
	if err == nil {
		c.seen(namespace, name)
	}
	return v, err
}
