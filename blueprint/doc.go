// Package blueprint turns a kpt package plus typed values into a specialised,
// rendered package, the step between an intent and a package pushed to
// Porch.
//
// A [Blueprint] is a kpt package held in memory as a file map (the shape of
// porch.Package.Resources, so [FromPackage] and [Blueprint.Package] convert
// both ways). It may carry a [Parameters] declaration, a local-config
// resource of kind blueprint.porchkit.io/v1alpha1 Parameters holding a JSON
// Schema (draft 2020-12) for its values and the [Binding]s that say where
// each value lands: a field of selected resources, a kpt setter or an
// injection point. A package without one, such as the Nephio blueprints, is
// described by [Infer] from its injection points ([InjectionPoints]), kpt
// setters ([Setters]) and package context ([PackageContextKeys]).
// [Parameters.Describe] lists the parameters for people.
//
// [Generate] runs the whole flow, in this order:
//
//  1. Values are layered, lowest first: schema defaults, the environment
//     overlay the declaration names, the caller's values, the cluster
//     context ([ClusterContext], from a multicluster.Cluster or a Nephio
//     WorkloadCluster or ClusterContext). [Package.Origins] says which layer
//     set each value.
//  2. The effective values are validated; every failure is reported at
//     once as a [SchemaError] in a [*ValuesError].
//  3. Templates (files ending .tmpl) are executed with sprig's functions,
//     less those reading the environment, network, clock or entropy; their
//     output replaces them and must be YAML KRM.
//  4. Bindings write the values, types kept (an integer stays an integer).
//  5. The package is specialised as Porch's clone and PackageVariant
//     controller do it: the Kptfile takes the package name (and, for a
//     deployment, package contexts are regenerated), package-context keys
//     are set and removed, pipeline functions are prepended as
//     PackageVariant.<variant>.<fn>.<position>, injection points take the
//     spec (or ConfigMap data) of the first matching injector's object,
//     and the Kptfile gets a condition per point and a readiness gate per
//     required point. An injector's object wins over values bound to the
//     same point.
//  6. The Kptfile pipeline is rendered with krm.Render. A function no
//     runtime here has (docker.io/nephio/*-fn) fails the render with
//     ErrFunctionUnavailable, as it fails Porch's render; SkipFunctions
//     removes such functions explicitly, WithoutRender leaves the pipeline
//     unrun.
//
// Nothing is returned on error and the blueprint is never modified. The
// [Generator] interface is what callers depend on; [Engine] implements it
// over a [Source] of blueprints, and blueprinttest holds a fake.
//
// [Validate] (and [ValidatePackage] for a package as Porch holds it)
// checks in seven layers, reporting every [Violation] at once with its
// path, file and line, value, rule and a suggested fix: values, templates,
// YAML syntax, KRM structure, the OpenAPI schema of built-in kinds, CEL
// policies, and the Kptfile's validators.
//
// A [Catalog] lists semver versions of blueprints from Porch repositories
// (published revisions, refreshed by the porch client's watch), local
// directories (git tags too) and an fs.FS; Resolve returns the newest
// version a constraint allows, and a Catalog is a [Source] for Generate.
// ResolveAll picks consistent versions across blueprints' dependencies
// with the deps package.
//
// [GenerateInto] clones a published blueprint revision into a Porch
// repository, specialises it and pushes it, as a Draft or through the
// lifecycle to Published once its readiness gates are met; [Upgrade]
// previews a new upstream (three-way diff, per-field conflicts and a policy
// for each) before it makes a draft, and keeps the downstream's
// customisations.
package blueprint
