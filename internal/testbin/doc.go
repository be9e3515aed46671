// Package testbin provides the server binaries of porchkit's local test
// stacks: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
// porch-server, porchctl, the Porch function runner and kwok, plus the files
// they need from their modules (Porch's CRDs, kwok's stages).
//
// Binaries are built with "go build" from the small tool modules committed in
// the repository's tools/ directory, each pinning one upstream version. They
// are cached outside the repository under a key made of the tool module's
// go.mod, go.sum and Go files and the Go version, OS and architecture, so a
// version change builds anew and an unchanged one is reused. The first build takes minutes and prints progress; later lookups
// take milliseconds.
//
// Environment variables:
//   - PORCHKIT_BIN_DIR: a directory of prebuilt binaries and assets, used as
//     is (no build). File names are the constants of this package.
//   - PORCHKIT_TOOLS_DIR: the tools/ directory of a porchkit checkout, for
//     callers whose porchkit source is a module download (module zips do not
//     contain nested modules).
//   - PORCHKIT_CACHE_DIR: the cache root; default <user cache dir>/porchkit.
package testbin
