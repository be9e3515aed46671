package blueprint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/go-logr/logr"
	lru "github.com/hashicorp/golang-lru/v2"
	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
	"k8s.io/apimachinery/pkg/labels"

	"golang.org/x/sync/errgroup"

	"github.com/nephoran/porchkit/deps"
)

// Catalog errors, besides ErrUnknownBlueprint and ErrNoMatchingVersion.
var (
	// ErrInvalidConstraint means a version constraint does not parse; see
	// *ConstraintError.
	ErrInvalidConstraint = errors.New("blueprint: invalid version constraint")
	// ErrNotPublished means the blueprint, or the version asked for, exists
	// only as revisions that are not Published (Draft, Proposed); see
	// *NotPublishedError and *NoMatchError.
	ErrNotPublished = errors.New("blueprint: not published")
	// ErrInvalidFilter means a List filter is malformed; see *FilterError.
	ErrInvalidFilter = errors.New("blueprint: invalid catalog filter")
	// ErrInvalidCatalog means a catalog or one of its sources is
	// misconfigured: no source, two sources of one name, a nil client.
	ErrInvalidCatalog = errors.New("blueprint: invalid catalog")
	// ErrNoVersion means a package gives no version by any origin (see
	// VersionOrigin); the catalog skips it and lists it in Skipped.
	ErrNoVersion = errors.New("blueprint: package has no version")
	// ErrDuplicateVersion means two packages claim the same name and
	// version; the first (by source order, then the source's own order)
	// is kept and the other listed in Skipped.
	ErrDuplicateVersion = errors.New("blueprint: duplicate blueprint version")
	// ErrStaleEntry means an entry's files changed since it was listed (a
	// local directory edited); Refresh and resolve again.
	ErrStaleEntry = errors.New("blueprint: catalog entry changed since it was listed")
	// ErrUnresolvable means blueprints' dependencies admit no consistent
	// set of versions; the error also holds deps' explanation
	// (*deps.UnsatisfiableError, *deps.CycleError, ...).
	ErrUnresolvable = errors.New("blueprint: dependencies cannot be resolved")
)

// DefaultCatalogCacheSize is the number of listings, entries and file sets
// the default cache holds.
const DefaultCatalogCacheSize = 1024

// Entry is one version of a blueprint as the catalog lists it: where it
// is and what its Kptfile says, without its files (Catalog.Load reads
// them).
type Entry struct {
	// Name is the blueprint's name: the last element of the Porch package
	// path, or the Kptfile's metadata.name of a local package.
	Name string
	// Version is its semantic version.
	Version *semver.Version
	// VersionFrom says where Version was read.
	VersionFrom VersionOrigin
	// Source is the name of the CatalogSource that holds it.
	Source string
	// Location is where in the source: a Porch package revision name
	// ("blueprints.amf.v1"), a package directory ("amf/v1"), or a git tag
	// and directory ("amf/v1.2.0:amf").
	Location string
	// Type is the TypeAnnotation of the Kptfile (else of the revision's
	// labels); "" when neither says.
	Type string
	// Labels are the Kptfile's metadata.labels, overlaid by the Porch
	// revision's labels.
	Labels map[string]string
	// Keywords and Description are the Kptfile's info.
	Keywords    []string
	Description string
	// Digest is "sha256:<hex>" over the package's files (paths and
	// contents), so a resolved version can be pinned to its content.
	Digest string
	// Dependencies are what the blueprint requires of other blueprints:
	// its Nephio Dependency resources (deps.ReadNephioDependencies) and the
	// requires of deps' Kptfile annotation (deps.ReleaseAnnotation).
	Dependencies []deps.Dependency

	// key is the source's identity of the content (candidate key).
	key string
	// release is the entry as deps sees it; kinds the resource kinds held.
	release *deps.Release
	kinds   map[deps.Injector]bool
}

// Ref returns the reference naming exactly this version.
func (e *Entry) Ref() Ref { return Ref{Name: e.Name, Version: formatVersion(e.Version)} }

// String is "name@vX.Y.Z (source location)".
func (e *Entry) String() string {
	return fmt.Sprintf("%s@%s (%s %s)", e.Name, formatVersion(e.Version), e.Source, e.Location)
}

