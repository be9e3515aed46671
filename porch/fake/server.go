package fake

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/porch"
)

// Fake is an in-memory Porch server: it serves the porch.kpt.dev and
// config.porch.kpt.dev APIs (and core/v1 Secrets) over HTTP on 127.0.0.1
// with Porch v1.5.3's semantics, so porch.New, client-go, or even porchctl
// run against it unchanged. RunConformance holds it to the same behaviours
// as the real server; the README lists where it differs.
type Fake struct {
	store *store
	opts  fakeOptions

	mu       sync.Mutex
	addr     string
	server   *http.Server
	faults   []*Fault
	requests int
	byVerb   map[string]int
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// Renderer renders a package's files as Porch's Kptfile pipeline would,
// after every change. It returns the rendered files and the function
// results; an error fails the change and nothing is saved.
type Renderer func(ctx context.Context, resources map[string]string) (map[string]string, *porchapi.RenderStatus, error)

// GitFetcher returns the files of directory dir at ref in a git repository,
// and the commit they were read at, for clones from git.
type GitFetcher func(ctx context.Context, url, ref, dir string) (files map[string]string, commit string, err error)

// FakeOption configures a Fake.
type FakeOption func(*fakeOptions)

type fakeOptions struct {
	deletionProtection bool
	renderer           func(map[string]string) (map[string]string, *porchapi.RenderStatus, error)
	gitFetch           func(url, ref, dir string) (map[string]string, string, error)
	latency            time.Duration
	repositoryError    func(*configapi.Repository) string
	gitUser, gitPass   string
	bearerToken        string
}

// WithFakeBearerToken makes the fake require "Authorization: Bearer token"
// on every request, answering 401 otherwise.
func WithFakeBearerToken(token string) FakeOption {
	return func(o *fakeOptions) { o.bearerToken = token }
}

// WithFakeGitCredentials makes the fake's "git server" require these
// credentials: a repository whose basic-auth Secret holds others is not
// Ready, as with Porch.
func WithFakeGitCredentials(user, password string) FakeOption {
	return func(o *fakeOptions) { o.gitUser, o.gitPass = user, password }
}

// WithFakeDeletionProtection turns Porch's deletion webhook on or off
// (default on: a Published revision must be proposed for deletion first).
func WithFakeDeletionProtection(on bool) FakeOption {
	return func(o *fakeOptions) { o.deletionProtection = on }
}

// WithRenderer renders packages on every change, for example through a krm
// executor.
func WithRenderer(r Renderer) FakeOption {
	return func(o *fakeOptions) {
		o.renderer = func(in map[string]string) (map[string]string, *porchapi.RenderStatus, error) {
			return r(context.Background(), in)
		}
	}
}

// WithGitFetcher lets the fake clone from git URLs.
func WithGitFetcher(g GitFetcher) FakeOption {
	return func(o *fakeOptions) {
		o.gitFetch = func(url, ref, dir string) (map[string]string, string, error) {
			return g(context.Background(), url, ref, dir)
		}
	}
}

// WithWriteLatency makes every write to a package revision take d, during
// which another write to the same object fails with Porch's 409 "another
// request is already in progress".
func WithWriteLatency(d time.Duration) FakeOption {
	return func(o *fakeOptions) { o.latency = d }
}

// WithRepositoryCheck decides each new repository's Ready condition: a
// non-empty message makes it Ready=False with that message, as Porch does
// for a bad URL, branch or credentials.
func WithRepositoryCheck(check func(*configapi.Repository) string) FakeOption {
	return func(o *fakeOptions) { o.repositoryError = check }
}

// Fault makes matching requests fail or slow down, for resilience tests.
type Fault struct {
	// Verb matches "get", "list", "watch", "create", "update", "patch",
	// "delete"; empty matches all.
	Verb string
	// Resource matches "packagerevisions", "packagerevisions/approval",
	// "packagerevisionresources", "repositories", "secrets"; empty matches
	// all.
	Resource string
	// Code, when non-zero, is the HTTP status answered instead of serving
	// the request; Message is its text. Code -1 drops the connection.
	// Code 200 serves the request but answers a bare success Status
	// instead of the object, which client-go decodes to an empty object.
	Code    int
	Message string
	// Latency delays the request.
	Latency time.Duration
	// Times limits how many requests the fault applies to; 0 means until
	// ClearFaults.
	Times int
}

// NewFake starts a fake Porch server on 127.0.0.1.
func NewFake(opts ...FakeOption) (*Fake, error) {
	o := fakeOptions{deletionProtection: true, repositoryError: func(*configapi.Repository) string { return "" }}
	for _, opt := range opts {
		opt(&o)
	}
	f := &Fake{opts: o}
	f.store = newStore(&f.opts)
	f.ctx, f.cancel = context.WithCancel(context.Background())
	if err := f.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return f, nil
}

// NewFakeClient starts a Fake for the test and returns a porch.Client on it;
// both are closed when the test ends.
func NewFakeClient(t testing.TB, fakeOpts []FakeOption, clientOpts ...porch.Option) (porch.Client, *Fake) {
	t.Helper()
	f, err := NewFake(fakeOpts...)
	if err != nil {
		t.Fatalf("porchtest: start fake: %v", err)
	}
	t.Cleanup(f.Close)
	c, err := porch.New(f.Config(), clientOpts...)
	if err != nil {
		t.Fatalf("porchtest: client for fake: %v", err)
	}
	t.Cleanup(c.Close)
	return c, f
}

func (f *Fake) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return f.ctx }}
	f.mu.Lock()
	f.addr, f.server = l.Addr().String(), srv
	f.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	return nil
}

