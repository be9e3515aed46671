package fake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/porch"
)

// Server is an in-memory Porch server: it serves the porch.kpt.dev and
// config.porch.kpt.dev APIs (and core/v1 Secrets) over HTTP on 127.0.0.1
// with Porch v1.5.3's semantics, so porch.New, client-go, controller-runtime
// or even porchctl run against it unchanged. Build one with
// NewClientBuilder.
type Server struct {
	store  *store
	cfg    config
	log    logr.Logger
	listen func(network, address string) (net.Listener, error)

	mu        sync.Mutex
	addr      string
	server    *http.Server
	served    chan error // the running Serve's result, buffered
	serveErrs []error
	hooks     []Funcs
	requests  int
	byVerb    map[string]int
	ctx       context.Context
	cancel    context.CancelFunc
}

// config is what the builder sets on a Server.
type config struct {
	deletionProtection bool
	renderer           Renderer
	gitFetcher         GitFetcher
	latency            time.Duration
	repositoryCheck    func(*configapi.Repository) string
	gitAuth            porch.BasicAuth
	bearerToken        string
}

func newServer(cfg config, log logr.Logger, hooks []Funcs) *Server {
	s := &Server{cfg: cfg, log: log, listen: net.Listen, hooks: hooks, byVerb: map[string]int{}}
	s.store = newStore(&s.cfg)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// serve listens on addr and serves until Stop or Close. An error of Serve
// other than the server's closing is logged and returned by Stop and Close.
func (s *Server) serve(addr string) error {
	l, err := s.listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fake: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return s.ctx }}
	served := make(chan error, 1)
	s.mu.Lock()
	s.addr, s.server, s.served = l.Addr().String(), srv, served
	s.mu.Unlock()
	go func() {
		err := srv.Serve(l)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		if err != nil {
			err = fmt.Errorf("fake: serve on %s: %w", l.Addr(), err)
			s.log.Error(err, "fake Porch server stopped serving")
			s.mu.Lock()
			s.serveErrs = append(s.serveErrs, err)
			s.mu.Unlock()
		}
		served <- err
	}()
	return nil
}

// Config returns a rest.Config for the server (plain HTTP on 127.0.0.1,
// no client-side rate limit).
func (s *Server) Config() *rest.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &rest.Config{Host: "http://" + s.addr, QPS: -1}
}

// Stop makes the server unreachable (connections refused), as when
// porch-server is killed; state is kept and Start serves again. It returns
// the error that ended serving, if serving failed before Stop.
func (s *Server) Stop() error {
	s.mu.Lock()
	srv, served := s.server, s.served
	s.server, s.served = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	closeErr := srv.Close()
	return errors.Join(<-served, closeErr)
}

// Start serves again on the same address after Stop.
func (s *Server) Start() error {
	s.mu.Lock()
	running, addr := s.server != nil, s.addr
	s.mu.Unlock()
	if running {
		return nil
	}
	return s.serve(addr)
}

// Close stops the server and ends every watch. It returns every error that
// ended serving during the server's life.
func (s *Server) Close() error {
	s.cancel()
	_ = s.Stop() // its error is in serveErrs
	s.store.closeWatchers()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.serveErrs...)
}

// Intercept adds hooks at run time, after those given to the builder and
// earlier calls; a request passes through the hooks in the order they were
// added before the fake serves it.
func (s *Server) Intercept(funcs Funcs) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, funcs)
}

// ClearFuncs removes every hook, those given to the builder included.
func (s *Server) ClearFuncs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = nil
}

// Requests returns how many API requests other than watches the server has
// received (discovery and health checks are not counted).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// RequestsFor returns how many requests with this verb ("create", "get",
// ...) on this resource ("packagerevisions", "packagerevisions/approval",
// ...) the server has received.
func (s *Server) RequestsFor(verb, resource string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byVerb[verb+" "+resource]
}

// SetRepositoryReady sets a repository's Ready condition, as Porch does when
// git becomes unreachable (ready=false, msg) or reachable again. While not
// Ready, the repository's revisions are left out of lists.
func (s *Server) SetRepositoryReady(namespace, name string, ready bool, msg string) error {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	return s.store.setRepositoryReady(namespace, name, ready, msg)
}

// count records a request and returns the hooks to run it through.
func (s *Server) count(verb, resource string) []Funcs {
	s.mu.Lock()
	defer s.mu.Unlock()
	if verb != VerbWatch {
		s.requests++
	}
	s.byVerb[verb+" "+resource]++
	return append([]Funcs(nil), s.hooks...)
}
