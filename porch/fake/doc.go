// Package fake is an in-memory Porch server for tests, in the manner of
// controller-runtime's fake client, but one level lower: it is an HTTP
// server on 127.0.0.1 that speaks the porch.kpt.dev/v1alpha1 API
// (PackageRevisions with their /approval subresource,
// PackageRevisionResources), config.porch.kpt.dev/v1alpha1 Repositories and
// core/v1 Secrets, with API discovery, /version and health checks. Any
// client runs against it unchanged: porch.New, client-go, a
// controller-runtime client.New(srv.Config(), ...), or porchctl.
//
// It keeps Porch v1.5.3's semantics: revision names, revision numbers on
// approval, the latest-revision label, lifecycle rules, resourceVersion
// conflicts (answered, as Porch does, with HTTP 500), the deletion webhook,
// task results of init, clone, edit and upgrade, and watch events. It starts
// in a millisecond and holds everything in memory.
//
//	c, srv := fake.NewClientBuilder().
//		WithWriteLatency(20 * time.Millisecond).
//		WithFuncs(fake.Funcs{Get: fake.Fail("packagerevisions", http.StatusServiceUnavailable, "", 2)}).
//		Build(t)
//
// Hooks (Funcs, one per verb) see every API request before it is served and
// may answer an HTTP status, wait, drop the connection, or serve it and
// replace the answer; Fail, Drop, WithoutObject and Delay are the common
// ones. Server.Intercept adds hooks at run time, and Stop and Start take the
// server away and bring it back with its state. A Renderer (for example
// krm.NewPorchRenderer) renders packages on every change and a GitFetcher
// serves clones from git URLs; both get the request's context.
//
// The real Porch and the fake are held to the same behaviours: porchkit's
// conformance suite runs on both (porch's TestConformance). The fake's
// limits: it has no git behind it (clones from
// git come from its own repositories or the GitFetcher), renders only
// through the given Renderer, merges upgrades file by file where Porch
// merges resource by resource, serves no PackageVariants, and serialises
// every request, so it never shows the races of Porch's background sync
// unless a hook injects them.
package fake