// Unpublished is a revision a source holds that is not Published: it is no
// catalog entry, but errors name it, so that "not published yet" is told
// from "does not exist".
type Unpublished struct {
	// Name is the blueprint name, Location the revision's name.
	Name, Location string
	// Lifecycle is the revision's lifecycle (Draft, Proposed).
	Lifecycle string
	// Version is the version its workspace name gives, nil if none.
	Version *semver.Version
}

// Skipped is a package the catalog could not list: no version, a Kptfile
// that does not parse, a malformed dependency declaration, a duplicate.
type Skipped struct {
	// Source and Location say where the package is.
	Source, Location string
	// Err says why; it wraps ErrNoVersion, ErrInvalidVersion,
	// ErrInvalidBlueprint, ErrDuplicateVersion or deps' errors.
	Err error
}

// Candidate is a package a CatalogSource offers, before the catalog reads
// its Kptfile for a version and the rest of its Entry.
type Candidate struct {
	// Name is the blueprint name; "" takes the Kptfile's metadata.name.
	Name string
	// Location is where in the source (see Entry.Location); unique in it.
	Location string
	// Key identifies the content: it changes whenever the files may
	// (a Porch revision's name and resourceVersion, a digest). The catalog
	// caches entries and files by it.
	Key string
	// Files are the package's files when the source has them at hand; nil
	// means the catalog asks CatalogSource.Files when it needs them.
	Files map[string]string
	// Published is false for a revision still in Draft or Proposed.
	Published bool
	// Lifecycle is the Porch lifecycle, when there is one.
	Lifecycle string
	// Workspace is a Porch workspace name or a package directory's name,
	// read for VersionFromWorkspace.
	Workspace string
	// Tags are git tags or refs naming this content, for VersionFromGitTag.
	Tags []string
	// Revision is the Porch revision number (0: none), VersionFromRevision.
	Revision int
	// Labels are labels of the revision (Porch's), overlaying the Kptfile's.
	Labels map[string]string
}

// CatalogSource is a place blueprints come from: Porch repositories
// (NewPorchSource), a directory (NewDirSource), an fs.FS (NewFSSource).
type CatalogSource interface {
	// Name identifies the source; it is unique in a catalog.
	Name() string
	// Scan lists the packages of the source.
	Scan(ctx context.Context) ([]Candidate, error)
	// Files returns the files of the candidate Scan listed at location.
	Files(ctx context.Context, location string) (map[string]string, error)
}

// WatchingSource is a source that says when its listing changes, so the
// catalog may keep it cached while the watch runs.
type WatchingSource interface {
	CatalogSource
	// Watch reports the source's changes to notify until ctx ends, then
	// returns: WatchStarted once a watch runs (and again after each
	// re-opening), WatchChanged after each change, WatchStopped when a
	// watch is lost.
	Watch(ctx context.Context, notify func(WatchEvent))
}

// EntryFilter is implemented by sources that select their blueprints by
// what the Kptfile says (PorchSource's Keywords).
type EntryFilter interface {
	// Accepts reports whether the entry belongs to the source.
	Accepts(e *Entry) bool
}

// WatchEvent is what a WatchingSource reports.
type WatchEvent int

// The events of a watch.
const (
	// WatchStarted: a watch runs; changes from now on are reported.
	WatchStarted WatchEvent = iota + 1
	// WatchChanged: the listing may have changed.
	WatchChanged
	// WatchStopped: the watch is lost; changes are not seen until the
	// next WatchStarted.
	WatchStopped
)

// Cache holds the catalog's listings, entries and files. It must be safe
// for concurrent use. Values are shared, never modified by the catalog
// once added, and must not be modified by the cache.
type Cache interface {
	Get(key string) (any, bool)
	Add(key string, value any)
	Remove(key string)
}

// NewLRUCache returns a Cache of at most size values, the least recently
// used dropped first (github.com/hashicorp/golang-lru).
func NewLRUCache(size int) (Cache, error) {
	l, err := lru.New[string, any](size)
	if err != nil {
		return nil, fmt.Errorf("%w: cache size %d: %w", ErrInvalidCatalog, size, err)
	}
	return lruCache{l}, nil
}

type lruCache struct{ l *lru.Cache[string, any] }

