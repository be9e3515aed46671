package deps

import (
	"fmt"
	"slices"
)

// PreferenceInput is what a Preference sees of a resolution.
type PreferenceInput struct {
	// Packages maps each package the request can reach (over every
	// release's hard and optional dependencies, capabilities through their
	// providers) to its releases, newest first. The slices are shared: a
	// Preference must not modify them.
	Packages map[string][]*Release
	// Roots are the packages the request names, in request order.
	Roots []string
	// Locked maps each locked package to its locked release.
	Locked map[string]*Release
	// Reached lists the packages in breadth-first order from the roots
	// (roots first, in request order) and then the locked packages over the
	// dependency graph.
	Reached []string
}

// Preference decides which plan the resolver returns among those that
// satisfy a request.
//
// The resolver builds the plan from the request outwards: the roots, the
// locked packages, then the dependencies of each release it chooses. A
// package enters the plan only when one of those needs it (so a plan holds
// no package it could do without), and the pending needs are decided in
// Order, each with its most preferred choice that still admits a plan. The
// plan is therefore the preference's lexicographic optimum, proven by
// construction.
type Preference interface {
	// Order sorts the packages, most important first: among the pending
	// needs, the one on the earliest package is decided first.
	Order(in PreferenceInput) []string
	// Choices lists a package's releases, most preferred first. Releases it
	// leaves out are never chosen; nil entries are ignored.
	Choices(in PreferenceInput, pkg string) []*Release
}

// NewestFirst is the default preference:
//   - needs are decided roots first (in request order), then locked
//     packages, then in breadth-first order of the dependency graph, so a
//     root's version never gives way to a dependency's;
//   - a locked package prefers its locked release (relevant only when the
//     policy lets locks change);
//   - otherwise the newest release that admits a plan is chosen.
//
// Together with "a package enters the plan only when something needs it",
// that is: newest versions first, roots before transitive dependencies,
// then fewest packages.
var NewestFirst Preference = newestFirst{}

type newestFirst struct{}

func (newestFirst) Order(in PreferenceInput) []string { return in.Reached }

func (newestFirst) Choices(in PreferenceInput, pkg string) []*Release {
	rels := in.Packages[pkg]
	l := in.Locked[pkg]
	if l == nil {
		return rels
	}
	out := make([]*Release, 0, len(rels))
	out = append(out, l)
	for _, r := range rels {
		if r != l {
			out = append(out, r)
		}
	}
	return out
}

// preferenceInput lists the packages req can reach over u by name, breadth
// first from the roots and the locks. More than maxReleases releases in
// them is an ErrTooLarge *InputError.
func preferenceInput(u *Universe, req Request, maxReleases int) (PreferenceInput, error) {
	in := PreferenceInput{Packages: map[string][]*Release{}, Locked: map[string]*Release{}}
	count := 0
	visit := func(name string) {
		if _, ok := in.Packages[name]; ok {
			return
		}
		if rels := u.releases[name]; len(rels) > 0 {
			in.Packages[name] = rels
			in.Reached = append(in.Reached, name)
			count += len(rels)
		}
	}
	need := func(name string) {
		visit(name)
		for _, p := range u.providers[name] {
			visit(p.release.Name)
		}
	}
	for _, d := range req.Roots {
		if !slices.Contains(in.Roots, d.Name) {
			in.Roots = append(in.Roots, d.Name)
		}
		need(d.Name)
	}
	for _, l := range req.Locked {
		in.Locked[l.Name] = u.Release(l.Name, l.Version)
		visit(l.Name)
	}
	for i := 0; i < len(in.Reached); i++ {
		for _, r := range in.Packages[in.Reached[i]] {
			for _, d := range r.Requires {
				need(d.Name)
			}
			for _, d := range r.Optional {
				need(d.Name)
			}
		}
		if count > maxReleases {
			return PreferenceInput{}, &InputError{Kind: ErrTooLarge, Reason: fmt.Sprintf("more than %d releases within reach of the request", maxReleases)}
		}
	}
	return in, nil
}
