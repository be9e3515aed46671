package deps

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/Masterminds/semver/v3"
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
	// dependency graph; the packages that can satisfy a need on a name are
	// visited in the default provider order (see NewestFirst), so the order
	// does not depend on the order releases were added to the universe.
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

// ProviderOrder is implemented by a Preference that chooses which package
// is tried first for a need on a capability. A need on a name can be met
// by the package of that name and by every package with a release that
// provides a capability of that name; its choices are those packages'
// choices (Preference.Choices, filtered by the need's range), package by
// package in this order. A Preference without the method gets the default
// order described at NewestFirst.
type ProviderOrder interface {
	// Providers sorts pkgs, the packages that can satisfy a need on name
	// (given in the default order), most preferred first. Names it drops
	// follow in the default order; names not in pkgs are ignored.
	Providers(in PreferenceInput, name string, pkgs []string) []string
}

// NewestFirst is the default preference:
//   - needs are decided roots first (in request order), then locked
//     packages, then in breadth-first order of the dependency graph, so a
//     root's version never gives way to a dependency's;
//   - a locked package prefers its locked release (relevant only when the
//     policy lets locks change);
//   - otherwise the newest release that admits a plan is chosen;
//   - a need that several packages can satisfy tries the package of the
//     needed name first, then the packages that provide it as a
//     capability, the one with the highest version of the capability first
//     (providers without a version last), ties by package name. The order
//     releases were added to the universe plays no part; PreferProviders
//     sets another order.
//
// Together with "a package enters the plan only when something needs it",
// that is: newest versions first, roots before transitive dependencies,
// then fewest packages.
var NewestFirst Preference = newestFirst{}

// PreferProviders returns base with its provider order replaced for the
// capabilities in order: a need on a capability listed there tries the
// listed packages first, in the listed order, then the other providers in
// base's order (see ProviderOrder). For example, to take redis for
// "5gc-database" whenever it admits a plan:
//
//	deps.PreferProviders(deps.NewestFirst, map[string][]string{"5gc-database": {"redis"}})
func PreferProviders(base Preference, order map[string][]string) Preference {
	if base == nil {
		base = NewestFirst
	}
	return providerPreference{Preference: base, order: order}
}

type providerPreference struct {
	Preference
	order map[string][]string
}

