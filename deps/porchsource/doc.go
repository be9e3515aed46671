// Package porchsource reads the releases deps resolves over from Porch: a
// Source lists the published package revisions of a repository through a
// porch.Client and pulls their files: the Kptfile's deps.porchkit.io/release
// annotation (deps.ReleaseAnnotation) declares each release's version and
// dependencies, and Nephio's own req.nephio.org/v1alpha1 Dependency
// resources (deps.NephioDependency) add theirs.
//
//	src := porchsource.New(client, porchsource.Config{Namespace: "default"})
//	u, err := deps.UniverseFromPorch(ctx, src, "catalog")
//	plan, err := deps.NewSATResolver(deps.ResolverConfig{}).Resolve(ctx, u, req)
//
// It lives apart from deps so that deps itself links nothing of the porch
// client (client-go and Porch's API types).
package porchsource
