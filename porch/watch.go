package porch

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/watch"
)

func (p *packageRevisions) Watch(ctx context.Context, opts ...ListOption) (watch.Interface, error) {
	return p.c.srv.watchRevisions(ctx, "watch", p.ns, newListOptions(opts))
}

// translatedWatch delivers, for every event of a raw watch, the events
// translate returns, until ctx ends, Stop is called or the raw watch ends.
type translatedWatch struct {
	raw       watch.Interface
	translate func(watch.Event) []watch.Event
	out       chan watch.Event
	done      chan struct{}
	once      sync.Once
}

func newTranslatedWatch(ctx context.Context, raw watch.Interface, translate func(watch.Event) []watch.Event) *translatedWatch {
	w := &translatedWatch{raw: raw, translate: translate, out: make(chan watch.Event), done: make(chan struct{})}
	go w.run(ctx)
	return w
}

// Stop implements watch.Interface.
func (w *translatedWatch) Stop() {
	w.once.Do(func() { close(w.done) })
}

// ResultChan implements watch.Interface.
func (w *translatedWatch) ResultChan() <-chan watch.Event { return w.out }

func (w *translatedWatch) run(ctx context.Context) {
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
			for _, out := range w.translate(ev) {
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
}