func (p providerPreference) Providers(in PreferenceInput, name string, pkgs []string) []string {
	if po, ok := p.Preference.(ProviderOrder); ok {
		pkgs = sanitizeProviders(po.Providers(in, name, slices.Clone(pkgs)), pkgs)
	}
	out := make([]string, 0, len(pkgs))
	for _, l := range p.order[name] {
		if slices.Contains(pkgs, l) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	for _, q := range pkgs {
		if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out
}

// defaultProviders lists the packages that can satisfy a need on name in
// the default provider order: the package of that name, then the
// packages that provide name as a capability, highest capability version
// first (unversioned last), ties by package name.
func defaultProviders(u *Universe, name string) []string {
	var out []string
	if len(u.releases[name]) > 0 {
		out = append(out, name)
	}
	entries := u.providers[name]
	if len(entries) == 0 {
		return out
	}
	best := map[string]*semver.Version{}
	var names []string
	for _, e := range entries {
		n := e.release.Name
		if n == name {
			continue
		}
		v, seen := best[n]
		if !seen {
			names = append(names, n)
		}
		if !seen || (e.version != nil && (v == nil || e.version.GreaterThan(v))) {
			best[n] = e.version
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		va, vb := best[a], best[b]
		switch {
		case va != nil && vb != nil:
			if c := vb.Compare(va); c != 0 {
				return c
			}
		case va != nil:
			return -1
		case vb != nil:
			return 1
		}
		return cmp.Compare(a, b)
	})
	return append(out, names...)
}

// needPackages lists the packages that can satisfy a need on name in
// pref's provider order.
func needPackages(u *Universe, pref Preference, in PreferenceInput, name string) []string {
	pkgs := defaultProviders(u, name)
	if po, ok := pref.(ProviderOrder); ok && len(pkgs) > 1 {
		return sanitizeProviders(po.Providers(in, name, slices.Clone(pkgs)), pkgs)
	}
	return pkgs
}

// sanitizeProviders keeps the names of got that are in want, once each,
// and appends the rest of want in its order.
func sanitizeProviders(got, want []string) []string {
	out := make([]string, 0, len(want))
	for _, g := range got {
		if slices.Contains(want, g) && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	for _, w := range want {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

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
// them is an ErrTooLarge *InputError; the context's end is its error.
func preferenceInput(ctx context.Context, u *Universe, req Request, maxReleases int) (PreferenceInput, error) {
	in, _, err := reach(ctx, u, req, maxReleases, false)
	return in, err
}

// reached is what reach works out besides the PreferenceInput.
type reached struct {
	// pkgs holds the universe's record of each package of in.Reached
	// (by position).
	pkgs []*pkgData
	// graph holds, for each package of in.Reached (by position), the
	// positions of the packages one of its releases may depend on (hard
	// or optional), itself excluded.
	graph [][]int32
	// pos holds each numbered name's position in in.Reached (-1: not
	// a package within reach), so that the search looks no name up
	// again.
	pos []int32
}

// reach is preferenceInput, walking the universe's numbered names; with
// graph it also makes out.graph.
func reach(ctx context.Context, u *Universe, req Request, maxReleases int, graph bool) (PreferenceInput, reached, error) {
	in := PreferenceInput{Packages: map[string][]*Release{}, Locked: map[string]*Release{}}
	var out reached
	if u == nil {
		return in, out, nil
	}
	// pos is each name's position in in.Reached (-1: not reached).
	pos := make([]int32, len(u.names))
	for i := range pos {
		pos[i] = -1
	}
	// The edges of package i are recorded while i is processed, so they
	// lie together in a chunk, from begin; a full chunk is followed by a
	// new one that takes the edges of the package at hand along.
	var adj [][]int32
	var chunk []int32
	begin := 0
	var mark []int32 // the last package that recorded an edge to each
	count := 0
	visit := func(id int32) int32 {
		if id < 0 {
			return -1
		}
		if at := pos[id]; at >= 0 {
			return at
		}
		pd := u.byID[id]
		if pd == nil || len(pd.rels) == 0 {
			return -1
		}
		at := int32(len(in.Reached))
		pos[id] = at
		name := u.names[id]
		in.Packages[name] = pd.rels
		in.Reached = append(in.Reached, name)
		out.pkgs = append(out.pkgs, pd)
		count += len(pd.rels)
		if graph {
			mark = append(mark, -1)
		}
		return at
	}
	providers := map[int32][]int32{}
	from := int32(-1)
	edge := func(to int32) {
		if graph && from >= 0 && to >= 0 && to != from && mark[to] != from {
			mark[to] = from
			if len(chunk) == cap(chunk) {
				n := len(chunk) - begin
				next := make([]int32, n, max(1<<16, 2*n))
				copy(next, chunk[begin:])
				chunk, begin = next, 0
			}
			chunk = append(chunk, to)
		}
	}
	// need visits what can satisfy a need on the name numbered id and
	// returns the position of the package of that name (-1: none).
	need := func(id int32) int32 {
		if at := pos[id]; at >= 0 && !u.provided[id] {
			edge(at) // the usual case: a package already reached, no capability of its name
			return at
		}
		ps, ok := providers[id]
		if !ok {
			for _, name := range defaultProviders(u, u.names[id]) {
				ps = append(ps, u.ids[name])
			}
			providers[id] = ps
		}
		for _, p := range ps {
			edge(visit(p))
		}
		return pos[id]
	}
	for _, d := range req.Roots {
		if !slices.Contains(in.Roots, d.Name) {
			in.Roots = append(in.Roots, d.Name)
		}
		if id, ok := u.ids[d.Name]; ok {
			need(id)
		}
	}
	for _, l := range req.Locked {
		in.Locked[l.Name] = u.Release(l.Name, l.Version)
		if id, ok := u.ids[l.Name]; ok {
			visit(id)
		}
	}
	for i := 0; i < len(in.Reached); i++ {
		from, begin = int32(i), len(chunk)
		for _, ids := range out.pkgs[i].deps {
			for _, id := range ids {
				need(id)
			}
		}
		if graph {
			adj = append(adj, chunk[begin:len(chunk):len(chunk)])
		}
		if count > maxReleases {
			return PreferenceInput{}, reached{}, &InputError{Kind: ErrTooLarge, Reason: fmt.Sprintf("more than %d releases within reach of the request", maxReleases)}
		}
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return PreferenceInput{}, reached{}, err
			}
		}
	}
	out.graph, out.pos = adj, pos
	return in, out, nil
}
