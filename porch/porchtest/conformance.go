package porchtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"

	"github.com/nephoran/porchkit/porch"
)

// ConformanceTarget is a Porch server, with a client on it, that
// RunConformance checks.
type ConformanceTarget struct {
	// Client is the client under test.
	Client porch.Client
	// Namespace is where the suite registers repositories.
	Namespace string
	// NewGitRepository creates a git repository with one commit on main and
	// returns its URL.
	NewGitRepository func(ctx context.Context, name string) (url string, err error)
	// GitUser and GitPassword are the credentials the git server requires,
	// or empty when it requires none.
	GitUser, GitPassword string
	// Differences names behaviours the target cannot show, with the reason.
	// RunConformance skips them and says why.
	Differences map[string]string
	// Timeout bounds each behaviour (default 2 minutes).
	Timeout time.Duration
}

// behaviour is one checked property of Porch as seen through the client.
type behaviour struct {
	name string
	run  func(t *testing.T, s *suite)
}

// suite is the state one RunConformance run shares between behaviours.
type suite struct {
	target ConformanceTarget
	ctx    context.Context
	repo   string
	prs    porch.PackageRevisions
	repos  porch.Repositories
	seq    int
}

// Behaviours lists the names of the behaviours RunConformance checks.
func Behaviours() []string {
	var names []string
	for _, b := range behaviours() {
		names = append(names, b.name)
	}
	return names
}

// RunConformance checks the behaviours of Porch v1.5.3 that porchkit relies
// on, each as a subtest, against target. The same suite passes on the real
// Porch started by Setup and on the Fake:
//
//	go test ./porch/... -run TestConformance -v
func RunConformance(t *testing.T, target ConformanceTarget) {
	if target.Namespace == "" {
		target.Namespace = "default"
	}
	if target.Timeout == 0 {
		target.Timeout = 2 * time.Minute
	}
	s := &suite{target: target, repos: target.Client.Repositories(target.Namespace), prs: target.Client.PackageRevisions(target.Namespace)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	s.ctx = ctx
	s.repo = s.newRepository(t, "conformance")
	cancel()
	for _, b := range behaviours() {
		t.Run(b.name, func(t *testing.T) {
			if why, ok := target.Differences[b.name]; ok {
				t.Skipf("target differs: %s", why)
			}
			ctx, cancel := context.WithTimeout(context.Background(), target.Timeout)
			defer cancel()
			bs := *s
			bs.ctx = ctx
			b.run(t, &bs)
		})
	}
}

// newRepository creates a git repository and registers it, waiting for Ready.
func (s *suite) newRepository(t *testing.T, name string, opts ...porch.RegisterOption) string {
	t.Helper()
	url, err := s.target.NewGitRepository(s.ctx, name)
	if err != nil {
		t.Fatalf("create git repository %s: %v", name, err)
	}
	if s.target.GitUser != "" {
		opts = append([]porch.RegisterOption{porch.BasicAuth{Username: s.target.GitUser, Password: s.target.GitPassword}}, opts...)
	}
	if _, err := s.repos.Register(s.ctx, name, url, opts...); err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	wctx, cancel := context.WithTimeout(s.ctx, time.Minute)
	defer cancel()
	if _, err := s.repos.WaitReady(wctx, name); err != nil {
		t.Fatalf("repository %s not ready: %v", name, err)
	}
	return name
}

// pkgName returns a package name unique to the behaviour.
func pkgName(t *testing.T, suffix string) string {
	return sanitize(t.Name()) + suffix
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

// eventually polls cond until it holds or ctx ends.
func (s *suite) eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	for {
		ok, err := cond()
		if ok {
			return
		}
		select {
		case <-s.ctx.Done():
			t.Fatalf("%s: not reached before timeout (last error %v)", what, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
