package multicluster

import (
	"fmt"
	"slices"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// GroupStrategy cuts a rollout's targets into decision groups, as Open
// Cluster Management's decisionStrategy.groupStrategy does: named groups
// (label selectors) are filled first, in order; the clusters left go into
// one group per value of By (or one group "rest"); groups bigger than
// ClustersPerGroup are split. Groups are rolled out one after the other
// and a wave never holds clusters of two groups (a canary's first wave
// excepted: it is taken round-robin over the groups, and keeps its own
// rule that any failure in it fails the gate). Each group has its own
// failure budget, MaxFailures (OCM's ProgressivePerGroup).
type GroupStrategy struct {
	// Groups are named decision groups; a cluster belongs to the first
	// whose label selector matches its labels (a nil selector matches
	// every cluster).
	Groups []DecisionGroup
	// By gives each value of this key ("region", "zone", "environment" or
	// a label key), among the clusters no named group took, a group of its
	// own named key=value, in value order (default "": one group named
	// "rest").
	By string
	// ClustersPerGroup splits a group bigger than this (a count, or a
	// percentage of all targets) into groups of at most this many
	// clusters, named with a suffix /1, /2 ... (default 0: no split).
	ClustersPerGroup IntOrPercent
	// MaxFailures is each group's failure budget, a count or a percentage
	// of the group's clusters (default 0, as OCM's ProgressivePerGroup):
	// one failure more within a group fails the gate, whatever
	// Strategy.MaxFailures allows over all groups (which still applies).
	MaxFailures IntOrPercent
}

// DecisionGroup is a named group of clusters chosen by labels.
type DecisionGroup struct {
	// Name names the group in status, events and reasons.
	Name string
	// Labels selects the group's clusters by their labels (nil: all the
	// clusters no earlier group took).
	Labels *metav1.LabelSelector
}

// enabled reports whether the strategy cuts decision groups at all.
func (g GroupStrategy) enabled() bool {
	return len(g.Groups) > 0 || g.By != "" || g.ClustersPerGroup.Value > 0
}

func (g GroupStrategy) validate() error {
	seen := map[string]bool{}
	for i, dg := range g.Groups {
		field := fmt.Sprintf("groups.groups[%d]", i)
		switch {
		case dg.Name == "":
			return fieldError(ErrInvalidStrategy, field+".name", "missing")
		case seen[dg.Name]:
			return fieldError(ErrInvalidStrategy, field+".name", "%q used twice", dg.Name)
		}
		seen[dg.Name] = true
		if dg.Labels != nil {
			if _, err := metav1.LabelSelectorAsSelector(dg.Labels); err != nil {
				return fieldError(ErrInvalidStrategy, field+".labels", "%v", err)
			}
		}
	}
	if err := g.ClustersPerGroup.validate("groups.clustersPerGroup"); err != nil {
		return err
	}
	if err := g.MaxFailures.validate("groups.maxFailures"); err != nil {
		return err
	}
	if !g.enabled() && g.MaxFailures.Value > 0 {
		return fieldError(ErrInvalidStrategy, "groups.maxFailures", "set without groups (groups, by or clustersPerGroup)")
	}
	return nil
}

// wavePlan is a rollout's waves and the decision group of each.
type wavePlan struct {
	waves [][]string
	// group is each wave's index in names; -1 when the strategy has no
	// groups, and for a canary's first wave.
	group []int
	names []string
}

// group is a decision group's name and clusters, in rollout order.
type group struct {
	name     string
	clusters []string
}

// plan cuts the selected clusters (in name order) into the strategy's
// waves; lookup returns a cluster's registration, needed only by SpreadBy
// and Groups.
func (s Strategy) plan(selected []string, lookup func(string) (Cluster, error)) (*wavePlan, error) {
	n := len(selected)
	byName := map[string]Cluster{}
	if s.SpreadBy != "" || s.Groups.enabled() {
		for _, name := range selected {
			c, err := lookup(name)
			if err != nil {
				return nil, err
			}
			byName[name] = c
		}
	}
	order := slices.Clone(selected)
	if s.SpreadBy != "" {
		order = interleave(order, func(name string) string { return groupValue(byName[name], s.SpreadBy) })
	}
	grouped := s.Groups.enabled()
	groups := []group{{clusters: order}}
	if grouped {
		groups = s.Groups.partition(order, byName, n)
	}
	wp := &wavePlan{}
	for _, g := range groups {
		if grouped {
			wp.names = append(wp.names, g.name)
		}
	}
	add := func(gi int, waves ...[]string) {
		if !grouped {
			gi = -1
		}
		for _, w := range waves {
			wp.waves = append(wp.waves, w)
			wp.group = append(wp.group, gi)
		}
	}
	switch s.Type {
	case StrategySequential, StrategyBlueGreen:
		size := 1
		if s.Type == StrategyBlueGreen && s.MaxConcurrency.Value > 0 {
			size = max(1, s.MaxConcurrency.Of(n))
		}
		for gi, g := range groups {
			add(gi, chunk(g.clusters, size)...)
		}
	case StrategyParallel:
		for gi, g := range groups {
			if len(g.clusters) > 0 {
				add(gi, slices.Clone(g.clusters))
			}
		}
	case StrategyCanary:
		var first []string
		if len(s.Canary.MandatoryClusters) > 0 {
			for _, m := range s.Canary.MandatoryClusters {
				if !slices.Contains(selected, m) {
					return nil, fieldError(ErrInvalidStrategy, "canary.mandatoryClusters", "%s is not among the selected clusters", m)
				}
			}
			first = slices.Clone(s.Canary.MandatoryClusters)
		} else {
			k := max(1, Percent(s.Canary.FirstPercent).Of(n))
			pool := order
			if grouped && s.SpreadBy == "" {
				pool = roundRobinGroups(groups)
			}
			first = slices.Clone(pool[:k])
		}
		wp.waves, wp.group = append(wp.waves, first), append(wp.group, -1)
		step := max(1, Percent(s.Canary.StepPercent).Of(n))
		for gi, g := range groups {
			var rest []string
			for _, c := range g.clusters {
				if !slices.Contains(first, c) {
					rest = append(rest, c)
				}
			}
			add(gi, chunk(rest, step)...)
		}
	default:
		return nil, fieldError(ErrInvalidStrategy, "type", "unknown %q", s.Type)
	}
	for _, w := range s.ApprovalBefore {
		if w >= len(wp.waves) {
			return nil, fieldError(ErrInvalidStrategy, "approvalBefore", "wave %d, but the rollout has %s", w, count(len(wp.waves), "wave", "waves"))
		}
	}
	for _, c := range s.Suspended {
		if !slices.Contains(selected, c) {
			return nil, fieldError(ErrInvalidStrategy, "suspended", "%s is not among the selected clusters", c)
		}
	}
	return wp, nil
}

// waves cuts the selected clusters into the strategy's waves (see plan).
func (s Strategy) waves(selected []string, lookup func(string) (Cluster, error)) ([][]string, error) {
	wp, err := s.plan(selected, lookup)
	if err != nil {
		return nil, err
	}
	return wp.waves, nil
}

// partition cuts order into the decision groups, keeping order within
// each.
func (g GroupStrategy) partition(order []string, byName map[string]Cluster, total int) []group {
	taken := make(map[string]bool, len(order))
	var groups []group
	for _, dg := range g.Groups {
		sel := labels.Everything()
		if dg.Labels != nil {
			sel, _ = metav1.LabelSelectorAsSelector(dg.Labels) // validated
		}
		gr := group{name: dg.Name}
		for _, name := range order {
			if !taken[name] && sel.Matches(labels.Set(byName[name].Labels)) {
				taken[name] = true
				gr.clusters = append(gr.clusters, name)
			}
		}
		groups = append(groups, gr)
	}
	var rest []string
	for _, name := range order {
		if !taken[name] {
			rest = append(rest, name)
		}
	}
	if g.By != "" {
		byValue := map[string][]string{}
		var values []string
		for _, name := range rest {
			v := groupValue(byName[name], g.By)
			if _, ok := byValue[v]; !ok {
				values = append(values, v)
			}
			byValue[v] = append(byValue[v], name)
		}
		sort.Strings(values)
		for _, v := range values {
			groups = append(groups, group{name: g.By + "=" + v, clusters: byValue[v]})
		}
	} else if len(rest) > 0 {
		groups = append(groups, group{name: "rest", clusters: rest})
	}
	size := 0
	if g.ClustersPerGroup.Value > 0 {
		size = max(1, g.ClustersPerGroup.Of(total))
	}
	var out []group
	for _, gr := range groups {
		if len(gr.clusters) == 0 {
			continue
		}
		if size == 0 || len(gr.clusters) <= size {
			out = append(out, gr)
			continue
		}
		for i, part := range chunk(gr.clusters, size) {
			out = append(out, group{name: fmt.Sprintf("%s/%d", gr.name, i+1), clusters: part})
		}
	}
	return out
}

// interleave orders names round-robin over the values key gives them: the
// first of each value (values in sorted order), then the second of each,
// and so on; within a value, names keep their order.
func interleave(names []string, key func(string) string) []string {
	byValue := map[string][]string{}
	var values []string
	for _, n := range names {
		v := key(n)
		if _, ok := byValue[v]; !ok {
			values = append(values, v)
		}
		byValue[v] = append(byValue[v], n)
	}
	sort.Strings(values)
	gs := make([]group, len(values))
	for i, v := range values {
		gs[i] = group{name: v, clusters: byValue[v]}
	}
	return roundRobinGroups(gs)
}

// roundRobinGroups takes the first cluster of each group in turn, then
// the second, and so on.
func roundRobinGroups(groups []group) []string {
	var out []string
	for i := 0; ; i++ {
		took := false
		for _, g := range groups {
			if i < len(g.clusters) {
				out = append(out, g.clusters[i])
				took = true
			}
		}
		if !took {
			return out
		}
	}
}

// groupBudgetBrokenLocked says why the failures in wave wi's decision
// group exceed the group's budget, if they do; r.mu is held.
func (r *rollout) groupBudgetBrokenLocked(wi int) (bool, string) {
	if wi >= len(r.k.waveGroup) || r.k.waveGroup[wi] < 0 {
		return false, ""
	}
	g := r.k.waveGroup[wi]
	failures, size := 0, 0
	for w, gw := range r.k.waveGroup {
		if gw == g {
			size += len(r.waves[w])
			failures += r.waveCounts[w][ClusterFailed] + r.waveCounts[w][ClusterUnreachable]
		}
	}
	if limit := r.s.Groups.MaxFailures.Of(size); failures > limit {
		return true, fmt.Sprintf("%s of decision group %s failed, more than groups.maxFailures %s (%d of %d)%s", count(failures, "cluster", "clusters"),
			r.k.groupNames[g], r.s.Groups.MaxFailures, limit, size, r.firstFailureLocked())
	}
	return false, ""
}

// groupName is wave wi's decision group ("" for none); r.mu is held.
func (r *rollout) groupNameLocked(wi int) string {
	if wi < 0 || wi >= len(r.k.waveGroup) || r.k.waveGroup[wi] < 0 {
		return ""
	}
	return r.k.groupNames[r.k.waveGroup[wi]]
}

// cluster returns a registered cluster, for lookups that need no health.
func (m *ClusterManager) cluster(name string) (Cluster, error) {
	c, _, err := m.Get(name)
	return c, err
}
