package multicluster

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Selector chooses clusters. All given conditions must hold; empty ones
// do not restrict. Fallback groups are tried in order when this selector
// selects nothing or cannot meet its spread.
type Selector struct {
	// Names selects only these clusters (each must be registered).
	Names []string
	// Labels is a Kubernetes label selector over cluster labels.
	Labels *metav1.LabelSelector
	// Capabilities must all be offered by a cluster.
	Capabilities []string
	// Regions, Zones and Environments: the cluster's must be one of them.
	Regions, Zones, Environments []string
	// Exclude never selects these clusters.
	Exclude []string
	// Tolerations let tainted clusters be selected.
	Tolerations []Toleration
	// Spread constrains how many groups (by region, zone, environment or
	// any label key) the selection covers.
	Spread []Spread
	// MaxClusters caps the selection (0: no cap); clusters are taken in
	// name order, spread across groups when Spread is set.
	MaxClusters int
	// Fallback selectors are tried in order when this one fails.
	Fallback []Selector
	// MinCapacity selects only clusters whose Capacity (what they can
	// still take) holds at least this much of each resource ("cpu",
	// "memory", "pods", ...); a cluster without the resource in its
	// Capacity is left out. CPU is compared to the millicore, other
	// resources as whole numbers.
	MinCapacity map[string]resource.Quantity
}

// Spread says the selection must cover at least MinGroups and at most
// MaxGroups distinct values of Key ("region", "zone", "environment" or a
// label key). MaxGroups 0 means no maximum.
type Spread struct {
	// Key is what groups clusters: "region", "zone", "environment" or a
	// label key.
	Key string
	// MinGroups and MaxGroups bound how many distinct values of Key the
	// selection covers (MaxGroups 0: no maximum).
	MinGroups, MaxGroups int
}

// Decision is the outcome of a selection: per cluster, selected or not and
// why.
type Decision struct {
	// Selected are the chosen clusters, in name order.
	Selected []string
	// Clusters has every registered cluster, by name.
	Clusters []ClusterDecision
	// Group is the selector used: 0 the primary, i the i-th fallback.
	Group int
}

// ClusterDecision is one cluster's part of a Decision.
type ClusterDecision struct {
	// Name is the cluster's name.
	Name string
	// Selected is true when the cluster is in Decision.Selected.
	Selected bool
	// Reasons say why: the conditions it met, or the first it failed.
	Reasons []string
}

// Select evaluates sel against the registered clusters, without side
// effects. It returns ErrUnknownCluster for names that are not registered,
// ErrUnsatisfiable for contradictory spreads, and ErrEmptySelection when
// no selector (primary or fallback) selects anything.
func (m *ClusterManager) Select(_ context.Context, sel Selector) (*Decision, error) {
	clusters := m.List()
	known := make(map[string]bool, len(clusters))
	for _, c := range clusters {
		known[c.Name] = true
	}
	groups := append([]Selector{sel}, sel.Fallback...)
	var reasons []string
	kind := ErrEmptySelection
	var last *Decision
	for i, s := range groups {
		if err := s.validate(known, i); err != nil {
			return nil, err
		}
		d, why, spreadFailed := s.decide(clusters)
		if len(d.Selected) > 0 {
			d.Group = i
			return d, nil
		}
		if spreadFailed {
			kind = ErrUnsatisfiable
		}
		reasons = append(reasons, fmt.Sprintf("group %d: %s", i, why))
		last = d
	}
	return last, fmt.Errorf("%w: %s", kind, strings.Join(reasons, "; "))
}

func (s Selector) validate(known map[string]bool, group int) error {
	field := func(f string) string {
		if group == 0 {
			return f
		}
		return fmt.Sprintf("fallback[%d].%s", group-1, f)
	}
	for _, n := range s.Names {
		if !known[n] {
			return &ClusterError{Cluster: n, Err: ErrUnknownCluster}
		}
	}
	if s.Labels != nil {
		if _, err := metav1.LabelSelectorAsSelector(s.Labels); err != nil {
			return fieldError(ErrUnsatisfiable, field("labels"), "%v", err)
		}
	}
	for _, name := range sortedKeys(s.MinCapacity) {
		if err := validCapacity(name, s.MinCapacity[name]); err != nil {
			return fieldError(ErrUnsatisfiable, field("minCapacity."+name), "%v", err)
		}
	}
	if s.MaxClusters < 0 {
		return fieldError(ErrUnsatisfiable, field("maxClusters"), "negative: %d", s.MaxClusters)
	}
	for _, sp := range s.Spread {
		switch {
		case sp.Key == "":
			return fieldError(ErrUnsatisfiable, field("spread"), "a spread needs a key")
		case sp.MinGroups < 0 || sp.MaxGroups < 0:
			return fieldError(ErrUnsatisfiable, field("spread"), "%s: negative group count", sp.Key)
		case sp.MaxGroups > 0 && sp.MinGroups > sp.MaxGroups:
			return fieldError(ErrUnsatisfiable, field("spread"), "%s: minGroups %d > maxGroups %d", sp.Key, sp.MinGroups, sp.MaxGroups)
		case s.MaxClusters > 0 && sp.MinGroups > s.MaxClusters:
			return fieldError(ErrUnsatisfiable, field("spread"), "%s: minGroups %d > maxClusters %d", sp.Key, sp.MinGroups, s.MaxClusters)
		}
	}
	if len(s.Names) > 0 {
		for _, n := range s.Names {
			if slices.Contains(s.Exclude, n) {
				return fieldError(ErrUnsatisfiable, field("exclude"), "%s is both named and excluded", n)
			}
		}
	}
	return nil
}

