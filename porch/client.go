package porch

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/go-logr/logr"
	"github.com/nephio-project/porch/api/generated/clientset/versioned"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/oauth2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
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
	// srv sends every package-revision request; reader reads through the
	// cache when there is one, else it is srv.
	srv    *server
	reader revisionReader
	cache  *readCache
	config rest.Interface
	core   corev1client.CoreV1Interface
	res    *resilience
	log    logr.Logger
	// conflictRetries bounds how often read-modify-write verbs re-read and
	// re-apply after a conflict.
	conflictRetries int

	closeOnce sync.Once
	stop      context.CancelFunc
}

// revisionReader reads package revisions and their resources: the server
// reads Porch, the cache serves from memory and reads through to the
// server.
type revisionReader interface {
	getRevision(ctx context.Context, op, namespace, name string) (*porchapi.PackageRevision, error)
	listRevisions(ctx context.Context, op, namespace string, o ListOptions) ([]porchapi.PackageRevision, error)
	getResources(ctx context.Context, op, namespace, name string) (*porchapi.PackageRevisionResources, error)
}

var _ Client = (*client)(nil)

// New returns a Client for the server cfg points at (a kube-apiserver that
// aggregates porch.kpt.dev, or see Options.PorchConfig). The zero Options
// turn retries, the circuit breaker, the read cache and the per-repository
// write limit on with the documented defaults. New refuses a Config with TLS
// verification turned off unless Options.InsecureSkipTLSVerify is set.
func New(cfg *rest.Config, opts Options) (Client, error) {
	o := opts.settings()
	if cfg == nil {
		return nil, newError("new client", "", ErrInvalid, "nil rest.Config")
	}
	porchCfg := cfg
	if o.PorchConfig != nil {
		porchCfg = o.PorchConfig
	}
	for _, c := range []*rest.Config{cfg, porchCfg} {
		if c.Insecure && !o.InsecureSkipTLSVerify {
			return nil, newError("new client", "", ErrInvalid,
				"the rest.Config turns TLS verification off; set Options.InsecureSkipTLSVerify to allow it")
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
	res := &resilience{backoff: o.backoff, limiter: newRepositoryLimiter(o.repoConcurrency), inst: o.Instrumentation, log: o.Logger}
	if !o.CircuitBreaker.Disabled {
		res.breaker = gobreaker.NewCircuitBreaker[struct{}](breakerSettings(o.CircuitBreaker, o.Logger, o.Instrumentation))
	}
	srv := &server{porch: pcs, res: res, log: o.Logger, recent: newRecentRevisions(),
		answersAreCurrent: o.repoConcurrency == 1, goneWithin: deleteVisibleWithin}
	ctx, stop := context.WithCancel(context.Background())
	c := &client{srv: srv, reader: srv, config: configREST, core: core, res: res, log: o.Logger,
		conflictRetries: o.conflictRetries, stop: stop}
	if o.cacheSize > 0 {
		watchNamespace := func(ctx context.Context, namespace string) (watch.Interface, error) {
			return pcs.PorchV1alpha1().PackageRevisions(namespace).Watch(ctx, metav1.ListOptions{})
		}
		c.cache = newReadCache(ctx, srv, watchNamespace, cacheConfig{size: o.cacheSize, ttl: o.cacheTTL, log: o.Logger, inst: o.Instrumentation})
		c.reader, srv.writes = c.cache, c.cache
	}
	return c, nil
}

// prepare copies cfg and applies the transport-level options.
func (o *settings) prepare(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	if cfg.UserAgent == "" {
		cfg.UserAgent = o.UserAgent
	}
	if o.OAuth2 != nil {
		ctx := context.Background()
		if o.OAuth2HTTPClient != nil {
			ctx = context.WithValue(ctx, oauth2.HTTPClient, o.OAuth2HTTPClient)
		}
		src := o.OAuth2.TokenSource(ctx)
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
