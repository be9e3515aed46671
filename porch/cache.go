package porch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	lru "github.com/hashicorp/golang-lru/v2"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
)

// readCache holds package revisions, their resources and list results, per
// namespace. It is invalidated synchronously by the client's own writes and
// asynchronously by a watch per namespace. Entries are stored only while that
// namespace's watch is running, and only if no invalidation happened while
// they were being fetched, so a read never returns an object older than a
// write this client completed before the read began.
type readCache struct {
	// seq numbers watch events; writes note it before they are sent.
	seq uint64
	// source is where reads the cache cannot serve go.
	source revisionReader
	// watchNamespace opens a watch of every revision of a namespace.
	watchNamespace func(ctx context.Context, namespace string) (watch.Interface, error)
	// ctx ends the cache's watches.
	ctx  context.Context
	log  logr.Logger
	inst Instrumentation
	ttl  time.Duration
	lru  *lru.Cache[string, cacheEntry]

	mu         sync.Mutex
	namespaces map[string]*namespaceCache
	wg         sync.WaitGroup
}

type namespaceCache struct {
	// generation increases on every invalidation in the namespace.
	generation uint64
	watching   bool
	started    bool
	// known holds the fingerprint of each revision as the cache last stored
	// it, so that events that change nothing (Porch sends them when other
	// clients merely read a repository) do not empty the cache.
	known map[string]string
	// events holds the last event seen per revision, to tell a write's
	// echo from a later change when the write's answer arrives after it.
	events map[string]seenEvent
}

type seenEvent struct {
	seq         uint64
	fingerprint string
	deleted     bool
}

// cacheEntry is a cached value and when it was stored.
type cacheEntry struct {
	value  any
	stored time.Time
}

// cacheConfig holds a readCache's settings.
type cacheConfig struct {
	size int
	ttl  time.Duration
	log  logr.Logger
	inst Instrumentation
}

// newReadCache returns a cache in front of source whose watches run until
// ctx ends. cfg.size must be positive.
func newReadCache(ctx context.Context, source revisionReader,
	watchNamespace func(ctx context.Context, namespace string) (watch.Interface, error), cfg cacheConfig) *readCache {
	l, err := lru.New[string, cacheEntry](cfg.size)
	if err != nil {
		panic(err) // only for size <= 0, which New never passes
	}
	return &readCache{source: source, watchNamespace: watchNamespace, ctx: ctx, log: cfg.log, inst: cfg.inst,
		ttl: cfg.ttl, lru: l, namespaces: map[string]*namespaceCache{}}
}

// getRevision serves a revision from the cache, or reads it from the source.
func (rc *readCache) getRevision(ctx context.Context, op, namespace, name string) (*porchapi.PackageRevision, error) {
	return cachedRead(ctx, rc, kindPackageRevision, namespace, name, func(ctx context.Context) (*porchapi.PackageRevision, error) {
		return rc.source.getRevision(ctx, op, namespace, name)
	}, (*porchapi.PackageRevision).DeepCopy)
}

// listRevisions serves a list from the cache, or reads it from the source.
func (rc *readCache) listRevisions(ctx context.Context, op, namespace string, o ListOptions) ([]porchapi.PackageRevision, error) {
	return cachedRead(ctx, rc, kindList, namespace, kindPackageRevision+"?"+o.key(), func(ctx context.Context) ([]porchapi.PackageRevision, error) {
		return rc.source.listRevisions(ctx, op, namespace, o)
	}, deepCopyRevisions)
}

// getResources serves a revision's files from the cache, or reads them from
// the source.
func (rc *readCache) getResources(ctx context.Context, op, namespace, name string) (*porchapi.PackageRevisionResources, error) {
	return cachedRead(ctx, rc, kindResources, namespace, name, func(ctx context.Context) (*porchapi.PackageRevisionResources, error) {
		return rc.source.getResources(ctx, op, namespace, name)
	}, (*porchapi.PackageRevisionResources).DeepCopy)
}

func deepCopyRevisions(in []porchapi.PackageRevision) []porchapi.PackageRevision {
	out := make([]porchapi.PackageRevision, len(in))
	for i := range in {
		in[i].DeepCopyInto(&out[i])
	}
	return out
}

// get returns a fresh entry's value.
func (rc *readCache) get(key string) (any, bool) {
	e, ok := rc.lru.Get(key)
	if !ok {
		return nil, false
	}
	if rc.ttl > 0 && time.Since(e.stored) > rc.ttl {
		rc.lru.Remove(key)
		return nil, false
	}
	return e.value, true
}

func cacheKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// cachedRead returns a cached value or calls fetch and stores its result.
// copyOut must return a deep copy so callers cannot modify the cache.
func cachedRead[T any](ctx context.Context, rc *readCache, kind, namespace, name string, fetch func(context.Context) (T, error), copyOut func(T) T) (T, error) {
	key := cacheKey(kind, namespace, name)
	gen, watching := rc.begin(namespace)
	if watching {
		if v, ok := rc.get(key); ok {
			rc.inst.CacheLookup(kind, true)
			return copyOut(v.(T)), nil
		}
	}
	rc.inst.CacheLookup(kind, false)
	v, err := fetch(ctx)
	if err != nil {
		return v, err
	}
	rc.store(namespace, gen, key, copyOut(v))
	return v, nil
}

// begin returns the namespace's generation and whether its watch runs,
// starting the watch on first use.
func (rc *readCache) begin(namespace string) (uint64, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ns := rc.ns(namespace)
	if !ns.started && rc.ctx.Err() == nil {
		ns.started = true
		rc.wg.Add(1)
		go rc.watch(namespace)
	}
	return ns.generation, ns.watching
}

func (rc *readCache) ns(namespace string) *namespaceCache {
	ns, ok := rc.namespaces[namespace]
	if !ok {
		ns = &namespaceCache{known: map[string]string{}, events: map[string]seenEvent{}}
		rc.namespaces[namespace] = ns
	}
	return ns
}

func (rc *readCache) store(namespace string, gen uint64, key string, v any) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ns := rc.ns(namespace)
	if ns.watching && ns.generation == gen {
		rc.lru.Add(key, cacheEntry{value: v, stored: time.Now()})
		ns.remember(v)
	}
}

// remember records the fingerprints of the revisions in v.
func (ns *namespaceCache) remember(v any) {
	switch x := v.(type) {
	case *porchapi.PackageRevision:
		ns.known[x.Name] = fingerprint(x)
	case []porchapi.PackageRevision:
		for i := range x {
			ns.known[x[i].Name] = fingerprint(&x[i])
		}
	}
}

// fingerprint covers what a read shows of a revision and can change
// without a new resourceVersion (metadata of Published revisions).
func fingerprint(pr *porchapi.PackageRevision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%d|%v|%v|%v|%v", pr.ResourceVersion, pr.Spec.Lifecycle, pr.Spec.Revision,
		pr.Labels, pr.Annotations, pr.Finalizers, pr.DeletionTimestamp)
	return b.String()
}

// unchanged records an event and reports whether it shows a revision
// exactly as the cache last stored it.
func (rc *readCache) unchanged(namespace string, ev watch.Event) bool {
	pr, ok := ev.Object.(*porchapi.PackageRevision)
	if !ok {
		return false
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ns := rc.ns(namespace)
	rc.seq++
	fp := fingerprint(pr)
	ns.events[pr.Name] = seenEvent{seq: rc.seq, fingerprint: fp, deleted: ev.Type == watch.Deleted}
	if ev.Type == watch.Deleted {
		return false
	}
	known, ok := ns.known[pr.Name]
	return ok && known == fp
}

// mark returns the event sequence number before a write is sent.
func (rc *readCache) mark() uint64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.seq
}

