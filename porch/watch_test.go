package porch_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
	"k8s.io/apimachinery/pkg/watch"
)

// TestWatchLatestOnlyIsPerPackagePath: two packages with the same leaf
// name (a/x and b/x) each keep their own latest revision in a LatestOnly
// watch, as in List, and a package's old latest leaves the watch when a
// newer revision is published.
func TestWatchLatestOnlyIsPerPackagePath(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _ := fake.NewClientBuilder().Build(t)
	if _, err := c.Repositories("default").Register(ctx, "blueprints", "http://git.invalid/blueprints.git"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Repositories("default").WaitReady(ctx, "blueprints"); err != nil {
		t.Fatal(err)
	}
	prs := c.PackageRevisions("default")
	publish := func(name string) {
		t.Helper()
		if _, err := prs.Propose(ctx, name); err != nil {
			t.Fatal(err)
		}
		if _, err := prs.Approve(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	ax1, err := prs.Init(ctx, "blueprints", "a/x", "v1")
	if err != nil {
		t.Fatal(err)
	}
	publish(ax1.Name)
	ax2, err := prs.Copy(ctx, ax1.Name, "v2")
	if err != nil {
		t.Fatal(err)
	}
	publish(ax2.Name)
	bx1, err := prs.Init(ctx, "blueprints", "b/x", "v1")
	if err != nil {
		t.Fatal(err)
	}
	publish(bx1.Name)

	w, err := prs.Watch(ctx, porch.LatestOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	in := map[string]bool{}
	var problems []string
	go func() {
		for ev := range w.ResultChan() {
			pr, ok := ev.Object.(*porchapi.PackageRevision)
			if !ok {
				continue
			}
			mu.Lock()
			switch ev.Type {
			case watch.Added:
				if in[pr.Name] {
					problems = append(problems, "second ADDED for "+pr.Name)
				}
				in[pr.Name] = true
			case watch.Modified:
				if !in[pr.Name] {
					problems = append(problems, "MODIFIED before ADDED for "+pr.Name)
				}
			case watch.Deleted:
				if !in[pr.Name] {
					problems = append(problems, "DELETED before ADDED for "+pr.Name)
				}
				delete(in, pr.Name)
			}
			mu.Unlock()
		}
	}()
	watching := func(want ...string) func() (bool, string) {
		return func() (bool, string) {
			mu.Lock()
			defer mu.Unlock()
			var got []string
			for n := range in {
				got = append(got, n)
			}
			sort.Strings(got)
			sort.Strings(want)
			return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprintf("watching %v, want %v", got, want)
		}
	}
	eventually.True(t, 10*time.Second, watching(ax2.Name, bx1.Name))

	bx2, err := prs.Copy(ctx, bx1.Name, "v2")
	if err != nil {
		t.Fatal(err)
	}
	publish(bx2.Name)
	eventually.True(t, 10*time.Second, watching(ax2.Name, bx2.Name))

	latest, err := prs.List(ctx, porch.LatestOnly)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pr := range latest {
		names = append(names, pr.Name)
	}
	if ok, seen := watching(names...)(); !ok {
		t.Errorf("the watch and List disagree on the latest revisions: %s", seen)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Fatalf("the watch's events do not add up: %s", strings.Join(problems, "; "))
	}
}
