package blueprint_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"go.uber.org/goleak"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nephoran/porchkit/blueprint"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// After the server goes away and comes back, the watch is opened again
// and new revisions still reach the catalog.
func TestCatalogWatchSurvivesOutage(t *testing.T) {
	f := amfRepository(t, porch.Options{Cache: porch.CacheOptions{Disabled: true}, Retry: porch.RetryOptions{Disabled: true}})
	cat := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	if _, err := cat.Resolve(f.ctx, "amf", "^1"); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	// With the watch lost, the listing is not served from the cache: the
	// catalog reports that Porch cannot be read.
	eventually(t, "the outage seen", func() (bool, string) {
		_, err := cat.List(f.ctx, blueprint.Filter{})
		return err != nil, fmt.Sprint(err)
	})
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}
	f.publish("blueprints", "amf", "v4", nil)
	eventually(t, "amf v4 after the outage", func() (bool, string) {
		e, err := cat.Resolve(f.ctx, "amf", "^4")
		if err != nil {
			return false, err.Error()
		}
		return e.Location == "blueprints.amf.v4", e.Location
	})
}

// Lists, resolutions and loads run concurrently with publications; the
// race detector checks the catalog's state.
func TestCatalogConcurrentUse(t *testing.T) {
	f := amfRepository(t, porch.Options{})
	cat := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	ctx, cancel := context.WithCancel(f.ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := cat.List(ctx, blueprint.Filter{Name: "amf"}); err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
				if _, err := cat.Get(ctx, blueprint.Ref{Name: "amf", Version: "^1"}); err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, ws := range []string{"v5", "v6", "v7"} {
		f.publish("blueprints", "amf", ws, nil)
	}
	eventually(t, "amf v7", func() (bool, string) {
		e, err := cat.Resolve(f.ctx, "amf", "")
		if err != nil {
			return false, err.Error()
		}
		return e.Version.String() == "7.0.0", e.Version.String()
	})
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Close ends the watches; no goroutine of the catalog is left.
func TestCatalogCloseEndsWatches(t *testing.T) {
	f := amfRepository(t, porch.Options{})
	// HTTP keep-alive connections to the fake are the transport's, not the
	// catalog's; the watch and its translation goroutines must be gone.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"))
	src, err := blueprint.NewPorchSource(f.c, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := blueprint.NewCatalog(f.ctx, blueprint.CatalogOptions{}, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Resolve(f.ctx, "amf", ""); err != nil {
		t.Fatal(err)
	}
	cat.Close()
}

// A directory entry whose files changed since it was listed, read without
// a cache, is refused rather than served under the old version.
func TestCatalogStaleEntry(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "amf/v1/Kptfile", kptfile("amf", nil))
	ctx := context.Background()
	src, err := blueprint.NewDirSource(ctx, dir, blueprint.DirOptions{NoGitTags: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(src.Name(), "dir:") {
		t.Errorf("default name %q", src.Name())
	}
	cat, err := blueprint.NewCatalog(ctx, blueprint.CatalogOptions{DisableCache: true}, src)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	e, err := cat.Resolve(ctx, "amf", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "amf/v1/cm.yaml", configMap("amf", "new"))
	if _, err := cat.Load(ctx, e); !errors.Is(err, blueprint.ErrStaleEntry) {
		t.Errorf("Load of a changed entry: %v", err)
	}
	if b, err := cat.Get(ctx, blueprint.Ref{Name: "amf", Version: "1.0.0"}); err != nil || b.Files["cm.yaml"] == "" {
		t.Errorf("Get after the change: %v, %v", b, err)
	}
}

// Porch changes a Published revision's labels without a new
// resourceVersion; the catalog shows the new labels all the same.
func TestCatalogRevisionLabelsRefresh(t *testing.T) {
	f := amfRepository(t, porch.Options{})
	cat := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	if _, err := cat.List(f.ctx, blueprint.Filter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.PackageRevisions(catalogNS).UpdateMetadata(f.ctx, "blueprints.amf.v1", func(pr *porchapi.PackageRevision) error {
		pr.Labels = map[string]string{"tier": "gold", blueprint.TypeAnnotation: "network-function"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sel, err := labels.Parse("tier=gold")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "amf v1 with its label", func() (bool, string) {
		es, err := cat.List(f.ctx, blueprint.Filter{Labels: sel, Type: "network-function"})
		if err != nil {
			t.Fatal(err)
		}
		return len(versions(es)) == 1 && es[0].Location == "blueprints.amf.v1", strings.Join(versions(es), ",")
	})
}

// flakySource is a watching source with one package whose first reads
// fail.
type flakySource struct {
	started chan struct{}
	mu      sync.Mutex
	fails   int
	reads   int
}

func (s *flakySource) Name() string { return "flaky" }

func (s *flakySource) Scan(context.Context) ([]blueprint.Candidate, error) {
	return []blueprint.Candidate{{Name: "amf", Location: "amf", Key: "k1", Published: true, Workspace: "v1"}}, nil
}

func (s *flakySource) Files(context.Context, string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.fails > 0 {
		s.fails--
		return nil, errors.New("connection reset")
	}
	return map[string]string{"Kptfile": kptfile("amf", nil)}, nil
}

func (s *flakySource) Watch(ctx context.Context, notify func(blueprint.WatchEvent)) {
	notify(blueprint.WatchStarted)
	close(s.started)
	<-ctx.Done()
}

func (s *flakySource) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// A package whose files cannot be read is left out of that listing and
// named in Skipped, but the listing is not kept although the watch reports
// nothing new: the next call reads the package again.
func TestCatalogReadFailureNotCached(t *testing.T) {
	src := &flakySource{fails: 2, started: make(chan struct{})}
	ctx := context.Background()
	cat, err := blueprint.NewCatalog(ctx, blueprint.CatalogOptions{}, src)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	<-src.started
	es, err := cat.List(ctx, blueprint.Filter{})
	if err != nil || len(es) != 0 {
		t.Fatalf("first listing: %v, %v", versions(es), err)
	}
	skipped, err := cat.Skipped(ctx) // reads again: the second failure
	if err != nil || len(skipped) != 1 || !strings.Contains(skipped[0].Err.Error(), "connection reset") {
		t.Fatalf("skipped: %v, %v", skipped, err)
	}
	es, err = cat.List(ctx, blueprint.Filter{})
	if err != nil || len(es) != 1 {
		t.Fatalf("listing after the failures: %v, %v", versions(es), err)
	}
	reads := src.readCount()
	if _, err := cat.List(ctx, blueprint.Filter{}); err != nil || src.readCount() != reads {
		t.Errorf("a complete listing is cached: %d reads, then %d, %v", reads, src.readCount(), err)
	}
}

// A revision cloned from a git tag, in a workspace that names no version,
// takes its version from the tag its upstream lock records.
func TestCatalogVersionFromUpstreamLock(t *testing.T) {
	fetcher := fake.GitFetcherFunc(func(_ context.Context, url, ref, dir string) (map[string]string, string, error) {
		return map[string]string{"Kptfile": kptfile("amf", nil), "cm.yaml": configMap("amf", ref)}, "0123456789abcdef0123456789abcdef01234567", nil
	})
	c, _ := fake.NewClientBuilder().WithGitFetcher(fetcher).Build(t)
	ctx := context.Background()
	if _, err := c.Repositories(catalogNS).Register(ctx, "blueprints", "https://git.example.com/blueprints.git"); err != nil {
		t.Fatal(err)
	}
	prs := c.PackageRevisions(catalogNS)
	for _, ws := range []string{"imported", "later"} {
		ref := map[string]string{"imported": "amf/v1.3.0", "later": "refs/tags/amf/v1.4.2"}[ws]
		d, err := prs.Clone(ctx, porch.FromGit("https://git.example.com/upstream.git", ref, "amf"), "blueprints", "amf", ws)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := prs.Propose(ctx, d.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := prs.Approve(ctx, d.Name); err != nil {
			t.Fatal(err)
		}
	}
	src, err := blueprint.NewPorchSource(c, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := blueprint.NewCatalog(ctx, blueprint.CatalogOptions{}, src)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	es, err := cat.List(ctx, blueprint.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(es); len(got) != 2 || got[0] != "amf@1.4.2" || got[1] != "amf@1.3.0" ||
		es[0].VersionFrom != blueprint.VersionFromGitTag || es[1].Location != "blueprints.amf.imported" {
		t.Errorf("entries %v", es)
	}
}
