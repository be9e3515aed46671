package porch

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/watch"
)

// TestCacheWatchBacksOffWhenWatchesEnd: a server that ends every watch at
// once does not make the cache open watches in a hot loop.
func TestCacheWatchBacksOffWhenWatchesEnd(t *testing.T) {
	var opened atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	rc := newReadCache(ctx, nil, func(context.Context, string) (watch.Interface, error) {
		opened.Add(1)
		return watch.NewEmptyWatch(), nil
	}, cacheConfig{size: 8, log: logr.Discard(), inst: nopInstrumentation{}})
	rc.begin("ns")
	time.Sleep(time.Second)
	cancel()
	rc.close()
	// 200 ms doubling: at most 4 openings in a second; a hot loop makes
	// thousands.
	if n := opened.Load(); n < 1 || n > 6 {
		t.Fatalf("%d watches opened in one second of watches that end at once", n)
	}
}
