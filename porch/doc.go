// Package porch is a Go client for Nephio Porch (porch.kpt.dev and
// config.porch.kpt.dev): repositories, package revisions, their files, and
// their lifecycle, with everything `porchctl` does available as methods.
//
// Build a Client from the *rest.Config every client-go program has:
//
//	c, err := porch.New(cfg, porch.Options{})                      // retries, breaker, cache on
//	defer c.Close()
//	prs := c.PackageRevisions("default")
//	draft, err := prs.Init(ctx, "blueprints", "app", "v1")
//	_, err = prs.UpdateResources(ctx, draft.Name, func(p *porch.Package) error {
//		p.Resources["cm.yaml"] = "..."
//		return nil
//	})
//	_, err = porch.NewLifecycleManager(prs, porch.LifecycleOptions{Policy: policy}).
//		Promote(ctx, draft.Name, porchapi.PackageRevisionLifecyclePublished)
//
// The client absorbs Porch v1.5.3's surprises so callers do not meet them:
// a stale resourceVersion (which Porch answers with HTTP 500) is ErrConflict
// and read-modify-write operations retry it; Porch's per-object lock (409
// "already in progress") is ErrBusy and retried; field selectors that Porch
// applies loosely (package leaf names, watches after their first events) are
// applied exactly on the client side; render results come back from Push;
// a Published revision is refused for deletion with ErrImmutable unless the
// caller asks for ProposingDeletion. Every failure is an *Error whose Kind
// is one of the sentinel errors, for errors.Is.
//
// Resilience, each tuned or turned off through a field of Options
// (Retry, CircuitBreaker, Cache, RepositoryConcurrency):
//   - retries with exponential backoff and jitter (DefaultRetryBackoff) for
//     transient errors, only where repeating is safe: reads always; writes
//     only when the server provably did not act (409 busy, 429, 503,
//     connection refused);
//   - a circuit breaker (sony/gobreaker): DefaultBreakerFailures consecutive
//     server failures open it for DefaultBreakerOpenFor, during which calls
//     fail at once with ErrCircuitOpen;
//   - a read cache (hashicorp/golang-lru) of revisions, their files and
//     lists, kept current by a watch per namespace and by the client's own
//     writes, so a read never returns data older than a write this client
//     completed before it. A write drops the namespace's lists and the
//     revisions whose latest-revision label it can move (same repository
//     and package leaf name); other packages stay cached;
//   - DefaultRepositoryConcurrency writes per repository at once: Porch
//     serialises git work per repository, and more concurrent writes only
//     add HTTP 500s.
//
// Metrics and traces go to an Instrumentation (see
// observability/porchobs for Prometheus and OpenTelemetry).
// For tests, porch/fake is an in-memory Porch server, porch/porchenv runs a
// real, local Porch, and porch/conformance is the suite that holds the fake
// and the real server to the same behaviours.
package porch
