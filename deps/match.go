package deps

import "slices"

// matches reports whether release c satisfies d: as a release of package
// d.Name in range, or by providing capability d.Name in range (a
// capability without a version satisfies only unconstrained dependencies).
func matches(d Dependency, c *Release) bool {
	if c.Name == d.Name && d.Allows(c.Version) {
		return true
	}
	for _, p := range c.Provides {
		if p.Name == d.Name && ((p.Version == nil && d.Constraint == nil) || (p.Version != nil && d.Allows(p.Version))) {
			return true
		}
	}
	return false
}

// chosenCandidates returns the releases among chosen (by package) that
// satisfy d.
func chosenCandidates(u *Universe, chosen map[string]*Release, d Dependency) []*Release {
	var out []*Release
	if r := chosen[d.Name]; r != nil && r.Name == d.Name && d.Allows(r.Version) {
		out = append(out, r)
	}
	if len(u.providers) == 0 {
		return out
	}
	for _, p := range u.providers[d.Name] {
		if chosen[p.release.Name] == p.release && !slices.Contains(out, p.release) && matches(d, p.release) {
			out = append(out, p.release)
		}
	}
	return out
}

// anyChosen reports whether a release among chosen satisfies d, like
// len(chosenCandidates(...)) > 0 without building the list.
func anyChosen(u *Universe, chosen map[string]*Release, d Dependency) bool {
	if r := chosen[d.Name]; r != nil && r.Name == d.Name && d.Allows(r.Version) {
		return true
	}
	if len(u.providers) == 0 {
		return false
	}
	for _, p := range u.providers[d.Name] {
		if chosen[p.release.Name] == p.release && matches(d, p.release) {
			return true
		}
	}
	return false
}
