package porchenv

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nephoran/porchkit/porch"
)

// ErrInvalidRepositoryName is returned for a repository name that is not a
// DNS-1123 label (Porch's rule for Repository names).
var ErrInvalidRepositoryName = errors.New("porchenv: invalid repository name")

// GitServer serves real git repositories over smart HTTP ("git
// http-backend" behind net/http/cgi) on 127.0.0.1, optionally behind basic
// authentication. It runs inside the test process. Set its fields, then
// call Start.
type GitServer struct {
	// Root is the directory of the bare repositories, created if missing.
	// Required.
	Root string
	// Auth, when its Username is set, makes the server require HTTP basic
	// authentication with these credentials.
	Auth porch.BasicAuth

	backend string // set by the first Start

	mu   sync.Mutex
	addr string
	srv  *http.Server
	done chan struct{}
	// inflight counts requests being served, so Stop can wait for their
	// git-http-backend processes.
	inflight sync.WaitGroup
}

// Start serves the repositories under Root: the first time on a free port
// of 127.0.0.1, after Stop again on the same address.
func (g *GitServer) Start() error {
	g.mu.Lock()
	running, addr := g.srv != nil, g.addr
	g.mu.Unlock()
	if running {
		return errors.New("porchenv: git server is already running")
	}
	if addr != "" {
		return g.listen(addr)
	}
	if g.Root == "" {
		return errors.New("porchenv: git server: Root is required")
	}
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return fmt.Errorf("porchenv: git is needed for the git server: %w", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		return fmt.Errorf("porchenv: git-http-backend not found: %w", err)
	}
	if err := os.MkdirAll(g.Root, 0o755); err != nil {
		return fmt.Errorf("porchenv: %w", err)
	}
	g.backend = backend
	return g.listen("127.0.0.1:0")
}

func (g *GitServer) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("porchenv: git server listen: %w", err)
	}
	h := g.handler()
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Register under the lock, so Stop's Wait never races an Add.
		g.mu.Lock()
		if g.srv != srv {
			g.mu.Unlock()
			http.Error(w, "git server stopped", http.StatusServiceUnavailable)
			return
		}
		g.inflight.Add(1)
		g.mu.Unlock()
		defer g.inflight.Done()
		h.ServeHTTP(w, r)
	})
	done := make(chan struct{})
	g.mu.Lock()
	g.addr, g.srv, g.done = ln.Addr().String(), srv, done
	g.mu.Unlock()
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return nil
}

func (g *GitServer) handler() http.Handler {
	backend := &cgi.Handler{
		Path: g.backend,
		Root: "/",
		Dir:  g.Root,
		Env:  []string{"GIT_PROJECT_ROOT=" + g.Root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1"},
	}
	user, password := g.Auth.Username, g.Auth.Password
	if user == "" {
		return backend
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="porchenv"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	})
}

// URL returns the server's base URL, http://127.0.0.1:<port>.
func (g *GitServer) URL() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return "http://" + g.addr
}

// RepositoryURL returns the clone URL of repository name.
func (g *GitServer) RepositoryURL(name string) string { return g.URL() + "/" + name + ".git" }

// Dir returns the path of repository name's bare repository on disk.
func (g *GitServer) Dir(name string) string { return filepath.Join(g.Root, name+".git") }

// CreateRepository creates the bare repository name. Unless empty is true it
// gets one empty commit on branch (default "main"), so that Porch can
// register it without creating the branch.
func (g *GitServer) CreateRepository(ctx context.Context, name, branch string, empty bool) (string, error) {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return "", fmt.Errorf("%w %q: %s", ErrInvalidRepositoryName, name, strings.Join(errs, "; "))
	}
	if branch == "" {
		branch = "main"
	}
	dir := g.Dir(name)
	if _, err := os.Stat(dir); err == nil {
		return "", fmt.Errorf("porchenv: git repository %q already exists", name)
	}
	steps := [][]string{
		{"init", "--bare", "--initial-branch=" + branch, dir},
		{"--git-dir=" + dir, "config", "http.receivepack", "true"},
	}
	for _, args := range steps {
		if _, err := git(ctx, "", args...); err != nil {
			return "", err
		}
	}
	if !empty {
		tree, err := git(ctx, "", "--git-dir="+dir, "hash-object", "-t", "tree", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		commit, err := git(ctx, "", "--git-dir="+dir, "commit-tree", tree, "-m", "Initial commit")
		if err != nil {
			return "", err
		}
		if _, err := git(ctx, "", "--git-dir="+dir, "update-ref", "refs/heads/"+branch, commit); err != nil {
			return "", err
		}
	}
	return g.RepositoryURL(name), nil
}

func git(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	// Neither the caller's GIT_* variables (e.g. inside a git hook) nor its
	// git configuration (e.g. commit signing) may reach these commands.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=porchenv", "GIT_AUTHOR_EMAIL=porchenv@porchkit.invalid",
		"GIT_COMMITTER_NAME=porchenv", "GIT_COMMITTER_EMAIL=porchenv@porchkit.invalid")
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("porchenv: git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Stop stops serving and waits for the requests in flight to end; their
// connections are closed, as when a real git server goes away. The
// repositories stay on disk.
func (g *GitServer) Stop() error {
	g.mu.Lock()
	srv, done := g.srv, g.done
	g.srv = nil
	g.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-done
	g.inflight.Wait()
	return err
}