func (c lruCache) Get(key string) (any, bool) { return c.l.Get(key) }
func (c lruCache) Add(key string, v any)      { c.l.Add(key, v) }
func (c lruCache) Remove(key string)          { c.l.Remove(key) }

// noCache keeps nothing.
type noCache struct{}

func (noCache) Get(string) (any, bool) { return nil, false }
func (noCache) Add(string, any)        {}
func (noCache) Remove(string)          {}

// CatalogOptions configures NewCatalog; the zero value is an LRU cache of
// DefaultCatalogCacheSize and no logs.
type CatalogOptions struct {
	// Cache replaces the default LRU cache.
	Cache Cache
	// DisableCache reads every source on every call.
	DisableCache bool
	// StaticTTL bounds how long the listing of a source without a watch
	// (a directory) is served from the cache; zero keeps it until Refresh.
	StaticTTL time.Duration
	// Resolver resolves dependencies for ResolveAll (nil: deps'
	// SATResolver with its default configuration).
	Resolver deps.Resolver
	// Logger receives the catalog's logs (skipped packages, watch state).
	Logger logr.Logger
}

// Catalog lists blueprint versions from its sources, resolves names and
// semver constraints to the newest match, and serves the blueprints'
// files; it is a Source for Generate. Listings are cached and, for
// sources that watch (Porch), refreshed by the watch. Safe for concurrent
// use.
type Catalog struct {
	sources  []CatalogSource
	cache    Cache
	ttl      time.Duration
	resolver deps.Resolver
	log      logr.Logger

	mu    sync.Mutex
	state []sourceState
	// last is the view of the last call, reused while its indexes are
	// current.
	last *view

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// sourceState is what the catalog knows of a source's freshness.
type sourceState struct {
	// generation increases whenever the source's listing may have changed.
	generation uint64
	// watching: the source's watch runs, so a listing stays cached.
	watching bool
	// watches: the source is a WatchingSource.
	watches bool
}

// sourceIndex is one source's listing, as the catalog read it.
type sourceIndex struct {
	entries     []*Entry
	unpublished []Unpublished
	skipped     []Skipped
	read        time.Time
	// partial: some package's files could not be read.
	partial bool
}

var _ Source = (*Catalog)(nil)

// NewCatalog returns a catalog over sources, earlier ones winning for a
// name and version several hold. The watches of WatchingSources run until
// ctx ends or Close is called.
func NewCatalog(ctx context.Context, opts CatalogOptions, sources ...CatalogSource) (*Catalog, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("%w: no source", ErrInvalidCatalog)
	}
	seen := map[string]bool{}
	for i, s := range sources {
		if s == nil {
			return nil, fmt.Errorf("%w: source %d is nil", ErrInvalidCatalog, i)
		}
		if seen[s.Name()] {
			return nil, fmt.Errorf("%w: two sources named %q", ErrInvalidCatalog, s.Name())
		}
		seen[s.Name()] = true
	}
	c := &Catalog{sources: sources, cache: opts.Cache, ttl: opts.StaticTTL, resolver: opts.Resolver, log: opts.Logger,
		state: make([]sourceState, len(sources))}
	switch {
	case opts.DisableCache:
		c.cache = noCache{}
	case c.cache == nil:
		l, err := NewLRUCache(DefaultCatalogCacheSize)
		if err != nil {
			return nil, err
		}
		c.cache = l
	}
	if c.resolver == nil {
		c.resolver = deps.NewSATResolver(deps.ResolverConfig{})
	}
	if c.log.GetSink() == nil {
		c.log = logr.Discard()
	}
	ctx, c.stop = context.WithCancel(ctx)
	for i, s := range sources {
		if w, ok := s.(WatchingSource); ok {
			c.state[i].watches = true
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				w.Watch(ctx, func(ev WatchEvent) { c.observe(i, ev) })
				c.observe(i, WatchStopped)
			}()
		}
	}
	return c, nil
}

// Close stops the sources' watches and waits for them to end.
func (c *Catalog) Close() {
	c.stop()
	c.wg.Wait()
}

