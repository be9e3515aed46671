package conformance

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/porch"
)

// The lifecycles the behaviours move revisions through.
const (
	draft            = porchapi.PackageRevisionLifecycleDraft
	proposed         = porchapi.PackageRevisionLifecycleProposed
	published        = porchapi.PackageRevisionLifecyclePublished
	deletionProposed = porchapi.PackageRevisionLifecycleDeletionProposed
)

// revisionUIDNamespace is the UUIDv5 namespace in which Porch derives a
// package revision's UID from
// "packagerevision:porch.kpt.dev/v1alpha1/<namespace>/<name>", so that a
// revision deleted and created again keeps its UID.
var revisionUIDNamespace = uuid.MustParse("aac71d91-5c67-456f-8fd2-902ef6da820e")

const (
	// DefaultNamespace is where Run registers repositories when
	// Target.Namespace is empty.
	DefaultNamespace = "default"
	// DefaultTimeout bounds each behaviour when Target.Timeout is zero.
	DefaultTimeout = 2 * time.Minute
	// SetupTimeout bounds the registration of the repository the behaviours
	// share.
	SetupTimeout = 5 * time.Minute
	// readyTimeout bounds the wait for a registered repository to be Ready.
	readyTimeout = time.Minute
	// pollInterval is how often a behaviour re-reads while it waits for the
	// server to settle.
	pollInterval = 100 * time.Millisecond
)

// Target is a Porch server that Run checks, and a way to make clients of it.
type Target struct {
	// NewClient returns a new client of the server under test, with opts
	// applied over the target's own. Run makes one client with the zero
	// Options for every behaviour, and one with RepositoryConcurrency -1 (no
	// limit) for a second run of the concurrency
	// behaviours, so that those meet the server's own handling of
	// concurrent writes and not only the client's serialisation. Run closes
	// both when the test ends. Required.
	NewClient func(opts porch.Options) (porch.Client, error)
	// Namespace is where the suite registers repositories (default
	// DefaultNamespace).
	Namespace string
	// NewGitRepository creates a git repository with one commit on main and
	// returns its URL. Required.
	NewGitRepository func(ctx context.Context, name string) (url string, err error)
	// GitAuth is the credentials the git server requires, or empty when it
	// requires none.
	GitAuth porch.BasicAuth
	// Timeout bounds each behaviour (default DefaultTimeout).
	Timeout time.Duration
}

// behaviour is one checked property of Porch as seen through the client.
type behaviour struct {
	name string
	run  func(t *testing.T, s *suite)
}

// suite is the state one Run shares between behaviours.
type suite struct {
	target Target
	ctx    context.Context
	repo   string
	prs    porch.PackageRevisions
	repos  porch.Repositories
	// unlimited is the client without a per-repository write limit.
	unlimited porch.Client
	// noWriteLimit is set in the runs through unlimited.
	noWriteLimit bool
	// pkgPrefix starts every package name the behaviour makes.
	pkgPrefix string
}

// behaviours lists every behaviour in the order Run checks them.
func behaviours() []behaviour {
	var all []behaviour
	for _, group := range [][]behaviour{
		repositoryBehaviours(), authoringBehaviours(), lifecycleBehaviours(), deletionBehaviours(),
		contentBehaviours(), listWatchBehaviours(), concurrencyBehaviours(false), concurrencyBehaviours(true),
	} {
		all = append(all, group...)
	}
	return all
}

// Behaviours lists the names of the behaviours Run checks, which are also
// the names of its subtests.
func Behaviours() []string {
	var names []string
	for _, b := range behaviours() {
		names = append(names, b.name)
	}
	return names
}

// Run checks the behaviours of Porch v1.5.3 that porchkit relies on against
// target, each as a subtest of t named after it. The same suite passes on
// the real Porch of package porchenv and on the in-memory fake:
//
//	go test ./porch -run TestConformance -v
func Run(t *testing.T, target Target) {
	t.Helper()
	if target.NewClient == nil || target.NewGitRepository == nil {
		t.Fatal("conformance: Target.NewClient and Target.NewGitRepository are required")
	}
	if target.Namespace == "" {
		target.Namespace = DefaultNamespace
	}
	if target.Timeout == 0 {
		target.Timeout = DefaultTimeout
	}
	newClient := func(what string, opts porch.Options) porch.Client {
		c, err := target.NewClient(opts)
		if err != nil {
			t.Fatalf("conformance: %s: %v", what, err)
		}
		t.Cleanup(c.Close)
		return c
	}
	c := newClient("new client", porch.Options{})
	s := &suite{
		target:    target,
		repos:     c.Repositories(target.Namespace),
		prs:       c.PackageRevisions(target.Namespace),
		unlimited: newClient("new client without a write limit", porch.Options{RepositoryConcurrency: -1}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), SetupTimeout)
	s.ctx = ctx
	s.repo = s.newRepository(t, "conformance")
	cancel()
	for _, b := range behaviours() {
		t.Run(b.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), target.Timeout)
			defer cancel()
			bs := *s
			bs.ctx = ctx
			b.run(t, &bs)
		})
	}
}

