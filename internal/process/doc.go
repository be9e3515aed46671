// Package process starts, watches and stops the server processes of
// porchkit's local test stacks (etcd, kube-apiserver, porch-server, ...).
//
// Every process gets its own process group, a minimal environment and a log
// file whose tail is available for failure reports. Stop sends SIGTERM (or
// the Spec's StopSignals) to the group, waits for a grace period and then
// sends SIGKILL to the whole group, so a stopped stack leaves nothing running. As a last resort, a server is
// also sent SIGKILL by Linux when the thread that started it ends (the
// parent-death signal; it reaches the direct child only).
package process