// String names the catalog's sources. Logs and fmt show this rather than
// the Catalog's fields, which its watches change.
func (c *Catalog) String() string {
	names := make([]string, len(c.sources))
	for i, s := range c.sources {
		names[i] = s.Name()
	}
	return "blueprint catalog of " + strings.Join(names, ", ")
}

// MarshalLog implements logr.Marshaler with String.
func (c *Catalog) MarshalLog() any { return c.String() }

// Refresh drops every cached listing, so the next call reads the sources.
func (c *Catalog) Refresh() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.state {
		c.state[i].generation++
		c.cache.Remove(indexKey(c.sources[i]))
	}
}

func (c *Catalog) observe(i int, ev WatchEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &c.state[i]
	st.generation++
	switch ev {
	case WatchStarted:
		st.watching = true
	case WatchStopped:
		st.watching = false
	}
	c.cache.Remove(indexKey(c.sources[i]))
}

func indexKey(s CatalogSource) string { return "index\x00" + s.Name() }

// entryKey and filesKey name an entry and its files in the cache: by
// source, location and content key, since equal content at two locations
// (two tags of one commit) may be two versions.
func entryKey(s CatalogSource, location, key string) string {
	return "entry\x00" + s.Name() + "\x00" + location + "\x00" + key
}
func filesKey(s CatalogSource, location, key string) string {
	return "files\x00" + s.Name() + "\x00" + location + "\x00" + key
}

// index returns source i's listing, from the cache when it is known to be
// current.
func (c *Catalog) index(ctx context.Context, i int) (*sourceIndex, error) {
	src := c.sources[i]
	c.mu.Lock()
	st := c.state[i]
	c.mu.Unlock()
	cacheable := st.watching || !st.watches
	if cacheable {
		if v, ok := c.cache.Get(indexKey(src)); ok {
			idx := v.(*sourceIndex)
			if st.watches || c.ttl <= 0 || time.Since(idx.read) <= c.ttl {
				return idx, nil
			}
		}
	}
	idx, err := c.scan(ctx, src)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.state[i]
	if cacheable && !idx.partial && now.generation == st.generation && now.watching == st.watching {
		c.cache.Add(indexKey(src), idx)
	}
	return idx, nil
}

// scanConcurrency bounds the candidates whose files are read at once.
const scanConcurrency = 8

