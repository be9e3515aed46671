// Package intent turns a typed network-function intent into a blueprint
// package. An intent names what an operator wants (a 5G core or RAN
// network function, its scale, where it runs, HA, the environment, the
// PLMN and the slices it serves); declarative rules, kept as data with CEL
// conditions and value expressions, choose a blueprint, a semver
// constraint and the blueprint values; FromIntent resolves the blueprint
// through a catalog and generates the specialised package with a
// blueprint Generator, returning the rule that chose it.
//
// Rule selection: every rule whose conditions are all true matches. The
// matching rule with the highest priority wins; when two or more matching
// rules share that highest priority the choice is ambiguous and FromIntent
// fails with an AmbiguousError naming them, rather than picking by file
// order. When no rule matches, NoMatchError says, for every rule, which
// conditions were false or failed to evaluate.
package intent