// withoutWriteLimit returns a copy of s whose verbs go through the client
// without a per-repository write limit, and whose package names differ from
// those of the limited run of the same behaviour.
func (s *suite) withoutWriteLimit() *suite {
	u := *s
	u.repos = s.unlimited.Repositories(s.target.Namespace)
	u.prs = s.unlimited.PackageRevisions(s.target.Namespace)
	u.pkgPrefix = "u-"
	u.noWriteLimit = true
	return &u
}

// newRepository creates a git repository and registers it, waiting for Ready.
func (s *suite) newRepository(t *testing.T, name string, opts ...porch.RegisterOption) string {
	t.Helper()
	url, err := s.target.NewGitRepository(s.ctx, name)
	if err != nil {
		t.Fatalf("create git repository %s: %v", name, err)
	}
	if s.target.GitAuth.Username != "" {
		opts = append([]porch.RegisterOption{s.target.GitAuth}, opts...)
	}
	if _, err := s.repos.Register(s.ctx, name, url, opts...); err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	wctx, cancel := context.WithTimeout(s.ctx, readyTimeout)
	defer cancel()
	if _, err := s.repos.WaitReady(wctx, name); err != nil {
		t.Fatalf("repository %s not ready: %v", name, err)
	}
	return name
}

// pkgName returns a package name unique to the behaviour (and to its run:
// the runs of the concurrency behaviours without a write limit get their
// own).
func (s *suite) pkgName(t *testing.T, suffix string) string {
	return s.pkgPrefix + sanitize(t.Name()) + suffix
}

func sanitize(name string) string {
	out := make([]byte, 0, len(name))
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			out = append(out, c)
		case c >= 'A' && c <= 'Z':
			out = append(out, c+'a'-'A')
		default:
			out = append(out, '-')
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > 40 {
		out = out[len(out)-40:]
	}
	for len(out) > 0 && out[0] == '-' {
		out = out[1:]
	}
	return string(out)
}

func (s *suite) init(t *testing.T, pkg, ws string, opts ...porch.InitOption) *porchapi.PackageRevision {
	t.Helper()
	pr, err := s.prs.Init(s.ctx, s.repo, pkg, ws, opts...)
	if err != nil {
		t.Fatalf("init %s/%s: %v", pkg, ws, err)
	}
	return pr
}

func (s *suite) publish(t *testing.T, name string) *porchapi.PackageRevision {
	t.Helper()
	if _, err := s.prs.Propose(s.ctx, name); err != nil {
		t.Fatalf("propose %s: %v", name, err)
	}
	pr, err := s.prs.Approve(s.ctx, name)
	if err != nil {
		t.Fatalf("approve %s: %v", name, err)
	}
	return pr
}

// twoPublished publishes revisions 1 and 2 of a new package (workspaces v1
// and v2, the second copied from the first).
func (s *suite) twoPublished(t *testing.T, pkg string) (v1, v2 *porchapi.PackageRevision) {
	t.Helper()
	v1 = s.init(t, pkg, "v1")
	s.publish(t, v1.Name)
	v2, err := s.prs.Copy(s.ctx, v1.Name, "v2")
	if err != nil {
		t.Fatal(err)
	}
	s.publish(t, v2.Name)
	return v1, v2
}

func (s *suite) get(t *testing.T, name string) *porchapi.PackageRevision {
	t.Helper()
	pr, err := s.prs.Get(s.ctx, name)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return pr
}

func (s *suite) pull(t *testing.T, name string) *porch.Package {
	t.Helper()
	pkg, err := s.prs.Pull(s.ctx, name)
	if err != nil {
		t.Fatalf("pull %s: %v", name, err)
	}
	return pkg
}

func wantErr(t *testing.T, err error, kind error, what string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: error = %v, want %v", what, err, kind)
	}
}

func wantLifecycle(t *testing.T, pr *porchapi.PackageRevision, l porchapi.PackageRevisionLifecycle) {
	t.Helper()
	got := pr.Spec.Lifecycle
	if got == "" {
		got = draft
	}
	if got != l {
		t.Fatalf("%s is %s, want %s", pr.Name, got, l)
	}
}

func isLatest(pr *porchapi.PackageRevision) bool {
	return pr.Labels[porchapi.LatestPackageRevisionKey] == porchapi.LatestPackageRevisionValue
}

func configMap(name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: %q\n", name, value)
}

// eventually re-checks cond until it holds, and fails t when the
// behaviour's time (its context, bounded by Target.Timeout) ends first.
func (s *suite) eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	err := eventually.Poll(s.ctx, pollInterval, s.target.Timeout, func() (bool, string) {
		ok, err := cond()
		return ok, fmt.Sprintf("error %v", err)
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
