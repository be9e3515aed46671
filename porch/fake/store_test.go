package fake_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// blocked waits until ctx ends or 10 s pass and reports ctx's error, nil
// when it never ended.
func blocked(ctx context.Context) error {
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// receive returns what ch delivers within 20 s.
func receive(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("nothing delivered in 20 s")
		return nil
	}
}

// TestRendererGetsTheRequestContext: the renderer runs with the request's
// context, which ends when the client gives up.
func TestRendererGetsTheRequestContext(t *testing.T) {
	ended := make(chan error, 1)
	r := fake.RendererFunc(func(ctx context.Context, in map[string]string) (map[string]string, *porchapi.RenderStatus, error) {
		if strings.Contains(in["Kptfile"], "# block") {
			ended <- blocked(ctx)
			return nil, nil, errors.New("abandoned")
		}
		return in, nil, nil
	})
	prs, _, name := newDraft(t, fake.NewClientBuilder().WithRenderer(r))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := prs.UpdateResources(ctx, name, func(p *porch.Package) error {
		p.Resources["Kptfile"] += "# block\n"
		return nil
	}); err == nil {
		t.Fatal("a push whose client gave up succeeded")
	}
	if err := receive(t, ended); err == nil {
		t.Fatal("the renderer's context did not end with the request")
	}
}

// TestGitFetcherGetsTheRequestContext: the git fetcher runs with the
// request's context, which ends when the client gives up.
func TestGitFetcherGetsTheRequestContext(t *testing.T) {
	ended := make(chan error, 1)
	g := fake.GitFetcherFunc(func(ctx context.Context, url, ref, dir string) (map[string]string, string, error) {
		ended <- blocked(ctx)
		return nil, "", errors.New("abandoned")
	})
	prs, _, _ := newDraft(t, fake.NewClientBuilder().WithGitFetcher(g))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := prs.Clone(ctx, porch.FromGit("https://git.example.com/upstream.git", "main", "app"), "blueprints", "copy", "v1"); err == nil {
		t.Fatal("a clone whose client gave up succeeded")
	}
	if err := receive(t, ended); err == nil {
		t.Fatal("the git fetcher's context did not end with the request")
	}
}

// TestSlowWriteHoldsNoLock: during a write's latency the store is not
// locked (reads and other writes are served), and a write whose revision
// went away meanwhile, with its repository, answers NotFound instead of
// writing to the revision it found before the wait.
func TestSlowWriteHoldsNoLock(t *testing.T) {
	started := make(chan struct{}, 1)
	signal := func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
		select {
		case started <- struct{}{}:
		default:
		}
		return next(ctx, req)
	}
	_, srv, name := newDraft(t, fake.NewClientBuilder().WithWriteLatency(time.Second).WithFuncs(fake.Funcs{Update: signal}))
	host := srv.Config().Host
	resources := host + "/apis/porch.kpt.dev/v1alpha1/namespaces/default/packagerevisionresources/" + name
	resp, err := plain.Get(resources)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()

	written := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPut, resources, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := plain.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				err = errors.New(resp.Status)
			}
		}
		written <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the write never reached the fake")
	}
	if code, _, _, err := get(t, srv, revPath); err != nil || code != http.StatusOK {
		t.Fatalf("a read during the write: %d %v", code, err)
	}
	req, _ := http.NewRequest(http.MethodDelete, host+"/apis/config.porch.kpt.dev/v1alpha1/namespaces/default/repositories/blueprints", nil)
	resp, err = plain.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("deleting the repository during the write: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	select {
	case err := <-written:
		t.Fatalf("the write finished (%v) before the reads and writes it should not block", err)
	default:
	}
	if err := receive(t, written); err != nil {
		t.Fatalf("the write after its repository's deletion: %v, want 404 Not Found", err)
	}
}

// TestAbandonedSlowWriteLetsTheObjectGo: a write whose client gives up
// during the write latency frees the object at once, so the next write is
// not answered "already in progress".
func TestAbandonedSlowWriteLetsTheObjectGo(t *testing.T) {
	prs, _, name := newDraft(t, fake.NewClientBuilder().WithWriteLatency(time.Second))
	gone, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := prs.UpdateMetadata(gone, name, func(pr *porchapi.PackageRevision) error {
		pr.Labels = map[string]string{"try": "1"}
		return nil
	}); err == nil {
		t.Fatal("a write whose client gave up during the latency succeeded")
	}
	if _, err := prs.UpdateMetadata(context.Background(), name, func(pr *porchapi.PackageRevision) error {
		pr.Labels = map[string]string{"try": "2"}
		return nil
	}); err != nil {
		t.Fatalf("the next write after an abandoned one: %v", err)
	}
}
