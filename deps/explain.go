package deps

import (
	"fmt"
	"slices"
	"strings"
)

// UnsatisfiableError says why no plan exists: a minimal set of facts that
// cannot all hold (removing any one of them makes the rest satisfiable),
// and the cheapest edits of the request that would make it solvable.
type UnsatisfiableError struct {
	// Conflict is a minimal unsatisfiable set of the request's and the
	// packages' facts.
	Conflict []Fact
	// Repairs are the fewest edits of the request (roots, locks,
	// exclusions) after which a plan exists; empty when the packages'
	// facts alone conflict.
	Repairs []Repair
}

// Error renders the derivation: the packages' facts, then the user's, then
// the conclusion and the repairs.
func (e *UnsatisfiableError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoSolution.Error())
	b.WriteString(": ")
	b.WriteString(e.Explain())
	return b.String()
}

// Unwrap returns ErrNoSolution.
func (e *UnsatisfiableError) Unwrap() error { return ErrNoSolution }

// Explain renders the conflict as a short derivation a person can follow,
// e.g. "amf@2.0.0 requires nrf >=3; smf@1.4.0 requires nrf <3; only one
// version of nrf can be installed; you asked for amf 2.x and smf =1.4; so no
// plan exists. Try: allow smf 1.5.0 instead of smf =1.4."
func (e *UnsatisfiableError) Explain() string {
	var pkgFacts, user []string
	for _, line := range summarise(e.Conflict) {
		if line.user {
			user = append(user, line.text)
		} else {
			pkgFacts = append(pkgFacts, line.text)
		}
	}
	var parts []string
	parts = append(parts, pkgFacts...)
	if len(user) > 0 {
		parts = append(parts, joinAnd(user))
	}
	text := strings.Join(parts, "; ") + "; so no plan exists."
	if len(e.Repairs) > 0 {
		var rs []string
		for _, r := range e.Repairs {
			rs = append(rs, r.String())
		}
		text += " Try: " + strings.Join(rs, ", and ") + "."
	}
	return text
}

type summaryLine struct {
	text string
	user bool
}

// summarise merges facts that differ only in the release's version, e.g.
// "amf@2.0.0 requires nrf >=3" and "amf@2.1.0 requires nrf >=3" become
// "amf 2.0.0, 2.1.0 require nrf >=3"; user facts are merged into one
// "you asked for ..." clause.
func summarise(facts []Fact) []summaryLine {
	type key struct {
		kind FactKind
		pkg  string
		dep  string
	}
	versions := map[key][]string{}
	var order []key
	var roots []string
	var out []summaryLine
	for _, f := range facts {
		switch f.Kind {
		case FactRequires, FactConflicts:
			k := key{f.Kind, f.Package, f.Dependency.String()}
			if _, ok := versions[k]; !ok {
				order = append(order, k)
			}
			versions[k] = append(versions[k], f.Release.Version.String())
		case FactRoot:
			roots = append(roots, f.Dependency.String())
		default:
			out = append(out, summaryLine{text: f.String(), user: f.User()})
		}
	}
	var lines []summaryLine
	for _, k := range order {
		vs := versions[k]
		verb := map[FactKind]string{FactRequires: "requires", FactConflicts: "conflicts with"}[k.kind]
		if len(vs) > 1 {
			verb = map[FactKind]string{FactRequires: "require", FactConflicts: "conflict with"}[k.kind]
			lines = append(lines, summaryLine{text: fmt.Sprintf("%s %s %s %s", k.pkg, strings.Join(vs, ", "), verb, k.dep)})
		} else {
			lines = append(lines, summaryLine{text: fmt.Sprintf("%s@%s %s %s", k.pkg, vs[0], verb, k.dep)})
		}
	}
	lines = append(lines, out...)
	if len(roots) > 0 {
		lines = append(lines, summaryLine{text: "you asked for " + joinAnd(roots), user: true})
	}
	return lines
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// explain computes the conflict and the repairs of an unsatisfiable
// encoding.
func (e *encoding) explain() error {
	conflict := e.minimalConflict()
	out := &UnsatisfiableError{}
	for _, f := range conflict {
		out.Conflict = append(out.Conflict, f.Fact)
	}
	out.Repairs = e.repairs(conflict)
	return out
}

// minimalConflict returns a minimal unsatisfiable subset of the facts.
//
// First it finds a small unsatisfiable prefix: facts are ordered by the
// distance of their package from the request (roots and locks first), and
// the prefix grows by doubling the distance until it is unsatisfiable, so
// that the usual, local conflict never touches the far end of a large
// universe. Then QuickXplain (Junker 2004) reduces the prefix to a minimal
// set with O(k log(n/k)) solver calls for a conflict of k facts.
func (e *encoding) minimalConflict() []fact {
	for _, f := range e.facts {
		for _, c := range f.constrs {
			if len(c.Lits) == 0 || len(c.Lits) < c.AtLeast { // e.g. a root nothing matches
				return []fact{f}
			}
		}
	}
	dist := e.distances()
	facts := slices.Clone(e.facts)
	slices.SortStableFunc(facts, func(a, b fact) int { return dist[a.Package] - dist[b.Package] })
	maxDist := 0
	for _, f := range facts {
		maxDist = max(maxDist, dist[f.Package])
	}
	prefix := facts
	for d := 1; d < maxDist; d *= 2 {
		n, _ := slices.BinarySearchFunc(facts, d+1, func(f fact, t int) int { return dist[f.Package] - t })
		if !e.sat(facts[:n]) {
			prefix = facts[:n]
			break
		}
	}
	return e.quickXplain(nil, false, prefix)
}

// quickXplain returns a minimal subset of c that is unsatisfiable together
// with background b; changed says whether b changed since the last check.
func (e *encoding) quickXplain(b []fact, changed bool, c []fact) []fact {
	if changed && !e.sat(b) {
		return nil
	}
	if len(c) == 1 {
		return c
	}
	c1, c2 := c[:len(c)/2], c[len(c)/2:]
	d2 := e.quickXplain(slices.Concat(b, c1), len(c1) > 0, c2)
	d1 := e.quickXplain(slices.Concat(b, d2), len(d2) > 0, c1)
	return slices.Concat(d1, d2)
}

// distances is the number of dependency hops from the request to each
// package (roots and locked packages are at 0).
func (e *encoding) distances() map[string]int {
	dist := map[string]int{}
	var queue []string
	visit := func(name string, d int) {
		if _, ok := dist[name]; !ok {
			dist[name] = d
			queue = append(queue, name)
		}
	}
	for _, d := range e.req.Roots {
		visit(d.Name, 0)
		for _, c := range e.candidates(d) {
			visit(c.Name, 0)
		}
	}
	for _, r := range e.locked {
		visit(r.Name, 0)
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		for _, r := range e.packages[name] {
			for _, d := range slices.Concat(r.Requires, r.Optional, r.Conflicts) {
				for _, c := range e.candidates(d) {
					visit(c.Name, dist[name]+1)
				}
			}
		}
	}
	return dist
}
