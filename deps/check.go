package deps

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidPlan is returned by Check for a plan that breaks a constraint.
var ErrInvalidPlan = errors.New("deps: plan breaks a constraint")

// PlanError lists what a plan breaks.
type PlanError struct {
	// Violations say, one sentence each, which constraint the plan breaks
	// and how, e.g. "amf@2.0.0 requires nrf >=3, which the plan lacks".
	Violations []string
}

// Error lists the violations after ErrInvalidPlan's text.
func (e *PlanError) Error() string {
	return fmt.Sprintf("%v: %s", ErrInvalidPlan, strings.Join(e.Violations, "; "))
}

// Unwrap returns ErrInvalidPlan.
func (e *PlanError) Unwrap() error { return ErrInvalidPlan }

// Check verifies, without a solver, that plan p satisfies every hard
// constraint of req over u: each root and each requirement of a chosen
// release has a chosen candidate, no chosen release conflicts with another,
// every chosen release is in u under its package's name, locks hold (unless
// the policy lets them change) and no excluded release is chosen. Optional
// dependencies and the objective are not checked.
func Check(u *Universe, req Request, p *Plan) error {
	var v []string
	x := newPlanIndex(u, p.Releases)
	chosen := func(d Dependency) bool { return anyChosen(u, p.Releases, d) }
	for name, r := range p.Releases {
		// A release of the universe is among its package's releases.
		ids, ok := x.depIDs(r)
		if r == nil || r.Name != name || !ok {
			v = append(v, fmt.Sprintf("%s is not a release of the universe", name))
			continue
		}
		for k, d := range r.Requires {
			if id := idAt(ids, k); !x.any(d, id) {
				v = append(v, fmt.Sprintf("%s requires %s, which the plan lacks", r.ID(), d))
			}
		}
		for _, d := range r.Conflicts {
			for _, c := range chosenCandidates(u, p.Releases, d) {
				if c != r {
					v = append(v, fmt.Sprintf("%s conflicts with %s, which the plan holds", r.ID(), c.ID()))
				}
			}
		}
	}
	for _, d := range req.Roots {
		if !chosen(d) {
			v = append(v, fmt.Sprintf("the request asks for %s, which the plan lacks", d))
		}
	}
	if !req.Policy.AllowLockChanges {
		for _, l := range req.Locked {
			if r := p.Releases[l.Name]; r == nil || !r.Version.Equal(l.Version) {
				v = append(v, fmt.Sprintf("%s is locked but the plan does not keep it", l))
			}
		}
	}
	for _, x := range req.Excluded {
		if r := p.Releases[x.Name]; r != nil && r.Version.Equal(x.Version) {
			v = append(v, fmt.Sprintf("%s is excluded but the plan holds it", x))
		}
	}
	if len(v) > 0 {
		return &PlanError{Violations: v}
	}
	return nil
}

// idAt is ids[k], -1 past its end.
func idAt(ids []int32, k int) int32 {
	if k < len(ids) {
		return ids[k]
	}
	return -1
}
