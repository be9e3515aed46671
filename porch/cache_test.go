package porch_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"go.uber.org/goleak"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

func TestCacheServesRepeatedReads(t *testing.T) {
	rec := newRecorder()
	prs, f := newFakeRepo(t, porch.Options{Instrumentation: rec})
	ctx := context.Background()
	d, _ := prs.Init(ctx, "blueprints", "app", "v1")
	waitCached(t, func() error { _, err := prs.Get(ctx, d.Name); return err }, f)
	before := f.Requests()
	for i := 0; i < 10; i++ {
		if _, err := prs.Get(ctx, d.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := prs.List(ctx, porch.InRepository("blueprints")); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.Requests() - before; n > 1 {
		t.Fatalf("%d requests for 20 repeated reads", n)
	}
	if rec.snapshot().hits < 18 {
		t.Fatalf("cache hits %d", rec.snapshot().hits)
	}
}

// waitCached repeats read until the cache serves it (the watch that keeps
// it current must be running first).
func waitCached(t *testing.T, read func() error, f *fake.Server) {
	t.Helper()
	eventually.True(t, 5*time.Second, func() (bool, string) {
		if err := read(); err != nil {
			return false, err.Error()
		}
		before := f.Requests()
		if err := read(); err != nil {
			return false, err.Error()
		}
		return f.Requests() == before, "a repeated read still went to the server: not served from the cache"
	})
}

func TestCacheNeverStaleAfterOwnWrite(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	d, _ := prs.Init(ctx, "blueprints", "app", "v1")
	waitCached(t, func() error { _, err := prs.Get(ctx, d.Name); return err }, f)
	if _, err := prs.Propose(ctx, d.Name); err != nil {
		t.Fatal(err)
	}
	got, err := prs.Get(ctx, d.Name)
	if err != nil || got.Spec.Lifecycle != porchapi.PackageRevisionLifecycleProposed {
		t.Fatalf("read after own write: %v %v", got.Spec.Lifecycle, err)
	}
	if _, err := prs.Pull(ctx, d.Name); err != nil { // cached now
		t.Fatal(err)
	}
	if _, err := prs.Reject(ctx, d.Name); err != nil {
		t.Fatal(err)
	}
	pkg, _ := prs.Pull(ctx, d.Name)
	pkg.Resources["x.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
	if _, err := prs.Push(ctx, pkg); err != nil {
		t.Fatal(err)
	}
	again, _ := prs.Pull(ctx, d.Name)
	if _, ok := again.Resources["x.yaml"]; !ok || again.ResourceVersion != pkg.ResourceVersion {
		t.Fatal("pull after own push returned the old files")
	}
	list, _ := prs.List(ctx, porch.InRepository("blueprints"))
	if len(list) != 1 || list[0].ResourceVersion != pkg.ResourceVersion {
		t.Fatal("list after own push is stale")
	}
}

func TestCacheSeesOtherClientsThroughWatch(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	other, err := porch.New(f.Config(), porch.Options{Cache: porch.CacheOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	waitCached(t, func() error { _, err := prs.List(ctx); return err }, f)
	if _, err := other.PackageRevisions("default").Init(ctx, "blueprints", "app", "v1"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 5*time.Second, func() (bool, string) {
		list, err := prs.List(ctx)
		if err != nil {
			return false, err.Error()
		}
		return len(list) == 1, fmt.Sprintf("the cached list has %d revisions after another client's create, want 1", len(list))
	})
}

func TestCloseEndsGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f, err := fake.NewClientBuilder().BuildServer()
	if err != nil {
		t.Fatal(err)
	}
	c, err := porch.New(f.Config(), porch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	prs := c.PackageRevisions("default")
	if _, err := prs.List(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := prs.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for range w.ResultChan() {
	}
	c.Close()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// Porch keeps the resourceVersion when another client changes only the
// labels of a Published revision; the cache must still notice.
func TestCacheSeesMetadataOnlyChanges(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	d, _ := prs.Init(ctx, "blueprints", "app", "v1")
	if _, err := prs.Propose(ctx, d.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Approve(ctx, d.Name); err != nil {
		t.Fatal(err)
	}
	waitCached(t, func() error { _, err := prs.Get(ctx, d.Name); return err }, f)
	other, err := porch.New(f.Config(), porch.Options{Cache: porch.CacheOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	before, _ := prs.Get(ctx, d.Name)
	changed, err := other.PackageRevisions("default").UpdateMetadata(ctx, d.Name, func(pr *porchapi.PackageRevision) error {
		pr.Labels["audited"] = "yes"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if changed.ResourceVersion != before.ResourceVersion {
		t.Fatalf("test premise: the fake changed the resourceVersion of a Published revision's metadata update")
	}
	eventually.True(t, 5*time.Second, func() (bool, string) {
		got, err := prs.Get(ctx, d.Name)
		if err != nil {
			return false, err.Error()
		}
		return got.Labels["audited"] == "yes", fmt.Sprintf("labels %v: a metadata-only change by another client has not reached the cache", got.Labels)
	})
}

// TestCacheKeepsOtherPackagesAcrossWrites: a write drops only what it can
// change (the revisions of packages with its leaf name, whose latest label
// Porch recomputes): a cached revision of another package of the same
// repository is still served without a request, and an older revision of
// the same package is read again and loses the latest label.
func TestCacheKeepsOtherPackagesAcrossWrites(t *testing.T) {
	prs, f := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	db, err := prs.Init(ctx, "blueprints", "db", "v1")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []func(context.Context, string) (*porchapi.PackageRevision, error){prs.Propose, prs.Approve} {
		if _, err := verb(ctx, v1.Name); err != nil {
			t.Fatal(err)
		}
	}
	waitCached(t, func() error { _, err := prs.Get(ctx, db.Name); return err }, f)
	waitCached(t, func() error { _, err := prs.Get(ctx, v1.Name); return err }, f)
	if got, _ := prs.Get(ctx, v1.Name); got.Labels[porchapi.LatestPackageRevisionKey] != porchapi.LatestPackageRevisionValue {
		t.Fatal("v1 should be the latest revision before v2 is published")
	}

	v2, err := prs.Copy(ctx, v1.Name, "v2")
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []func(context.Context, string) (*porchapi.PackageRevision, error){prs.Propose, prs.Approve} {
		if _, err := verb(ctx, v2.Name); err != nil {
			t.Fatal(err)
		}
	}
	before := f.Requests()
	if got, err := prs.Get(ctx, db.Name); err != nil || got.Name != db.Name {
		t.Fatalf("get of another package: %v", err)
	}
	if n := f.Requests() - before; n != 0 {
		t.Errorf("a write to package app sent %d requests for a cached revision of package db", n)
	}
	got, err := prs.Get(ctx, v1.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels[porchapi.LatestPackageRevisionKey] == porchapi.LatestPackageRevisionValue {
		t.Error("v1 still shows the latest label after v2 was published: stale cache")
	}
}
