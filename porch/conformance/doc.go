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
// package porch/fake and on the real, local Porch of package porchenv, so
// the two agree; a server of your own can be held to the same behaviours.
//
// The concurrency behaviours run twice: through a client with its default
// per-repository write limit, which serialises a client's own writes, and
// through one without the limit (porch.Options{RepositoryConcurrency: -1}),
// whose writes reach the server at once and meet Porch's own handling of
// concurrent requests. The second run, named "concurrency/unlimited/...",
// holds the outcome to the same rules: exactly one of racing creates or
// pushes wins, racing lifecycle moves settle on the right lifecycle and
// revision, no write a call reported done is lost and no failed write is
// half-done. Porch v1.5.3 answers racing creates of one workspace with 500
// "workspaceNames must be unique", racing pushes with 500 "the object has
// been modified" or 409 "another request is already in progress", which the
// client maps to porch.ErrAlreadyExists, porch.ErrConflict and
// porch.ErrBusy; its git layer also answers some racing writes with a 500
// such as "ref file is empty" (porch.ErrInternal), which this run accepts
// from a losing call. Such a 500 can reach the very call that deleted a
// revision, and a call that met it and then finds the revision gone reports
// success, so of racing deletes any number, none included, may report
// success; the run checks that every other call failed with not found,
// busy or such a 500, that at least one call succeeded or met such a 500,
// and that the revision is gone afterwards.
//
// The suite owns its constants (lifecycles, the namespace of Porch's
// revision UIDs, timeouts); it reads nothing of the servers it checks.
package conformance