// decide returns the decision, why nothing was selected if so, and
// whether that was for the spread.
func (s Selector) decide(clusters []Cluster) (*Decision, string, bool) {
	d := &Decision{Clusters: make([]ClusterDecision, 0, len(clusters))}
	var ls labels.Selector
	if s.Labels != nil {
		ls, _ = metav1.LabelSelectorAsSelector(s.Labels)
	}
	var candidates []Cluster
	index := map[string]int{}
	for _, c := range clusters {
		ok, why := s.matches(c, ls)
		index[c.Name] = len(d.Clusters)
		d.Clusters = append(d.Clusters, ClusterDecision{Name: c.Name, Selected: ok, Reasons: why})
		if ok {
			candidates = append(candidates, c)
		}
	}
	if len(candidates) == 0 {
		return d, "no cluster matches", false
	}
	chosen, why := s.spread(candidates)
	if chosen == nil {
		for _, c := range candidates {
			cd := &d.Clusters[index[c.Name]]
			cd.Selected = false
			cd.Reasons = append(cd.Reasons, "spread not met: "+why)
		}
		return d, why, true
	}
	keep := map[string]bool{}
	for _, c := range chosen {
		keep[c.Name] = true
		d.Selected = append(d.Selected, c.Name)
	}
	for _, c := range candidates {
		if !keep[c.Name] {
			cd := &d.Clusters[index[c.Name]]
			cd.Selected = false
			cd.Reasons = append(cd.Reasons, "left out: "+why)
		}
	}
	sort.Strings(d.Selected)
	return d, "", false
}

func (s Selector) matches(c Cluster, ls labels.Selector) (bool, []string) {
	var why []string
	if slices.Contains(s.Exclude, c.Name) {
		return false, []string{"excluded by name"}
	}
	if len(s.Names) > 0 {
		if !slices.Contains(s.Names, c.Name) {
			return false, []string{"not among the named clusters"}
		}
		why = append(why, "named")
	}
	if ls != nil {
		if !ls.Matches(labels.Set(c.Labels)) {
			return false, []string{fmt.Sprintf("labels do not match %s", ls)}
		}
		why = append(why, fmt.Sprintf("labels match %s", ls))
	}
	for _, capability := range s.Capabilities {
		if !slices.Contains(c.Capabilities, capability) {
			return false, []string{fmt.Sprintf("lacks capability %s", capability)}
		}
	}
	if len(s.Capabilities) > 0 {
		why = append(why, "has capabilities "+strings.Join(s.Capabilities, ","))
	}
	for _, f := range []struct {
		name, value string
		allowed     []string
	}{{"region", c.Region, s.Regions}, {"zone", c.Zone, s.Zones}, {"environment", c.Environment, s.Environments}} {
		if len(f.allowed) == 0 {
			continue
		}
		if !slices.Contains(f.allowed, f.value) {
			return false, []string{fmt.Sprintf("%s %q not in %v", f.name, f.value, f.allowed)}
		}
		why = append(why, fmt.Sprintf("%s %s", f.name, f.value))
	}
	if len(s.MinCapacity) > 0 {
		ok, reason := s.hasCapacity(c)
		if !ok {
			return false, []string{reason}
		}
		why = append(why, reason)
	}
	for _, t := range c.Taints {
		tolerated := false
		for _, tol := range s.Tolerations {
			if tol.tolerates(t) {
				tolerated = true
			}
		}
		if !tolerated {
			return false, []string{fmt.Sprintf("taint %s=%s not tolerated", t.Key, t.Value)}
		}
		why = append(why, fmt.Sprintf("taint %s tolerated", t.Key))
	}
	if len(why) == 0 {
		why = []string{"matches (no conditions)"}
	}
	return true, why
}

