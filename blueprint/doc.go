// Package blueprint turns a kpt package plus typed values into a specialised,
// rendered package, the step between an intent and a package pushed to
// Porch.
//
// A [Blueprint] is a kpt package held in memory as a file map (the shape of
// porch.Package.Resources). It may carry a [Parameters] declaration, a
// local-config resource of kind blueprint.porchkit.io/v1alpha1 Parameters
// holding a JSON Schema (2020-12) for its values and the [Binding]s that say
// where each value lands: a field of selected resources, a kpt setter or an
// injection point. A package without one, such as the Nephio blueprints, is
// described by [Infer].
//
// [Generate] runs the whole flow: values layered (defaults < environment
// overlay < caller's values < cluster context), validated against the
// schema, bound, templates (*.tmpl) executed, then the package specialised
// as Porch's PackageVariant controller does it (package context, pipeline
// additions, config injection, Kptfile conditions and readiness gates) and
// its Kptfile pipeline rendered with krm.Render. The [Generator] interface
// is what callers depend on; blueprinttest holds a fake.
package blueprint
