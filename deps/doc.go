// Package deps resolves dependencies between packages — network functions
// that need each other in compatible versions — with a real SAT solver,
// github.com/crillab/gophersat, and explains failures so that a person can
// act on them.
//
// A Universe holds Releases: a package name, a semantic version
// (Masterminds/semver), hard dependencies with version constraints
// ("nrf >=1.2, <2"), optional (weak) dependencies taken when possible,
// conflicts, provided capabilities (virtual packages such as
// "5gc-database") and cluster needs carried into the plan. A Request names
// root packages, locked (deployed) releases, excluded releases and a Policy.
//
// The SATResolver encodes one boolean per candidate release, "at most one
// version" per package, an implication per dependency, a clause per
// conflict and units for locks and exclusions. It then fixes the packages
// one by one, in the Preference's order (roots first, then breadth-first),
// to their most preferred choice that still admits a plan — by default not
// installed for a package nothing needs, else the newest version — which
// yields the preference's lexicographic optimum. With Policy.AllowLockChanges
// it first finds the fewest locked releases that must change.
//
// When no plan exists, the *UnsatisfiableError carries a minimal
// unsatisfiable set of facts (every one of them is needed for the conflict),
// rendered as a short derivation, and repairs: the cheapest edits of the
// request (widen a root's range, release a lock, lift an exclusion, drop a
// root) after which a plan exists.
//
//	amf@2.0.0 requires nrf >=3; smf@1.4.0 requires nrf <3; only one version of
//	nrf can be installed; you asked for amf 2.x and smf =1.4; so no plan
//	exists. Try: allow smf >=1.5.0 instead of smf =1.4.
//
// Re-planning is incremental: pass the earlier plan as Request.Previous;
// while it still satisfies the request it is the starting model, and only
// the packages it does not already give their preferred choice cost a
// solver call.
//
// Check verifies a plan against a request without a solver; the resolver
// runs it on every plan it returns.
package deps