// Config returns a rest.Config for the fake (plain HTTP on 127.0.0.1).
func (f *Fake) Config() *rest.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &rest.Config{Host: "http://" + f.addr, QPS: -1}
}

// Stop makes the server unreachable (connections refused), as when
// porch-server is killed. State is kept.
func (f *Fake) Stop() {
	f.mu.Lock()
	srv := f.server
	f.server = nil
	f.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Start serves again on the same address after Stop.
func (f *Fake) Start() error {
	f.mu.Lock()
	running, addr := f.server != nil, f.addr
	f.mu.Unlock()
	if running {
		return nil
	}
	return f.listen(addr)
}

// Close stops the server and ends every watch.
func (f *Fake) Close() {
	f.cancel()
	f.Stop()
	f.store.closeWatchers()
	f.wg.Wait()
}

// InjectFault adds a fault; faults are checked in the order added.
func (f *Fake) InjectFault(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fc := fault
	f.faults = append(f.faults, &fc)
}

// ClearFaults removes every fault.
func (f *Fake) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// Requests returns how many requests other than watches the fake has
// received.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// RequestsFor returns how many requests with this verb ("create", "get",
// ...) on this resource ("packagerevisions", ...) the fake has received.
func (f *Fake) RequestsFor(verb, resource string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byVerb[verb+" "+resource]
}

// SetRepositoryReady sets a repository's Ready condition, as Porch does when
// git becomes unreachable (ready=false, msg) or reachable again. While not
// Ready, the repository's revisions are left out of lists.
func (f *Fake) SetRepositoryReady(namespace, name string, ready bool, msg string) error {
	f.store.mu.Lock()
	defer f.store.mu.Unlock()
	return f.store.setRepositoryReady(namespace, name, ready, msg)
}

func (f *Fake) fault(verb, resource string) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if verb != "watch" {
		f.requests++
	}
	if f.byVerb == nil {
		f.byVerb = map[string]int{}
	}
	f.byVerb[verb+" "+resource]++
	for i, fl := range f.faults {
		if (fl.Verb == "" || fl.Verb == verb) && (fl.Resource == "" || fl.Resource == resource) {
			out := *fl
			if fl.Times > 0 {
				fl.Times--
				if fl.Times == 0 {
					f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
				}
			}
			return &out
		}
	}
	return nil
}
