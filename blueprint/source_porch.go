package blueprint

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/nephoran/porchkit/porch"
)

// PorchSourceConfig configures NewPorchSource.
type PorchSourceConfig struct {
	// Name names the source; "" is "porch:<namespace>/<repositories>".
	Name string
	// Namespace holds the repositories ("" is "default").
	Namespace string
	// Repositories are the Porch repositories whose published revisions
	// are blueprints; at least one.
	Repositories []string
	// Labels, when set, keeps only the revisions whose labels match.
	Labels labels.Selector
	// Keywords, when set, keeps only the revisions whose Kptfile's
	// info.keywords hold every one of them.
	Keywords []string
}

// PorchSource is a CatalogSource over the published package revisions of
// Porch repositories. A revision's blueprint name is the last element of
// its package path; its version the Kptfile's VersionAnnotation, else its
// workspace name ("v1", "v1-2-3"), else the git ref of its upstream lock
// ("amf/v1.2.3"), else its revision number. Draft and Proposed revisions
// are not listed, but errors name them. It watches the revisions with the
// client's Watch, so the catalog sees new ones without a restart.
type PorchSource struct {
	name    string
	prs     porch.PackageRevisions
	repos   []string
	labels  labels.Selector
	keyword []string

	// mu guards seen: the latest revision the watch reported, by name
	// (nil: deleted), overlaid on what List returns, which may come from
	// the client's cache and trail the watch.
	mu   sync.Mutex
	seen map[string]*porchapi.PackageRevision
}

var (
	_ WatchingSource = (*PorchSource)(nil)
	_ EntryFilter    = (*PorchSource)(nil)
)

// NewPorchSource returns a source over cfg.Repositories, read with client.
func NewPorchSource(client porch.Client, cfg PorchSourceConfig) (*PorchSource, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: porch source: nil client", ErrInvalidCatalog)
	}
	if len(cfg.Repositories) == 0 {
		return nil, fmt.Errorf("%w: porch source: no repositories", ErrInvalidCatalog)
	}
	for i, r := range cfg.Repositories {
		if strings.TrimSpace(r) == "" {
			return nil, fmt.Errorf("%w: porch source: repository %d is empty", ErrInvalidCatalog, i)
		}
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = "default"
	}
	s := &PorchSource{name: cfg.Name, prs: client.PackageRevisions(ns), repos: slices.Clone(cfg.Repositories),
		labels: cfg.Labels, keyword: slices.Clone(cfg.Keywords), seen: map[string]*porchapi.PackageRevision{}}
	if s.name == "" {
		s.name = "porch:" + ns + "/" + strings.Join(cfg.Repositories, ",")
	}
	return s, nil
}

// Name implements CatalogSource.
func (s *PorchSource) Name() string { return s.name }

func (s *PorchSource) listOptions() []porch.ListOption {
	if s.labels == nil {
		return nil
	}
	return []porch.ListOption{porch.MatchingLabelSelector{Selector: s.labels}}
}

