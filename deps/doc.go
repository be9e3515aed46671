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
// The SATResolver builds the plan from the request outwards: the roots,
// the locked packages, then the dependencies of each release it chooses,
// in the Preference's order, each need getting its most preferred choice
// that still admits a plan. A package enters the plan only when something
// needs it. The default NewestFirst therefore gives newest versions first,
// roots before transitive dependencies, then fewest packages; with
// Policy.AllowLockChanges the solver first finds the fewest locked releases
// that must change, a bound the search keeps.
//
// A choice that contradicts what is already chosen (a range either way, a
// conflict, a lock, an exclusion, a dependency whose package no release can
// fill any more) is ruled out without a solver, with the decisions it
// contradicts as the reason. At a dead end the search jumps back to the
// latest decision behind it (conflict-directed backjumping), so it only
// ever skips choices proven to admit no plan: the plan is the preference's
// lexicographic optimum, and a dead end owed to no decision proves that no
// plan exists. Past a work budget the gophersat solver becomes the search's
// oracle: one boolean per candidate release, pairwise "at most one version"
// per package, a clause per dependency and conflict, units for locks and
// exclusions, and solver calls under assumptions that say which prefix of
// the decisions still admits a plan.
//
// When no plan exists, the *UnsatisfiableError carries a minimal
// unsatisfiable set of facts (every one of them is needed for the
// conflict), found by QuickXplain on one incremental solver over the
// smallest neighbourhood of the request that is already unsatisfiable and
// rendered as a short derivation, and repairs: the cheapest edits of the
// request (widen a root's range, release a lock, lift an exclusion, drop a
// root) after which a plan exists, a minimum-cost correction set found by
// gophersat's pseudo-boolean optimisation.
//
//	amf@2.0.0 requires nrf >=3; smf@1.4.0 requires nrf <3; only one version of
//	nrf can be installed; you asked for amf 2.x and smf =1.4; so no plan
//	exists. Try: allow smf >=1.5.0 instead of smf =1.4.
//
// Re-planning needs no special care: the search is linear in practice
// (10,000 packages in about a third of a second). A Request.Previous that
// still satisfies the request answers the solver's questions where it can
// when the search falls back to the solver.
//
// Check verifies a plan against a request without a solver; the resolver
// runs it on every plan it returns.
//
// Packages declare their releases in their Kptfiles (ReleaseAnnotation);
// UniverseFromPorch builds a universe from the published revisions a
// PackageSource lists, and deps/porchsource is that source on a
// porch.Client. The resolver is configured by a ResolverConfig whose zero
// value is the default:
//
//	u, err := deps.UniverseFromPorch(ctx, porchsource.New(client, porchsource.Config{}), "catalog")
//	plan, err := deps.NewSATResolver(deps.ResolverConfig{}).Resolve(ctx, u, req)
package deps
