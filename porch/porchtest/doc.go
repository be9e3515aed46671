// Package porchtest holds Fake, an in-memory Porch for tests: an HTTP server
// with Porch v1.5.3's semantics (names, revision numbers, the
// latest-revision label, lifecycle rules, resourceVersion conflicts,
// deletion rules, task results, watch events) that starts in a millisecond,
// with hooks for rendering, git clones, write latency and fault injection.
//
// The real, local Porch is package porchenv; package conformance holds a
// porch.Client and its server to the behaviours porchkit relies on, and
// porch's own TestConformance runs it on the Fake and on porchenv's stack.
package porchtest
