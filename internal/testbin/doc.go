// Package testbin provides the server binaries of porchkit's local test
// stacks: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
// porch-server, porchctl, the Porch function runner, Porch's PackageVariant
// controller and kwok, plus the files
// they need from their modules (Porch's CRDs, kwok's stages).
//
// Binaries are built with "go build" from small tool modules, each pinning
// one upstream version (modules/etcd, kube, kwok and porch). The tool modules
// travel inside this package, embedded, so that they reach everyone who gets
// porchkit from the module proxy: a module zip leaves out any directory with
// its own go.mod, so they are stored as go.mod.txt, go.sum.txt and
// main.go.txt, which are no module files to the go command. On a cache miss a
// tool module is written out under the cache (src/<tool>-<version>-<key>) and
// built there; nothing is looked up in a porchkit checkout, so this works
// from the module cache and in binaries built with -trimpath.
//
// Built binaries are cached under the cache root (bin/<tool>-<version>-<key>)
// by a key made of the tool module's go.mod, go.sum and Go files (names and
// contents) and the Go version, OS and architecture, so a version change
// builds anew and an unchanged one is reused, by any module that uses
// porchkit. Concurrent processes build a tool once, under a file lock. The
// first build takes minutes and prints progress; later lookups take
// milliseconds.
//
// Environment variables:
//   - PORCHKIT_BIN_DIR: a directory of prebuilt binaries and assets, used as
//     is (no build). File names are the constants of this package.
//   - PORCHKIT_CACHE_DIR: the cache root; default <user cache dir>/porchkit.
//
// Command testbin (internal/testbin/cmd/testbin) builds everything up front,
// checks that the tool modules are tidy (-tidy) and writes them out for an
// upgrade (-write).
package testbin
