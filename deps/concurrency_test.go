package deps

import (
	"context"
	"sync"
	"testing"
)

// TestConcurrentResolves runs resolutions in parallel (run with -race).
func TestConcurrentResolves(t *testing.T) {
	u := fiveGC(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := Request{Roots: roots("amf", "upf")}
			if i%2 == 1 {
				r = Request{Roots: roots("amf 2.x", "smf =1.4")} // unsatisfiable: explanation path
			}
			_, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, r)
			if i%2 == 0 && err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
