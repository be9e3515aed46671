// Package intent turns a typed network-function intent into a blueprint
// package. An intent names what an operator wants (a 5G core or RAN
// network function, its scale, where it runs, HA, the environment, the
// PLMN and the slices it serves); declarative rules, kept as data with CEL
// conditions and value expressions, choose a blueprint, a semver
// constraint and the blueprint values; FromIntent resolves the blueprint
// through a catalog and generates the specialised, rendered and validated
// package with a blueprint Generator, returning the rule that chose it.
//
// Rules are YAML documents of kind intent.porchkit.io/v1alpha1 Rules:
//
//	apiVersion: intent.porchkit.io/v1alpha1
//	kind: Rules
//	spec:
//	  rules:
//	  - name: upf-prod
//	    priority: 10
//	    when:                      # CEL over the variable intent; all must hold
//	    - intent.networkFunction == "UPF"
//	    - intent.environment == "prod"
//	    blueprint: {name: upf, version: "^1.0.0"}
//	    values: {log_level: warn}  # literal values; "a.b" keys nest
//	    valueExprs:                # CEL; null leaves the blueprint's default
//	      ha_enabled: "true"
//	      region: 'intent.region != "" ? intent.region : intent.site'
//
// Rule selection: every rule whose conditions are all true matches. The
// matching rule with the highest priority wins; when two or more matching
// rules share that highest priority the choice is ambiguous and Decide
// fails with an AmbiguousError naming them, rather than picking by file
// order. When no rule matches, NoMatchError says, for every rule, which
// conditions were false or failed to evaluate. An invalid intent fails
// before any rule runs, with an InvalidIntentError listing every field.
//
// LibraryRules map AMF, SMF, UPF and NRF intents to the example blueprints
// of package blueprint/library; NewLibraryMapper wires them to a catalog.
package intent
