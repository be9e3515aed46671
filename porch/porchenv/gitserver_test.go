package porchenv

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nephoran/porchkit/porch"
)

// gitCmd runs git in dir with no credential helper or prompt, so that a
// rejected credential fails instead of asking.
func gitCmd(ctx context.Context, dir string, args ...string) (string, error) {
	full := append([]string{"-C", dir, "-c", "credential.helper=", "-c", "core.askPass=/bin/false"}, args...)
	return git(ctx, "", full...)
}

func TestGitServerServesRealRepositories(t *testing.T) {
	ctx := context.Background()
	g := &GitServer{Root: t.TempDir()}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Stop() })

	url, err := g.CreateRepository(ctx, "blueprints", "main", false)
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(t.TempDir(), "clone")
	if _, err := gitCmd(ctx, ".", "clone", url, work); err != nil {
		t.Fatal(err)
	}
	if branch, _ := gitCmd(ctx, work, "rev-parse", "--abbrev-ref", "HEAD"); branch != "main" {
		t.Errorf("clone is on %q, want main", branch)
	}
	if err := os.WriteFile(filepath.Join(work, "Kptfile"), []byte("kind: Kptfile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"add", "Kptfile"}, {"commit", "-m", "add package"}, {"push", "origin", "main"}} {
		if _, err := gitCmd(ctx, work, args...); err != nil {
			t.Fatal(err)
		}
	}
	// The push reached the bare repository on disk.
	files, err := git(ctx, "", "--git-dir="+g.Dir("blueprints"), "ls-tree", "--name-only", "main")
	if err != nil || files != "Kptfile" {
		t.Fatalf("bare repository holds %q (%v), want Kptfile", files, err)
	}

	if _, err := g.CreateRepository(ctx, "blueprints", "main", false); err == nil {
		t.Error("creating an existing repository succeeded")
	}
	if _, err := g.CreateRepository(ctx, "Not_A_Name", "main", false); !errors.Is(err, ErrInvalidRepositoryName) {
		t.Errorf("err = %v, want ErrInvalidRepositoryName", err)
	}

	// Stopped, the server refuses connections; started again, it serves the
	// same repositories on the same URL.
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := gitCmd(ctx, ".", "ls-remote", url); err == nil {
		t.Fatal("ls-remote succeeded against a stopped git server")
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := gitCmd(ctx, ".", "ls-remote", url); err != nil || !strings.Contains(out, "refs/heads/main") {
		t.Fatalf("ls-remote after restart = %q, %v", out, err)
	}
}

func TestGitServerBasicAuth(t *testing.T) {
	ctx := context.Background()
	g := &GitServer{Root: t.TempDir(), Auth: porch.BasicAuth{Username: "porch", Password: "s3cret"}}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Stop() })
	url, err := g.CreateRepository(ctx, "private", "", false)
	if err != nil {
		t.Fatal(err)
	}
	withCreds := func(user, pw string) string {
		return strings.Replace(url, "http://", "http://"+user+":"+pw+"@", 1)
	}
	resp, err := http.Get(url + "/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous request: %s, WWW-Authenticate %q; want 401 with a challenge", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	if _, err := gitCmd(ctx, ".", "ls-remote", withCreds("porch", "wrong")); err == nil {
		t.Error("ls-remote with a wrong password succeeded")
	}
	if out, err := gitCmd(ctx, ".", "ls-remote", withCreds("porch", "s3cret")); err != nil || !strings.Contains(out, "refs/heads/main") {
		t.Errorf("ls-remote with the right credentials = %q, %v", out, err)
	}
}

func TestGitServerEmptyRepository(t *testing.T) {
	ctx := context.Background()
	g := &GitServer{Root: t.TempDir()}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Stop() })
	url, err := g.CreateRepository(ctx, "empty", "main", true)
	if err != nil {
		t.Fatal(err)
	}
	out, err := gitCmd(ctx, ".", "ls-remote", url)
	if err != nil || out != "" {
		t.Errorf("ls-remote of an empty repository = %q, %v; want no refs", out, err)
	}
}
