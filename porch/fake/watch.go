package fake

import (
	"encoding/json"
	"net/http"
	"sync"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/watch"
)

// watcher is one open watch: an unbounded queue of events for a namespace.
type watcher struct {
	namespace string
	mu        sync.Mutex
	queue     []watch.Event
	wake      chan struct{}
	closed    bool
}

func (w *watcher) push(ev watch.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.queue = append(w.queue, ev)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) take() ([]watch.Event, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue
	w.queue = nil
	return q, w.closed
}

// emit sends an event to every watch of the namespace. Like Porch, events
// after the first burst are not filtered by selectors. Called with s.mu
// held.
func (s *store) emit(ns string, t watch.EventType, pr *porchapi.PackageRevision) {
	for w := range s.watchers {
		if w.namespace == ns {
			w.push(watch.Event{Type: t, Object: pr.DeepCopy()})
		}
	}
}

func (s *store) closeWatchers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.watchers {
		w.close()
	}
}

// serveWatch streams events as Porch does: ADDED for every current match of
// the selectors, then every event of the namespace. No bookmarks.
func (srv *Server) serveWatch(w http.ResponseWriter, req *http.Request, r route) {
	q := req.URL.Query()
	filter, err := parseSelectors(q.Get("fieldSelector"), q.Get("labelSelector"))
	if err != nil {
		writeStatus(w, err)
		return
	}
	wt := &watcher{namespace: r.namespace, wake: make(chan struct{}, 1)}
	s := srv.store
	s.mu.Lock()
	for _, rev := range s.listRevisions(r.namespace, filter) {
		wt.queue = append(wt.queue, watch.Event{Type: watch.Added, Object: s.view(rev)})
	}
	s.watchers[wt] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.watchers, wt)
		s.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		events, closed := wt.take()
		for _, ev := range events {
			if err := enc.Encode(struct {
				Type   watch.EventType `json:"type"`
				Object any             `json:"object"`
			}{ev.Type, ev.Object}); err != nil {
				return
			}
		}
		if flusher != nil && len(events) > 0 {
			flusher.Flush()
		}
		if closed {
			return
		}
		select {
		case <-wt.wake:
		case <-req.Context().Done():
			return
		}
	}
}
