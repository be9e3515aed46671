package deps

import "github.com/Masterminds/semver/v3"

// ReleaseRef names one release.
type ReleaseRef struct {
	// Name is the package's name.
	Name string
	// Version is the release's exact version.
	Version *semver.Version
}

// String is "name@version".
func (r ReleaseRef) String() string { return r.Name + "@" + versionText(r.Version) }

// Request is what to resolve.
type Request struct {
	// Roots are the packages asked for, with their constraints.
	Roots []Dependency
	// Locked are releases already deployed. They stay as they are unless the
	// policy allows changes; then the plan changes as few as it can.
	Locked []ReleaseRef
	// Excluded releases are never chosen (e.g. known bad versions).
	Excluded []ReleaseRef
	// Policy tunes the resolution.
	Policy Policy
	// Previous is the plan of an earlier resolution of a similar request.
	// When it still satisfies this request and the deadline (or the
	// SearchBudget) ends the search before it has a plan, it is returned,
	// marked Optimal false: it holds, but is not proven the preference's
	// optimum.
	Previous *Plan
}

// Policy tunes a resolution. The zero value is the default: locks are hard,
// cycles are errors, repairs are priced by the default CostModel.
type Policy struct {
	// AllowLockChanges lets locked packages move to another version (or be
	// removed); each change is costed and the plan changes as few as it can
	// (an upgrade). Without it, locked releases are hard constraints.
	AllowLockChanges bool
	// AllowCycles accepts dependency cycles: their packages form one install
	// group. Without it, a plan with a cycle is a *CycleError.
	AllowCycles bool
	// Costs prices the edits the repairs of an *UnsatisfiableError may
	// propose (e.g. DropRoot: -1 never proposes dropping a root).
	Costs CostModel
}