// groupValue is a cluster's value for a spread key.
func groupValue(c Cluster, key string) string {
	switch key {
	case "region":
		return c.Region
	case "zone":
		return c.Zone
	case "environment":
		return c.Environment
	}
	return c.Labels[key]
}

// spread applies the spread constraints and MaxClusters; nil means they
// cannot be met.
func (s Selector) spread(candidates []Cluster) ([]Cluster, string) {
	chosen := candidates
	for _, sp := range s.Spread {
		byGroup := map[string][]Cluster{}
		var keys []string
		for _, c := range chosen {
			v := groupValue(c, sp.Key)
			if _, ok := byGroup[v]; !ok {
				keys = append(keys, v)
			}
			byGroup[v] = append(byGroup[v], c)
		}
		sort.Strings(keys)
		if len(keys) < sp.MinGroups {
			return nil, fmt.Sprintf("%s: %d group(s) %v, need at least %d", sp.Key, len(keys), keys, sp.MinGroups)
		}
		if sp.MaxGroups > 0 && len(keys) > sp.MaxGroups {
			keys = keys[:sp.MaxGroups]
		}
		var next []Cluster
		for _, k := range keys {
			next = append(next, byGroup[k]...)
		}
		chosen = next
	}
	if s.MaxClusters > 0 && len(chosen) > s.MaxClusters {
		chosen = roundRobin(chosen, s.Spread, s.MaxClusters)
		for _, sp := range s.Spread {
			groups := map[string]bool{}
			for _, c := range chosen {
				groups[groupValue(c, sp.Key)] = true
			}
			if len(groups) < sp.MinGroups {
				return nil, fmt.Sprintf("%s: maxClusters %d leaves %d group(s), need %d", sp.Key, s.MaxClusters, len(groups), sp.MinGroups)
			}
		}
	}
	if len(chosen) < len(candidates) {
		return chosen, "outside the spread or over maxClusters"
	}
	return chosen, ""
}

// roundRobin takes n clusters, alternating between the first spread key's
// groups so that the cap keeps as many groups as it can.
func roundRobin(cs []Cluster, spread []Spread, n int) []Cluster {
	if len(spread) == 0 {
		return cs[:n]
	}
	key := spread[0].Key
	byGroup := map[string][]Cluster{}
	var keys []string
	for _, c := range cs {
		v := groupValue(c, key)
		if _, ok := byGroup[v]; !ok {
			keys = append(keys, v)
		}
		byGroup[v] = append(byGroup[v], c)
	}
	sort.Strings(keys)
	var out []Cluster
	for i := 0; len(out) < n; i++ {
		for _, k := range keys {
			if i < len(byGroup[k]) && len(out) < n {
				out = append(out, byGroup[k][i])
			}
		}
	}
	return out
}

// hasCapacity reports whether c can take MinCapacity, and why.
func (s Selector) hasCapacity(c Cluster) (bool, string) {
	var have []string
	for _, name := range sortedKeys(s.MinCapacity) {
		need := s.MinCapacity[name]
		free, ok := c.Capacity[name]
		if !ok {
			return false, fmt.Sprintf("no %s capacity registered (need %s)", name, need.String())
		}
		q := capacityQuantity(name, free)
		if q.Cmp(need) < 0 {
			return false, fmt.Sprintf("free %s %s < %s", name, q.String(), need.String())
		}
		have = append(have, fmt.Sprintf("%s %s >= %s", name, q.String(), need.String()))
	}
	return true, "free " + strings.Join(have, ", ")
}

// capacityQuantity is a Cluster.Capacity value as a quantity: cpu in
// millicores, memory in bytes, anything else a count.
func capacityQuantity(name string, v int64) *resource.Quantity {
	switch name {
	case "cpu":
		return resource.NewMilliQuantity(v, resource.DecimalSI)
	case "memory":
		return resource.NewQuantity(v, resource.BinarySI)
	}
	return resource.NewQuantity(v, resource.DecimalSI)
}

// validCapacity checks a MinCapacity quantity: not negative, and as
// precise as Cluster.Capacity can hold (cpu to the millicore, anything
// else a whole number).
func validCapacity(name string, q resource.Quantity) error {
	switch {
	case name == "":
		return fmt.Errorf("a resource needs a name")
	case q.Sign() < 0:
		return fmt.Errorf("negative: %s", q.String())
	case name == "cpu" && resource.NewMilliQuantity(q.MilliValue(), resource.DecimalSI).Cmp(q) != 0:
		return fmt.Errorf("%s is finer than a millicore", q.String())
	case name != "cpu" && resource.NewQuantity(q.Value(), resource.DecimalSI).Cmp(q) != 0:
		return fmt.Errorf("%s is not a whole number", q.String())
	}
	return nil
}

// sortedKeys returns m's keys in order, for deterministic reasons.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
