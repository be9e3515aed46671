// Package process starts, watches and stops the server processes of
// porchkit's local test stacks (etcd, kube-apiserver, porch-server, ...).
//
// Every process gets its own process group, a minimal environment, a log
// file whose tail is available for failure reports, and is killed when the
// starting process dies (Linux parent-death signal). Stop sends SIGTERM to the
// group, waits for a grace period and then sends SIGKILL, so a test never
// leaves a server running behind it.
package process
