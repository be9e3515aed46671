package fake

import (
	"testing"
	"time"

	"github.com/go-logr/logr"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"

	"github.com/nephoran/porchkit/porch"
)

// ClientBuilder configures a fake Porch server and a porch.Client on it, in
// the manner of controller-runtime's fake.NewClientBuilder. Its methods
// change the builder and return it, so calls chain.
type ClientBuilder struct {
	cfg        config
	log        logr.Logger
	funcs      []Funcs
	clientOpts porch.Options
}

// NewClientBuilder returns a builder for a server with Porch's defaults:
// deletion protection on, no renderer, no write latency, every repository
// Ready, no authentication.
func NewClientBuilder() *ClientBuilder {
	return &ClientBuilder{cfg: config{deletionProtection: true}, log: logr.Discard()}
}

// WithRenderer renders packages on every change, as Porch runs the Kptfile
// pipeline; for example krm.NewPorchRenderer(krm.NewRunner()).
func (b *ClientBuilder) WithRenderer(r Renderer) *ClientBuilder {
	b.cfg.renderer = r
	return b
}

// WithGitFetcher lets the server clone from any git URL; without one it
// clones only from its own repositories.
func (b *ClientBuilder) WithGitFetcher(g GitFetcher) *ClientBuilder {
	b.cfg.gitFetcher = g
	return b
}

// WithGitCredentials makes the server's "git server" require these
// credentials: a repository whose basic-auth Secret holds others is not
// Ready, as with Porch.
func (b *ClientBuilder) WithGitCredentials(auth porch.BasicAuth) *ClientBuilder {
	b.cfg.gitAuth = auth
	return b
}

// WithBearerToken makes the server require "Authorization: Bearer token" on
// every request but health checks, answering 401 otherwise.
func (b *ClientBuilder) WithBearerToken(token string) *ClientBuilder {
	b.cfg.bearerToken = token
	return b
}

// WithDeletionProtection turns Porch's deletion webhook on or off (default
// on: a Published revision must be proposed for deletion first).
func (b *ClientBuilder) WithDeletionProtection(on bool) *ClientBuilder {
	b.cfg.deletionProtection = on
	return b
}

// WithWriteLatency makes every write to a package revision take d, during
// which another write to the same object fails with Porch's 409 "another
// request is already in progress". Reads are served meanwhile.
func (b *ClientBuilder) WithWriteLatency(d time.Duration) *ClientBuilder {
	b.cfg.latency = d
	return b
}

// WithRepositoryCheck decides each repository's Ready condition whenever it
// is created or changed: a non-empty message makes it Ready=False with that
// message, as Porch does for a bad URL, branch or credentials.
func (b *ClientBuilder) WithRepositoryCheck(check func(*configapi.Repository) string) *ClientBuilder {
	b.cfg.repositoryCheck = check
	return b
}

// WithFuncs adds hooks that every request passes through, after those of
// earlier calls; Server.Intercept adds more at run time.
func (b *ClientBuilder) WithFuncs(funcs Funcs) *ClientBuilder {
	b.funcs = append(b.funcs, funcs)
	return b
}

// WithLogger sets the logger the server reports its own failures to, such
// as its HTTP server ending with an error (default: discard; Close and Stop
// return those errors too).
func (b *ClientBuilder) WithLogger(log logr.Logger) *ClientBuilder {
	b.log = log
	return b
}

// WithClientOptions sets the options of the client Build returns.
func (b *ClientBuilder) WithClientOptions(opts porch.Options) *ClientBuilder {
	b.clientOpts = opts
	return b
}

// BuildServer starts the server on a free port of 127.0.0.1; the caller
// closes it.
func (b *ClientBuilder) BuildServer() (*Server, error) {
	s := newServer(b.cfg, b.log, append([]Funcs(nil), b.funcs...))
	if err := s.serve("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return s, nil
}

// Build starts the server and returns a porch.Client on it; both are
// closed when the test ends, and an error that ended the server's serving
// fails the test.
func (b *ClientBuilder) Build(t testing.TB) (porch.Client, *Server) {
	t.Helper()
	s, err := b.BuildServer()
	if err != nil {
		t.Fatalf("fake: start server: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("fake: %v", err)
		}
	})
	c, err := porch.New(s.Config(), b.clientOpts)
	if err != nil {
		t.Fatalf("fake: client for server: %v", err)
	}
	t.Cleanup(c.Close)
	return c, s
}
