package deps

// With cycles forbidden, "no dependency cycle" is a constraint of the
// search rather than a check of its result: a release entering the plan
// closes a cycle exactly when a path of the plan's dependency edges leads
// from it back to it, and then the releases on that path cannot all be in
// the plan. That clause is a lemma the search learns from like any other,
// so it looks for the most preferred plan without a cycle, and a cycle
// error means that every plan has one.
//
// An edge runs from a release to every release in the plan that satisfies
// one of its dependencies, hard or optional (as buildPlan draws them). A
// cycle can only join packages of one strongly connected component of the
// graph of what may depend on what, so only releases of such components
// are checked, and only within their component.

// sccs computes, for each package within reach, its strongly connected
// component in adj, the graph "some release of p has a dependency that a
// release of q may satisfy" (reach builds it): -1 for a package alone in
// its component, which cannot be on a cycle.
func sccs(adj [][]int32) []int32 {
	n := len(adj)
	// Tarjan's algorithm, iteratively.
	index := make([]int32, n)
	low := make([]int32, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	comp := make([]int32, n)
	var stack []int32
	type frame struct{ v, next int32 }
	var calls []frame
	next, comps := int32(0), int32(0)
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		calls = append(calls[:0], frame{int32(root), 0})
		index[root], low[root] = next, next
		next++
		stack = append(stack, int32(root))
		onStack[root] = true
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			v := f.v
			if int(f.next) < len(adj[v]) {
				w := adj[v][f.next]
				f.next++
				switch {
				case index[w] < 0:
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					calls = append(calls, frame{w, 0})
				case onStack[w]:
					low[v] = min(low[v], index[w])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				u := calls[len(calls)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] == index[v] {
				size := 0
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = comps
					size++
					if w == v {
						break
					}
				}
				if size == 1 {
					comp[v] = -1
				}
				comps++
			}
		}
	}
	return comp
}

// dfsFrame is one release on the path of a cycle check: which of its
// dependencies (requirements first, then optional ones) and which
// candidate the check looks at next.
type dfsFrame struct {
	v, dep, cand int32
}

// checkCycle looks for a path of plan edges from release v (just put in
// the plan) back to it, within its component. It returns the conflict
// "not all of these releases" for the first one found, or -1.
func (s *search) checkCycle(v int32) int32 {
	p := s.p
	comp := p.scc[p.relPkg[v]]
	s.stamp++
	s.visit[p.relPkg[v]] = s.stamp
	s.frames = append(s.frames[:0], dfsFrame{v: v})
	for len(s.frames) > 0 {
		f := &s.frames[len(s.frames)-1]
		d := p.relOf(f.v)
		nReq := int32(len(d.requires))
		var dd *depData
		switch {
		case f.dep < nReq:
			dd = &d.requires[f.dep]
			if !s.isActive(dd.fact) {
				f.dep, f.cand = f.dep+1, 0
				continue
			}
		case f.dep < nReq+int32(len(d.optional)):
			dd = &d.optional[f.dep-nReq]
		default:
			s.frames = s.frames[:len(s.frames)-1]
			continue
		}
		var c int32
		if dd.plain {
			// At most one release of the package is in the plan.
			c = s.pkgTrue[dd.pkg]
			if f.cand > 0 || c < 0 || !p.inRange(dd, c) {
				f.dep, f.cand = f.dep+1, 0
				continue
			}
		} else {
			cands := p.candsOf(dd)
			if int(f.cand) >= len(cands) {
				f.dep, f.cand = f.dep+1, 0
				continue
			}
			c = cands[f.cand]
		}
		f.cand++
		s.tick()
		if s.val[c] != 1 {
			continue
		}
		q := p.relPkg[c]
		if q == p.relPkg[f.v] || p.scc[q] != comp {
			continue
		}
		if c == v {
			return s.cycleConflict()
		}
		if s.visit[q] != s.stamp {
			s.visit[q] = s.stamp
			s.frames = append(s.frames, dfsFrame{v: c})
		}
	}
	return -1
}

// cycleConflict turns the path on s.frames, which closes back to its
// first release, into a conflict: the releases cannot all be in the plan.
// It follows from the requirements that make the path's edges (an edge
// that an optional dependency also makes follows from nothing).
func (s *search) cycleConflict() int32 {
	lits := make([]lit, len(s.frames))
	var an []ante
	for i, f := range s.frames {
		lits[i] = negLit(f.v)
		to := s.frames[0].v
		if i+1 < len(s.frames) {
			to = s.frames[i+1].v
		}
		if fact := s.edgeFact(f.v, to); fact >= 0 {
			an = append(an, ante{anteFact, fact})
		}
	}
	c := s.addClause(lits, originLearned, an)
	s.stats.learned++
	return c
}

// edgeFact is the fact that makes the edge from release a to release b:
// -1 when an optional dependency of a makes it, else the first active
// requirement of a that b satisfies.
func (s *search) edgeFact(a, b int32) int32 {
	d := s.p.relOf(a)
	for k := range d.optional {
		if s.p.satisfies(&d.optional[k], b) {
			return -1
		}
	}
	for k := range d.requires {
		if dd := &d.requires[k]; s.isActive(dd.fact) && s.p.satisfies(dd, b) {
			return dd.fact
		}
	}
	return -1
}

func containsVar(vs []int32, v int32) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}
