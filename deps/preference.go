package deps

import "slices"

// PreferenceInput is what a Preference sees of a resolution.
type PreferenceInput struct {
	// Packages maps each package that can take part to its candidate
	// releases, newest first.
	Packages map[string][]*Release
	// Roots are the packages the request names, in request order.
	Roots []string
	// Locked maps each locked package to its locked release.
	Locked map[string]*Release
	// Reached lists the packages in breadth-first order from the roots over
	// the dependency graph (roots first), the other packages after them.
	Reached []string
}

// Preference decides which plan the resolver returns among those that
// satisfy a request. The resolver fixes the packages one at a time, in
// Order, each to its most preferred choice that still admits a plan: the
// result is the lexicographic optimum of the preference, and the resolver
// proves it by construction.
type Preference interface {
	// Order sorts the packages, most important first.
	Order(in PreferenceInput) []string
	// Choices lists a package's choices, most preferred first; a nil entry
	// stands for "not installed".
	Choices(in PreferenceInput, pkg string) []*Release
}

// NewestFirst is the default preference:
//   - packages are decided roots first (in request order), then in
//     breadth-first order of the dependency graph, so a root's version
//     never gives way to a dependency's;
//   - a locked package prefers its locked release (relevant only when the
//     policy lets locks change);
//   - a root prefers its newest release; any other package prefers not to be
//     installed at all (fewest packages), then its newest release.
var NewestFirst Preference = newestFirst{}

type newestFirst struct{}

func (newestFirst) Order(in PreferenceInput) []string { return in.Reached }

func (newestFirst) Choices(in PreferenceInput, pkg string) []*Release {
	rels := in.Packages[pkg]
	var out []*Release
	if !slices.Contains(in.Roots, pkg) {
		out = append(out, nil)
	}
	if l := in.Locked[pkg]; l != nil {
		out = append(out, l)
	}
	for _, r := range rels {
		if r != in.Locked[pkg] {
			out = append(out, r)
		}
	}
	return out
}