// invalidate drops the entries a change of the named revision can affect:
// the namespace's lists, and the revisions (and their resources) of its
// repository that share its package's leaf name. Porch recomputes the
// latest-revision label per leaf name across a repository, and moves the
// placeholder revision on approval, without events for those others.
// changed is the revision (or its resources) when the caller has it; else
// the cached copy tells the package, and failing both the whole repository
// is dropped. An empty name drops the whole namespace.
func (rc *readCache) invalidate(namespace, name string, changed any) {
	if rc == nil {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.ns(namespace).generation++
	repoPrefix := ""
	if repo, _, ok := strings.Cut(name, "."); ok {
		repoPrefix = repo + "."
	} else {
		repoPrefix = name
	}
	leaf, known := packageLeaf(changed)
	if !known && name != "" {
		for _, kind := range []string{kindPackageRevision, kindResources} {
			if e, ok := rc.lru.Peek(cacheKey(kind, namespace, name)); ok && !known {
				leaf, known = packageLeaf(e.value)
			}
		}
	}
	prefixList := cacheKey(kindList, namespace, "")
	for _, k := range rc.lru.Keys() {
		switch {
		case strings.HasPrefix(k, prefixList),
			name == "" && inNamespace(k, namespace):
			rc.lru.Remove(k)
		case strings.HasPrefix(k, cacheKey(kindPackageRevision, namespace, repoPrefix)),
			strings.HasPrefix(k, cacheKey(kindResources, namespace, repoPrefix)):
			if !known {
				rc.lru.Remove(k)
				continue
			}
			if e, ok := rc.lru.Peek(k); ok {
				if l, ok := packageLeaf(e.value); !ok || l == leaf {
					rc.lru.Remove(k)
				}
			}
		}
	}
}

// packageLeaf returns the last path segment of the package of a cached
// revision or its resources.
func packageLeaf(v any) (string, bool) {
	var pkg string
	switch x := v.(type) {
	case *porchapi.PackageRevision:
		pkg = x.Spec.PackageName
	case *porchapi.PackageRevisionResources:
		pkg = x.Spec.PackageName
	default:
		return "", false
	}
	if pkg == "" {
		return "", false
	}
	return pkg[strings.LastIndex(pkg, "/")+1:], true
}

// watch keeps the namespace's entries current until the cache's context
// ends. Porch streams every event of the namespace regardless of selectors,
// and resends ADDED for every object when a watch starts, so any event
// simply invalidates that object and the namespace's lists. A watch that
// fails or ends is opened again after a backoff, which starts over once a
// watch has run for watchHealthyAfter: never a hot loop.
func (rc *readCache) watch(namespace string) {
	defer rc.wg.Done()
	ctx := rc.ctx
	delay := cacheWatchBackoff.DelayFunc()
	for ctx.Err() == nil {
		started := time.Now()
		w, err := rc.watchNamespace(ctx, namespace)
		if err != nil {
			rc.log.V(1).Info("cache watch failed; retrying", "namespace", namespace, "error", err.Error())
		} else {
			rc.setWatching(namespace, true)
			rc.drain(ctx, namespace, w.ResultChan())
			w.Stop()
			rc.setWatching(namespace, false)
		}
		if time.Since(started) > watchHealthyAfter {
			delay = cacheWatchBackoff.DelayFunc()
		}
		t := time.NewTimer(delay())
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

var (
	// cacheWatchBackoff spaces the cache's attempts to open a watch.
	cacheWatchBackoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 8, Cap: 10 * time.Second}
	// watchHealthyAfter is how long a watch must run for the backoff to
	// start over.
	watchHealthyAfter = 30 * time.Second
)

func (rc *readCache) drain(ctx context.Context, namespace string, events <-chan watch.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			m, err := meta.Accessor(ev.Object)
			switch {
			case err != nil:
				rc.invalidate(namespace, "", nil)
			case rc.unchanged(namespace, ev):
				// Nothing new: the echo of this client's own write, or an
				// event Porch sends without a change.
			default:
				rc.invalidate(namespace, m.GetName(), ev.Object)
			}
		}
	}
}

func (rc *readCache) setWatching(namespace string, on bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ns := rc.ns(namespace)
	ns.watching = on
	ns.generation++
	ns.known, ns.events = map[string]string{}, map[string]seenEvent{}
	if !on {
		for _, k := range rc.lru.Keys() {
			if inNamespace(k, namespace) {
				rc.lru.Remove(k)
			}
		}
	}
}

// put stores a write's answer as the current object. Only the client's own
// serialised writes call it, right after invalidate. An event about the
// object seen since the write was sent (mark) that is not the answer's echo
// means the answer is already old: it is not stored.
func (rc *readCache) put(kind, namespace, name string, v any, mark uint64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ns := rc.ns(namespace)
	if ev, ok := ns.events[name]; ok && ev.seq > mark {
		pr, isPR := v.(*porchapi.PackageRevision)
		if ev.deleted || !isPR || ev.fingerprint != fingerprint(pr) {
			return
		}
	}
	if ns.watching {
		rc.lru.Add(cacheKey(kind, namespace, name), cacheEntry{value: v, stored: time.Now()})
		ns.remember(v)
	}
}

func (rc *readCache) close() {
	rc.wg.Wait()
	rc.lru.Purge()
}

func inNamespace(key, namespace string) bool {
	parts := strings.SplitN(key, "/", 3)
	return len(parts) == 3 && parts[1] == namespace
}