// scan reads a source's listing into an index. An index with a package
// whose files could not be read is marked partial: it is served, but not
// cached, so the next call reads again.
func (c *Catalog) scan(ctx context.Context, src CatalogSource) (*sourceIndex, error) {
	cands, err := src.Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("blueprint: catalog source %s: %w", src.Name(), err)
	}
	type built struct {
		e        *Entry
		err      error
		readFail bool
	}
	results := make([]built, len(cands))
	var g errgroup.Group
	g.SetLimit(scanConcurrency)
	for i, cand := range cands {
		if !cand.Published {
			continue
		}
		g.Go(func() error {
			e, readFail, err := c.entry(ctx, src, cand)
			results[i] = built{e: e, err: err, readFail: readFail}
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through results
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	idx := &sourceIndex{read: time.Now()}
	seen := map[string]*Entry{}
	filter, _ := src.(EntryFilter)
	for i, cand := range cands {
		if !cand.Published {
			u := Unpublished{Name: cand.Name, Location: cand.Location, Lifecycle: cand.Lifecycle}
			if v, err := ParseVersion(cand.Workspace); err == nil {
				u.Version = v
			}
			idx.unpublished = append(idx.unpublished, u)
			continue
		}
		e, err := results[i].e, results[i].err
		if err != nil {
			c.log.V(1).Info("catalog skips a package", "source", src.Name(), "location", cand.Location, "error", err.Error())
			idx.skipped = append(idx.skipped, Skipped{Source: src.Name(), Location: cand.Location, Err: err})
			idx.partial = idx.partial || results[i].readFail
			continue
		}
		if filter != nil && !filter.Accepts(e) {
			continue
		}
		id := e.Name + "@" + e.Version.String()
		if first, dup := seen[id]; dup {
			idx.skipped = append(idx.skipped, Skipped{Source: src.Name(), Location: cand.Location,
				Err: fmt.Errorf("%w: %s is also at %s", ErrDuplicateVersion, id, first.Location)})
			continue
		}
		seen[id] = e
		idx.entries = append(idx.entries, e)
	}
	return idx, nil
}

// entry builds (or takes from the cache) the entry of a published
// candidate; readFail tells a failure to read its files (worth trying
// again) from a package that is malformed.
func (c *Catalog) entry(ctx context.Context, src CatalogSource, cand Candidate) (e *Entry, readFail bool, err error) {
	if cand.Key != "" {
		if v, ok := c.cache.Get(entryKey(src, cand.Location, cand.Key)); ok {
			return v.(*Entry).withLabels(cand.Labels), false, nil
		}
	}
	files := cand.Files
	if files == nil {
		if files, err = src.Files(ctx, cand.Location); err != nil {
			return nil, true, fmt.Errorf("blueprint: read %s: %w", cand.Location, err)
		}
	}
	if e, err = newEntry(src.Name(), cand, files); err != nil {
		return nil, false, err
	}
	if cand.Key != "" {
		c.cache.Add(filesKey(src, cand.Location, cand.Key), files)
		c.cache.Add(entryKey(src, cand.Location, cand.Key), e)
	}
	return e.withLabels(cand.Labels), false, nil
}

// withLabels returns the entry with a revision's labels over its Kptfile's
// (and the type they give when the Kptfile gives none). Porch changes a
// Published revision's labels without a new resourceVersion, so they are
// applied on every listing, not cached with the entry.
func (e *Entry) withLabels(revision map[string]string) *Entry {
	if len(revision) == 0 {
		return e
	}
	out := e.clone()
	maps.Copy(out.Labels, revision)
	if out.Type == "" {
		out.Type = revision[TypeAnnotation]
	}
	return out
}

// newEntry reads a package's Kptfile for its entry: the version by the
// origins' order, labels, type, info and dependencies.
func newEntry(source string, cand Candidate, files map[string]string) (*Entry, error) {
	kf, err := parseKptfile(files)
	if err != nil {
		return nil, err
	}
	name := cand.Name
	if name == "" {
		name = kf.Name
	}
	if name == "" {
		return nil, fmt.Errorf("%w: %s: the Kptfile has no metadata.name", ErrInvalidBlueprint, cand.Location)
	}
	e := &Entry{Name: name, Source: source, Location: cand.Location, key: cand.Key, Labels: maps.Clone(kf.Labels)}
	if e.Labels == nil {
		e.Labels = map[string]string{}
	}
	if kf.Info != nil {
		e.Keywords, e.Description = slices.Clone(kf.Info.Keywords), kf.Info.Description
	}
	e.Type = kf.Annotations[TypeAnnotation]
	if e.Version, e.VersionFrom, err = candidateVersion(kf, cand); err != nil {
		return nil, err
	}
	e.Digest = digest(files)
	if err := e.readDependencies(files); err != nil {
		return nil, err
	}
	return e, nil
}

// candidateVersion is the version by the first origin that gives one:
// annotation, workspace (or directory) name, git tag, Porch revision.
func candidateVersion(kf *kptfilev1.KptFile, cand Candidate) (*semver.Version, VersionOrigin, error) {
	if a, ok := kf.Annotations[VersionAnnotation]; ok {
		v, err := ParseVersion(a)
		if err != nil {
			return nil, "", fmt.Errorf("%s: Kptfile annotation %s: %w", cand.Location, VersionAnnotation, err)
		}
		return v, VersionFromAnnotation, nil
	}
	if v, err := ParseVersion(cand.Workspace); err == nil {
		return v, VersionFromWorkspace, nil
	}
	for _, t := range cand.Tags {
		if v := versionFromTag(t, cand.Name); v != nil {
			return v, VersionFromGitTag, nil
		}
	}
	if cand.Revision > 0 {
		return semver.New(uint64(cand.Revision), 0, 0, "", ""), VersionFromRevision, nil
	}
	return nil, "", fmt.Errorf("%w: %s: no %s annotation, and neither workspace %q nor tags %v is a version",
		ErrNoVersion, cand.Location, VersionAnnotation, cand.Workspace, cand.Tags)
}

// digest is "sha256:<hex>" over the sorted paths and their contents.
func digest(files map[string]string) string {
	h := sha256.New()
	for _, p := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%d:%s%d:%s", len(p), p, len(files[p]), files[p])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Skipped lists the packages the sources hold that the catalog could not
// list, with the reason.
func (c *Catalog) Skipped(ctx context.Context) ([]Skipped, error) {
	idxs, err := c.indexes(ctx)
	if err != nil {
		return nil, err
	}
	var out []Skipped
	for _, idx := range idxs {
		out = append(out, idx.skipped...)
	}
	return out, nil
}

// indexes returns every source's listing, in source order.
func (c *Catalog) indexes(ctx context.Context) ([]*sourceIndex, error) {
	out := make([]*sourceIndex, len(c.sources))
	for i := range c.sources {
		idx, err := c.index(ctx, i)
		if err != nil {
			return nil, err
		}
		out[i] = idx
	}
	return out, nil
}

// view is the catalog's merged listing: entries by name (newest first),
// unpublished revisions by name.
type view struct {
	byName      map[string][]*Entry
	unpublished map[string][]Unpublished
	// from are the indexes it merges: while the sources' indexes are
	// these (cached), the view is reused.
	from []*sourceIndex
}

func (c *Catalog) view(ctx context.Context) (*view, error) {
	idxs, err := c.indexes(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	if last != nil && slices.Equal(last.from, idxs) {
		return last, nil
	}
	v := &view{byName: map[string][]*Entry{}, unpublished: map[string][]Unpublished{}, from: idxs}
	taken := map[string]bool{}
	for _, idx := range idxs {
		for _, e := range idx.entries {
			id := e.Name + "@" + e.Version.String()
			if taken[id] {
				continue
			}
			taken[id] = true
			v.byName[e.Name] = append(v.byName[e.Name], e)
		}
		for _, u := range idx.unpublished {
			v.unpublished[u.Name] = append(v.unpublished[u.Name], u)
		}
	}
	for _, es := range v.byName {
		sort.SliceStable(es, func(i, j int) bool { return es[i].Version.GreaterThan(es[j].Version) })
	}
	c.mu.Lock()
	c.last = v
	c.mu.Unlock()
	return v, nil
}

// Filter selects catalog entries; zero fields select everything.
type Filter struct {
	// Name is a blueprint name or a path.Match pattern ("free5gc-*").
	Name string
	// Type is the blueprint's TypeAnnotation, exactly.
	Type string
	// Labels selects on the entry's labels.
	Labels labels.Selector
	// Version is a semver constraint ("^1", ">=2, <3").
	Version string
	// Keywords must all be among the Kptfile's info.keywords.
	Keywords []string
	// Source is the name of the source, exactly.
	Source string
}

// FilterError reports a malformed filter field.
type FilterError struct {
	// Field is the Filter field ("Name"), Value what it held.
	Field, Value string
	// Err is the cause.
	Err error
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("blueprint: catalog filter %s %q: %v", e.Field, e.Value, e.Err)
}

// Is reports ErrInvalidFilter.
func (e *FilterError) Is(target error) bool { return target == ErrInvalidFilter }

// Unwrap returns the cause.
func (e *FilterError) Unwrap() error { return e.Err }

// ConstraintError reports a version constraint that does not parse.
type ConstraintError struct {
	// Field names where the constraint came from ("constraint",
	// "Filter.Version", "Ref.Version").
	Field string
	// Name is the blueprint it was for, Constraint the text.
	Name, Constraint string
	// Err is semver's error.
	Err error
}

func (e *ConstraintError) Error() string {
	return fmt.Sprintf("blueprint: %s %q of %s: %v", e.Field, e.Constraint, e.Name, e.Err)
}

// Is reports ErrInvalidConstraint.
func (e *ConstraintError) Is(target error) bool { return target == ErrInvalidConstraint }

// Unwrap returns semver's error.
func (e *ConstraintError) Unwrap() error { return e.Err }

// NotFoundError is ErrUnknownBlueprint with what the catalog does hold.
// It unwraps to an *UnknownBlueprintError.
type NotFoundError struct {
	// Ref is what was asked for.
	Ref Ref
	// Known are the names of the blueprints the catalog holds, sorted.
	Known []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("blueprint: unknown blueprint %s; the catalog holds %s", e.Ref, joinOrNone(e.Known))
}

// Unwrap returns the *UnknownBlueprintError of Ref.
func (e *NotFoundError) Unwrap() error { return &UnknownBlueprintError{Ref: e.Ref} }

// NotPublishedError says that a blueprint exists only in revisions that
// are not Published.
type NotPublishedError struct {
	// Name is the blueprint, Revisions its unpublished revisions.
	Name      string
	Revisions []Unpublished
}

func (e *NotPublishedError) Error() string {
	var rs []string
	for _, u := range e.Revisions {
		rs = append(rs, u.Location+" ("+u.Lifecycle+")")
	}
	return fmt.Sprintf("blueprint: %s has no Published revision: %s", e.Name, strings.Join(rs, ", "))
}

// Is reports ErrNotPublished.
func (e *NotPublishedError) Is(target error) bool { return target == ErrNotPublished }

// NoMatchError says that no version of a blueprint satisfies a constraint,
// listing the versions there are. When a revision that is not Published
// would satisfy it, the error also matches ErrNotPublished.
type NoMatchError struct {
	// Name and Constraint are what was asked.
	Name, Constraint string
	// Versions are the blueprint's published versions, newest first.
	Versions []string
	// Unpublished are revisions not Published whose version satisfies the
	// constraint.
	Unpublished []Unpublished
}

func (e *NoMatchError) Error() string {
	msg := fmt.Sprintf("blueprint: no version of %s satisfies %q; published versions: %s", e.Name, e.Constraint, joinOrNone(e.Versions))
	for _, u := range e.Unpublished {
		msg += fmt.Sprintf("; %s would, but %s is %s", formatVersion(u.Version), u.Location, u.Lifecycle)
	}
	return msg
}

// Unwrap returns ErrNoMatchingVersion, and ErrNotPublished when an
// unpublished revision satisfies the constraint.
func (e *NoMatchError) Unwrap() []error {
	if len(e.Unpublished) > 0 {
		return []error{ErrNoMatchingVersion, ErrNotPublished}
	}
	return []error{ErrNoMatchingVersion}
}

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// parseConstraint parses a constraint; "" and "*" are nil (any version).
func parseConstraint(field, name, text string) (*semver.Constraints, error) {
	t := strings.TrimSpace(text)
	if t == "" || t == "*" {
		return nil, nil
	}
	c, err := semver.NewConstraint(t)
	if err != nil {
		return nil, &ConstraintError{Field: field, Name: name, Constraint: text, Err: err}
	}
	return c, nil
}

// Resolve returns the newest published version of blueprint name that
// satisfies constraint (Masterminds/semver syntax: "^1", "~1.1", ">=2",
// "1.2.3"; "" is the newest stable version, or the newest pre-release when
// there is no stable one). Errors: *ConstraintError (ErrInvalidConstraint),
// *NotFoundError (ErrUnknownBlueprint), *NotPublishedError
// (ErrNotPublished), *NoMatchError (ErrNoMatchingVersion).
func (c *Catalog) Resolve(ctx context.Context, name, constraint string) (*Entry, error) {
	if strings.TrimSpace(name) == "" {
		return nil, &FilterError{Field: "name", Value: name, Err: errors.New("empty blueprint name")}
	}
	cons, err := parseConstraint("constraint", name, constraint)
	if err != nil {
		return nil, err
	}
	v, err := c.view(ctx)
	if err != nil {
		return nil, err
	}
	return v.resolve(name, constraint, cons)
}

func (v *view) resolve(name, text string, cons *semver.Constraints) (*Entry, error) {
	es := v.byName[name]
	if len(es) == 0 {
		if us := v.unpublished[name]; len(us) > 0 {
			return nil, &NotPublishedError{Name: name, Revisions: us}
		}
		return nil, &NotFoundError{Ref: Ref{Name: name, Version: text}, Known: slices.Sorted(maps.Keys(v.byName))}
	}
	if cons == nil {
		for _, e := range es {
			if e.Version.Prerelease() == "" {
				return e.clone(), nil
			}
		}
		return es[0].clone(), nil
	}
	for _, e := range es {
		if cons.Check(e.Version) {
			return e.clone(), nil
		}
	}
	nm := &NoMatchError{Name: name, Constraint: text}
	for _, e := range es {
		nm.Versions = append(nm.Versions, formatVersion(e.Version))
	}
	for _, u := range v.unpublished[name] {
		if u.Version != nil && cons.Check(u.Version) {
			nm.Unpublished = append(nm.Unpublished, u)
		}
	}
	return nil, nm
}

// clone returns a copy the caller may modify.
func (e *Entry) clone() *Entry {
	out := *e
	out.Labels = maps.Clone(e.Labels)
	out.Keywords = slices.Clone(e.Keywords)
	out.Dependencies = slices.Clone(e.Dependencies)
	return &out
}

// List returns the published entries that pass every field of f, by name,
// newest version first. A malformed Name pattern is a *FilterError, a
// malformed Version a *ConstraintError.
func (c *Catalog) List(ctx context.Context, f Filter) ([]Entry, error) {
	if f.Name != "" {
		if _, err := path.Match(f.Name, ""); err != nil {
			return nil, &FilterError{Field: "Name", Value: f.Name, Err: err}
		}
	}
	cons, err := parseConstraint("Filter.Version", f.Name, f.Version)
	if err != nil {
		return nil, err
	}
	v, err := c.view(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, name := range slices.Sorted(maps.Keys(v.byName)) {
		if ok, _ := path.Match(f.Name, name); f.Name != "" && !ok {
			continue
		}
		for _, e := range v.byName[name] {
			if f.matches(e, cons) {
				out = append(out, *e.clone())
			}
		}
	}
	return out, nil
}

func (f Filter) matches(e *Entry, cons *semver.Constraints) bool {
	switch {
	case f.Type != "" && e.Type != f.Type,
		f.Source != "" && e.Source != f.Source,
		f.Labels != nil && !f.Labels.Matches(labels.Set(e.Labels)),
		cons != nil && !cons.Check(e.Version):
		return false
	}
	for _, k := range f.Keywords {
		if !slices.Contains(e.Keywords, k) {
			return false
		}
	}
	return true
}

// Get implements Source: the newest version of ref.Name that satisfies
// ref.Version (an exact version or a constraint), with its files.
func (c *Catalog) Get(ctx context.Context, ref Ref) (*Blueprint, error) {
	if strings.TrimSpace(ref.Name) == "" {
		return nil, &FilterError{Field: "Ref.Name", Value: ref.Name, Err: errors.New("empty blueprint name")}
	}
	cons, err := parseConstraint("Ref.Version", ref.Name, ref.Version)
	if err != nil {
		return nil, err
	}
	v, err := c.view(ctx)
	if err != nil {
		return nil, err
	}
	e, err := v.resolve(ref.Name, ref.Version, cons)
	if err != nil {
		return nil, err
	}
	return c.Load(ctx, e)
}

// Load returns the blueprint of an entry List or Resolve returned, with a
// copy of its files. Files that no longer match the entry's Digest are an
// ErrStaleEntry error.
func (c *Catalog) Load(ctx context.Context, e *Entry) (*Blueprint, error) {
	files, err := c.files(ctx, e)
	if err != nil {
		return nil, err
	}
	return &Blueprint{Name: e.Name, Version: formatVersion(e.Version), Files: maps.Clone(files)}, nil
}

// files returns an entry's files (shared: not to be modified).
func (c *Catalog) files(ctx context.Context, e *Entry) (map[string]string, error) {
	var src CatalogSource
	for _, s := range c.sources {
		if s.Name() == e.Source {
			src = s
		}
	}
	if src == nil {
		return nil, fmt.Errorf("%w: entry %s is from source %q, which this catalog does not have", ErrInvalidCatalog, e.Name, e.Source)
	}
	if e.key != "" {
		if v, ok := c.cache.Get(filesKey(src, e.Location, e.key)); ok {
			return v.(map[string]string), nil
		}
	}
	files, err := src.Files(ctx, e.Location)
	if err != nil {
		return nil, fmt.Errorf("blueprint: read %s: %w", e, err)
	}
	if e.Digest != "" && digest(files) != e.Digest {
		return nil, fmt.Errorf("%w: %s", ErrStaleEntry, e)
	}
	if e.key != "" {
		c.cache.Add(filesKey(src, e.Location, e.key), files)
	}
	return files, nil
}
