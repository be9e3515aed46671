package deps

import (
	"fmt"
	"slices"
)

// Plan is a resolution's answer.
type Plan struct {
	// Releases is the chosen release of each package.
	Releases map[string]*Release
	// Why gives, for each package, the chain from the request that brought it
	// in, e.g. ["you asked for amf 2.x", "amf@2.1.0 requires nrf >=1.2"].
	Why map[string][]string
	// Order is the install order, dependencies first; packages of one
	// group have no order between them (a group of several packages that
	// depend on each other is a cycle).
	Order [][]string
	// Cycles lists the groups of Order that are dependency cycles.
	Cycles [][]string
	// Needs carries each chosen release's cluster requirements.
	Needs map[string][]string
	// Optimal says whether the plan is proven best for the preference (its
	// lexicographic optimum); false means the context's deadline ended the
	// search with this, the best plan found so far.
	Optimal bool
}

// buildPlan builds the Plan of the chosen releases (by package): those
// reachable from the request over chosen releases, why each is there, and
// the install order.
func buildPlan(u *Universe, req Request, chosen map[string]*Release, optimal bool) (*Plan, error) {
	p := &Plan{Releases: map[string]*Release{}, Why: map[string][]string{}, Needs: map[string][]string{}, Optimal: optimal}
	var queue []*Release
	reach := func(r *Release, why func() []string) {
		if _, ok := p.Releases[r.Name]; ok {
			return
		}
		p.Releases[r.Name] = r
		p.Why[r.Name] = why()
		if len(r.Needs) > 0 {
			p.Needs[r.Name] = slices.Clone(r.Needs)
		}
		queue = append(queue, r)
	}
	for _, d := range req.Roots {
		for _, c := range chosenCandidates(u, chosen, d) {
			reach(c, func() []string { return []string{"you asked for " + d.String() + providedBy(d, c)} })
		}
	}
	for _, l := range req.Locked {
		if r := chosen[l.Name]; r != nil {
			reach(r, func() []string { return []string{l.String() + " is deployed"} })
		}
	}
	// The chain of a package extends its parent's; each step is rendered
	// only for a package reached for the first time. The chains are cut
	// from a slab, each with no room to grow into its neighbour's.
	var slab []string
	step := func(r *Release, verb string, d Dependency, c *Release) {
		if _, ok := p.Releases[c.Name]; ok {
			return
		}
		reach(c, func() []string {
			parent := p.Why[r.Name]
			n := len(parent) + 1
			if len(slab)+n > cap(slab) {
				slab = make([]string, 0, max(4096, n))
			}
			out := slab[len(slab) : len(slab)+n : len(slab)+n]
			slab = slab[:len(slab)+n]
			copy(out, parent)
			out[n-1] = r.ID() + verb + d.String() + providedBy(d, c)
			return out
		})
	}
	// edges are the "depends on" edges between the plan's packages.
	edges := map[string][]string{}
	x := newPlanIndex(u, chosen)
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		ids, _ := x.depIDs(r)
		var to []string // r's edges (r is queued once)
		for k, d := range r.Requires {
			x.each(d, idAt(ids, k), func(c *Release) {
				step(r, " requires ", d, c)
				to = append(to, c.Name)
			})
		}
		for k, d := range r.Optional {
			x.each(d, idAt(ids, len(r.Requires)+k), func(c *Release) {
				step(r, " optionally uses ", d, c)
				to = append(to, c.Name)
			})
		}
		if to != nil {
			edges[r.Name] = to
		}
	}
	p.Order, p.Cycles = installOrder(p.Releases, edges)
	if len(p.Cycles) > 0 && !req.Policy.AllowCycles {
		return nil, &CycleError{Cycles: p.Cycles}
	}
	return p, nil
}

// providedBy names the release c that fills dependency d when it is a
// provider of a capability rather than d's own package, e.g. ", provided
// by amf@2.1.0"; empty otherwise.
func providedBy(d Dependency, c *Release) string {
	if c.Name == d.Name {
		return ""
	}
	return ", provided by " + c.ID()
}

// installOrder groups the chosen releases into strongly connected
// components (Tarjan) of the dependsOn graph (package names) and orders them
// dependencies first. Tarjan's algorithm emits components in reverse
// topological order of the edges, which for "a depends on b" edges is
// exactly dependencies first.
func installOrder(releases map[string]*Release, dependsOn map[string][]string) (order, cycles [][]string) {
	names := make([]string, 0, len(releases))
	for n := range releases {
		names = append(names, n)
	}
	slices.Sort(names)
	id := make(map[string]int, len(names))
	for i, n := range names {
		id[n] = i
	}
	// Edges by index; indices follow the names' order, so sorted edges
	// visit dependencies by name.
	edges := make([][]int, len(names))
	for i, n := range names {
		for _, dep := range dependsOn[n] {
			if j, ok := id[dep]; ok && !slices.Contains(edges[i], j) {
				edges[i] = append(edges[i], j)
			}
		}
		slices.Sort(edges[i])
	}
	index := make([]int, len(names))
	low := make([]int, len(names))
	onStack := make([]bool, len(names))
	for i := range index {
		index[i] = -1
	}
	var stack []int
	next := 0
	var strongConnect func(v int)
	strongConnect = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range edges[v] {
			if index[w] < 0 {
				strongConnect(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, names[w])
				if w == v {
					break
				}
			}
			slices.Sort(comp)
			order = append(order, comp)
			if len(comp) > 1 {
				cycles = append(cycles, comp)
			}
		}
	}
	for v := range names {
		if index[v] < 0 {
			strongConnect(v)
		}
	}
	return order, cycles
}

// String lists the plan's releases in install order.
func (p *Plan) String() string {
	var out []string
	for _, group := range p.Order {
		var g []string
		for _, n := range group {
			g = append(g, p.Releases[n].ID())
		}
		out = append(out, fmt.Sprint(g))
	}
	return fmt.Sprint(out)
}
