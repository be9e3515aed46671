package porch

import (
	"context"
	"sync"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/watch"
)

func (p *packageRevisions) Watch(ctx context.Context, opts ...ListOption) (watch.Interface, error) {
	o := newListOptions(opts)
	raw, err := p.c.srv.watchRevisions(ctx, "watch", p.ns, o)
	if err != nil {
		return nil, err
	}
	w := &filteredWatch{raw: raw, opts: o, out: make(chan watch.Event), done: make(chan struct{}), seen: map[string]bool{}}
	go w.run(ctx)
	return w, nil
}

// filteredWatch applies ListOptions to every event of Porch's watch, which
// filters only the first burst of events.
type filteredWatch struct {
	raw  watch.Interface
	opts ListOptions
	out  chan watch.Event
	done chan struct{}
	once sync.Once
	seen map[string]bool
}

func (w *filteredWatch) Stop() {
	w.once.Do(func() { close(w.done) })
}

func (w *filteredWatch) ResultChan() <-chan watch.Event { return w.out }

func (w *filteredWatch) run(ctx context.Context) {
	defer close(w.out)
	defer w.raw.Stop()
	in := w.raw.ResultChan()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.done:
			return
		case ev, ok := <-in:
			if !ok {
				return
			}
			out, send := w.translate(ev)
			if !send {
				continue
			}
			select {
			case w.out <- out:
			case <-ctx.Done():
				return
			case <-w.done:
				return
			}
		}
	}
}

// translate turns one Porch event into what a selector-respecting watch
// would deliver.
func (w *filteredWatch) translate(ev watch.Event) (watch.Event, bool) {
	pr, ok := ev.Object.(*porchapi.PackageRevision)
	if !ok {
		return ev, ev.Type == watch.Error
	}
	matches := w.opts.Matches(pr) && (!w.opts.LatestOnly || pr.Labels[porchapi.LatestPackageRevisionKey] == porchapi.LatestPackageRevisionValue)
	seen := w.seen[pr.Name]
	switch ev.Type {
	case watch.Added, watch.Modified:
		switch {
		case matches && seen:
			return watch.Event{Type: watch.Modified, Object: pr}, true
		case matches:
			w.seen[pr.Name] = true
			return watch.Event{Type: watch.Added, Object: pr}, true
		case seen:
			delete(w.seen, pr.Name)
			return watch.Event{Type: watch.Deleted, Object: pr}, true
		}
	case watch.Deleted:
		if seen {
			delete(w.seen, pr.Name)
			return ev, true
		}
	}
	return ev, false
}
