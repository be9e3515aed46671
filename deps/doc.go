// Package deps resolves dependencies between packages — network functions
// that need each other in compatible versions — with a conflict-driven
// clause-learning search of its own (the gophersat SAT solver,
// github.com/crillab/gophersat, only checks the few facts of a conflict),
// and explains failures so that a person can act on them.
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
// roots before transitive dependencies, then fewest packages; a need that
// several packages can meet tries the package of that name, then the
// providers of the capability with its highest version first (the
// Preference decides, PreferProviders changes it; the order releases were
// added plays no part). With Policy.AllowLockChanges the plan first
// changes the fewest locked releases (a bound found by searching under
// it), then follows the preference.
//
// The walk over the needs is the decision procedure of a search that
// learns: one boolean per release, and everything the facts force once a
// release is chosen is propagated (one version per package, the ranges of
// the chosen releases, dependencies no release can fill any more,
// conflicts, locks, exclusions, the lock-change budget, and with cycles
// forbidden the absence of a dependency cycle). A dead end yields a
// learned clause (first UIP) that no later choice can violate, so no dead
// end is explored twice, and the search backtracks chronologically, so it
// gives up only the decision a dead end disproves. A choice is skipped
// only when it is proven false, so the first plan the walk completes is
// the preference's lexicographic optimum; a conflict owed to no decision
// proves that no plan exists.
//
// Cycles are a constraint when the policy forbids them: the resolver
// returns the most preferred plan without a cycle, and a *CycleError only
// when every plan has one, with a minimal set of facts that forces it.
//
// The context's deadline is honoured within the search, which looks at the
// context every checkEvery units of work and never waits on a solver: at
// the deadline Resolve returns the best plan it knows (Request.Previous
// when that still holds, or the plan with the fewest lock changes found so
// far) marked Optimal false, or an *InterruptedError. ResolverConfig's
// SearchBudget bounds the conflicts instead, independently of the machine.
//
// When no plan exists, the facts the search's refutation used (an
// unsatisfiable core) locate the conflict; the *UnsatisfiableError carries
// a minimal unsatisfiable set of facts (every one of them is needed for
// the conflict), found by QuickXplain over the core, each check a search
// with only the facts checked (the one-version facts last, by gophersat
// over the releases the few facts left name), rendered as a short
// derivation, and repairs: the cheapest edits of the request (widen a
// root's range, release a lock, lift an exclusion, drop a root) after
// which a plan exists, with cycles forbidden one without a cycle: a
// minimum-cost correction set found by implicit hitting sets, each
// candidate checked by resolving the edited request. All of it looks at
// the context; a deadline during it leaves an *UnsatisfiableError marked
// Interrupted, whose conflict holds but may not be minimal.
//
//	amf@2.0.0 requires nrf >=3; smf@1.4.0 requires nrf <3; only one version of
//	nrf can be installed; you asked for amf 2.x and smf =1.4; so no plan
//	exists. Try: allow smf >=1.5.0 instead of smf =1.4.
//
// Re-planning needs no special care: the search is close to linear in
// practice (10,000 packages in about 0.4 s, 0.5 s with one dependency in
// five bounded above; docs/measurements.md).
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
