package porch

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/labels"
)

// ListOption narrows List and Watch. Options combine with AND.
type ListOption interface {
	ApplyToList(*ListOptions)
}

// ListOptions is the set of filters List and Watch apply. Porch applies
// field selectors loosely (spec.packageName matches the leaf name only,
// revision 0 means "any", watches ignore selectors after the first events),
// so the client sends what narrows the server's work and then filters
// exactly on the client side.
type ListOptions struct {
	// Repository, when set, selects the revisions of one repository.
	Repository string
	// Package is the full package path, for example "a/b/pkg1".
	Package string
	// Workspace, when set, selects the revisions with one workspace name.
	Workspace string
	// Lifecycle, when set, selects the revisions in one lifecycle.
	Lifecycle porchapi.PackageRevisionLifecycle
	// Revision, when set, selects one revision number (-1 is the branch
	// placeholder revision).
	Revision *int
	// LatestOnly keeps, per repository and package path, only the highest
	// Published or DeletionProposed revision.
	LatestOnly bool
	// Labels selects on the revision's labels. Passed as an option, a
	// ListOptions adds its Labels to the label options before it (AND).
	Labels labels.Selector
}

// ApplyToList lets a ListOptions be passed as an option itself: its
// non-zero fields apply, so it combines with the options before it.
func (o *ListOptions) ApplyToList(t *ListOptions) {
	if o.Repository != "" {
		t.Repository = o.Repository
	}
	if o.Package != "" {
		t.Package = o.Package
	}
	if o.Workspace != "" {
		t.Workspace = o.Workspace
	}
	if o.Lifecycle != "" {
		t.Lifecycle = o.Lifecycle
	}
	if o.Revision != nil {
		n := *o.Revision
		t.Revision = &n
	}
	if o.LatestOnly {
		t.LatestOnly = true
	}
	if o.Labels != nil {
		t.Labels = andLabels(t.Labels, o.Labels)
	}
}

// InRepository selects revisions of one repository.
type InRepository string

// ApplyToList implements ListOption.
func (r InRepository) ApplyToList(o *ListOptions) { o.Repository = string(r) }

// ForPackage selects revisions of one package, by its full path.
type ForPackage string

// ApplyToList implements ListOption.
func (p ForPackage) ApplyToList(o *ListOptions) { o.Package = string(p) }

// InWorkspace selects revisions with one workspace name.
type InWorkspace string

// ApplyToList implements ListOption.
func (w InWorkspace) ApplyToList(o *ListOptions) { o.Workspace = string(w) }

// InLifecycle selects revisions in one lifecycle.
type InLifecycle porchapi.PackageRevisionLifecycle

// ApplyToList implements ListOption.
func (l InLifecycle) ApplyToList(o *ListOptions) { o.Lifecycle = porchapi.PackageRevisionLifecycle(l) }

// MatchingLabels selects revisions carrying all of these labels. With
// other label options, a revision must match them all.
type MatchingLabels map[string]string

// ApplyToList implements ListOption.
func (m MatchingLabels) ApplyToList(o *ListOptions) {
	o.Labels = andLabels(o.Labels, labels.SelectorFromSet(labels.Set(m)))
}

// MatchingLabelSelector selects revisions whose labels match the selector.
// With other label options, a revision must match them all.
type MatchingLabelSelector struct{ labels.Selector }

// ApplyToList implements ListOption.
func (m MatchingLabelSelector) ApplyToList(o *ListOptions) {
	o.Labels = andLabels(o.Labels, m.Selector)
}

// andLabels returns a selector that matches what both cur (nil: anything)
// and add match.
func andLabels(cur, add labels.Selector) labels.Selector {
	if cur == nil || add == nil {
		if cur == nil {
			return add
		}
		return cur
	}
	reqs, selectable := add.Requirements()
	if !selectable {
		return labels.Nothing()
	}
	return cur.Add(reqs...)
}

func newListOptions(opts []ListOption) ListOptions {
	var o ListOptions
	for _, opt := range opts {
		opt.ApplyToList(&o)
	}
	return o
}

// key is a stable string for the cache.
func (o ListOptions) key() string {
	rev := "*"
	if o.Revision != nil {
		rev = strconv.Itoa(*o.Revision)
	}
	sel := ""
	if o.Labels != nil {
		sel = o.Labels.String()
		if _, selectable := o.Labels.Requirements(); !selectable {
			sel = "<nothing>" // labels.Nothing() prints as "", like no selector
		}
	}
	return fmt.Sprintf("r=%s|p=%s|w=%s|l=%s|v=%s|latest=%t|sel=%s", o.Repository, o.Package, o.Workspace, o.Lifecycle, rev, o.LatestOnly, sel)
}

func (o ListOptions) labelSelector() string {
	if o.Labels == nil || o.Labels.Empty() {
		return ""
	}
	return o.Labels.String()
}

// Matches reports whether pr passes every filter except LatestOnly, which
// depends on the other revisions.
func (o ListOptions) Matches(pr *porchapi.PackageRevision) bool {
	switch {
	case o.Repository != "" && pr.Spec.RepositoryName != o.Repository,
		o.Package != "" && pr.Spec.PackageName != o.Package,
		o.Workspace != "" && pr.Spec.WorkspaceName != o.Workspace,
		o.Lifecycle != "" && lifecycleOrDraft(pr.Spec.Lifecycle) != o.Lifecycle,
		o.Revision != nil && pr.Spec.Revision != *o.Revision,
		o.Labels != nil && !o.Labels.Matches(labels.Set(pr.Labels)):
		return false
	}
	return true
}

// filter applies Matches and LatestOnly, and sorts by name for a stable
// order (Porch's own order depends on which repository answers first).
func (o ListOptions) filter(items []porchapi.PackageRevision) []porchapi.PackageRevision {
	out := items[:0:0]
	for i := range items {
		if o.Matches(&items[i]) && (!o.LatestOnly || IsPublished(&items[i]) && items[i].Spec.Revision > 0) {
			out = append(out, items[i])
		}
	}
	if o.LatestOnly {
		best := map[string]int{}
		for i, pr := range out {
			k := pr.Spec.RepositoryName + "\x00" + pr.Spec.PackageName
			if j, ok := best[k]; !ok || out[j].Spec.Revision < pr.Spec.Revision {
				best[k] = i
			}
		}
		latest := out[:0:0]
		for i := range out {
			if best[out[i].Spec.RepositoryName+"\x00"+out[i].Spec.PackageName] == i {
				latest = append(latest, out[i])
			}
		}
		out = latest
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// IsPublished reports whether pr is Published or DeletionProposed.
func IsPublished(pr *porchapi.PackageRevision) bool {
	return pr.Spec.Lifecycle == porchapi.PackageRevisionLifecyclePublished ||
		pr.Spec.Lifecycle == porchapi.PackageRevisionLifecycleDeletionProposed
}

// RevisionName returns the name Porch gives a package revision:
// "<repository>.<package path with / as .>.<workspace>".
func RevisionName(repository, pkg, workspace string) string {
	return repository + "." + strings.ReplaceAll(pkg, "/", ".") + "." + workspace
}