// Scan implements CatalogSource: the repositories' revisions, newest
// revision first within a package.
func (s *PorchSource) Scan(ctx context.Context) ([]Candidate, error) {
	byName := map[string]*porchapi.PackageRevision{}
	for _, repo := range s.repos {
		prs, err := s.prs.List(ctx, append(s.listOptions(), porch.InRepository(repo))...)
		if err != nil {
			return nil, fmt.Errorf("list revisions of %s: %w", repo, err)
		}
		for i := range prs {
			byName[prs[i].Name] = &prs[i]
		}
	}
	s.mu.Lock()
	for name, pr := range s.seen {
		if pr == nil {
			delete(byName, name)
		} else if slices.Contains(s.repos, pr.Spec.RepositoryName) {
			byName[name] = pr.DeepCopy()
		}
	}
	s.mu.Unlock()
	revs := make([]*porchapi.PackageRevision, 0, len(byName))
	for _, pr := range byName {
		if pr.Spec.Revision >= 0 || !porch.IsPublished(pr) { // -1 is the revision that tracks the branch, not a version
			revs = append(revs, pr)
		}
	}
	order := map[string]int{}
	for i, r := range s.repos {
		order[r] = i
	}
	sort.Slice(revs, func(i, j int) bool {
		a, b := revs[i], revs[j]
		if a.Spec.RepositoryName != b.Spec.RepositoryName {
			return order[a.Spec.RepositoryName] < order[b.Spec.RepositoryName]
		}
		if a.Spec.PackageName != b.Spec.PackageName {
			return a.Spec.PackageName < b.Spec.PackageName
		}
		if a.Spec.Revision != b.Spec.Revision {
			return a.Spec.Revision > b.Spec.Revision
		}
		return a.Name < b.Name
	})
	out := make([]Candidate, 0, len(revs))
	for _, pr := range revs {
		c := Candidate{Name: path.Base(pr.Spec.PackageName), Location: pr.Name, Key: pr.Name + "@" + pr.ResourceVersion,
			Published: porch.IsPublished(pr) && pr.Spec.Revision > 0, Lifecycle: string(lifecycleOf(pr)),
			Workspace: pr.Spec.WorkspaceName, Revision: pr.Spec.Revision, Labels: pr.Labels}
		if lock := pr.Status.UpstreamLock; lock != nil && lock.Git != nil && lock.Git.Ref != "" {
			c.Tags = []string{lock.Git.Ref}
		}
		out = append(out, c)
	}
	return out, nil
}

func lifecycleOf(pr *porchapi.PackageRevision) porchapi.PackageRevisionLifecycle {
	if pr.Spec.Lifecycle == "" {
		return porchapi.PackageRevisionLifecycleDraft
	}
	return pr.Spec.Lifecycle
}

// Files implements CatalogSource: the revision's resources.
func (s *PorchSource) Files(ctx context.Context, location string) (map[string]string, error) {
	pkg, err := s.prs.Pull(ctx, location)
	if err != nil {
		return nil, err
	}
	return pkg.Resources, nil
}

// Accepts implements EntryFilter: the Keywords.
func (s *PorchSource) Accepts(e *Entry) bool {
	for _, k := range s.keyword {
		if !slices.Contains(e.Keywords, k) {
			return false
		}
	}
	return true
}

// porchWatchBackoff spaces the attempts to open a watch that failed or
// ended; it starts over once a watch has run for a minute.
var porchWatchBackoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 8, Cap: 10 * time.Second}

// Watch implements WatchingSource with the client's Watch of the
// namespace's revisions.
func (s *PorchSource) Watch(ctx context.Context, notify func(WatchEvent)) {
	delay := porchWatchBackoff.DelayFunc()
	for ctx.Err() == nil {
		started := time.Now()
		w, err := s.prs.Watch(ctx, s.listOptions()...)
		if err == nil {
			s.mu.Lock()
			s.seen = map[string]*porchapi.PackageRevision{}
			s.mu.Unlock()
			notify(WatchStarted)
			s.drain(ctx, w.ResultChan(), notify)
			w.Stop()
			notify(WatchStopped)
		}
		if time.Since(started) > time.Minute {
			delay = porchWatchBackoff.DelayFunc()
		}
		t := time.NewTimer(delay())
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

func (s *PorchSource) drain(ctx context.Context, events <-chan watch.Event, notify func(WatchEvent)) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			pr, isPR := ev.Object.(*porchapi.PackageRevision)
			if !isPR {
				if ev.Type == watch.Error {
					return
				}
				continue
			}
			if !slices.Contains(s.repos, pr.Spec.RepositoryName) {
				continue
			}
			s.mu.Lock()
			if ev.Type == watch.Deleted {
				s.seen[pr.Name] = nil
			} else {
				s.seen[pr.Name] = pr.DeepCopy()
			}
			s.mu.Unlock()
			notify(WatchChanged)
		}
	}
}
