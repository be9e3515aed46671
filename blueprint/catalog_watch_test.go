package blueprint_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/nephoran/porchkit/blueprint"
	"github.com/nephoran/porchkit/porch"
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
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
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
	write(t, dir, "amf/v1/Kptfile", kptfile("amf", nil))
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
	write(t, dir, "amf/v1/cm.yaml", configMap("amf", "new"))
	if _, err := cat.Load(ctx, e); !errors.Is(err, blueprint.ErrStaleEntry) {
		t.Errorf("Load of a changed entry: %v", err)
	}
	if b, err := cat.Get(ctx, blueprint.Ref{Name: "amf", Version: "1.0.0"}); err != nil || b.Files["cm.yaml"] == "" {
		t.Errorf("Get after the change: %v, %v", b, err)
	}
}
