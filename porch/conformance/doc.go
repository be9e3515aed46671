// Package conformance is the conformance suite of porchkit's Porch client:
// the behaviours of Porch v1.5.3 that porchkit relies on (repository
// registration, authoring, lifecycle, deletion, contents, lists and
// watches, concurrent writes), each checked through a porch.Client against
// a server.
//
// Run checks them all against a Target, each as a subtest named after the
// behaviour (Behaviours lists the names). A Target is a way to make clients
// of the server, a namespace, and a way to create git repositories there.
// porch's own TestConformance runs the suite on the in-memory fake of
// package porchtest and on the real, local Porch of package porchenv, so
// the two agree; a server of your own can be held to the same behaviours.
//
// The concurrency behaviours run twice: through a client with its default
// per-repository write limit, which serialises a client's own writes, and
// through one without the limit (porch.WithRepositoryConcurrency(0)), whose
// writes meet Porch's own handling of concurrent requests (409 "another
// request is already in progress", 500s from its git layer). The second run,
// named "concurrency/unlimited/...", checks what a caller can rely on then:
// every call either succeeds or fails with a typed error, and nothing a
// call reported done is lost.
//
// The suite owns its constants (lifecycles, the namespace of Porch's
// revision UIDs, timeouts); it reads nothing of the servers it checks.
package conformance
