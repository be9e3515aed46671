// Package applier is the direct delivery backend of multicluster:
// server-side apply of a revision's resources to a cluster with
// sigs.k8s.io/cli-utils, whose ConfigMap inventory prunes what a newer
// revision no longer has, and readiness judged by kstatus on exactly the
// revision applied (every object must carry the revision's annotation and
// be Current).
//
// Each cluster keeps, in its inventory namespace, the inventory of every
// package and a ConfigMap with the package's last revisions (current and
// earlier ones, for rollback after a restart of the propagating process).
//
//	backend := applier.New(applier.Config{})
//	prop := multicluster.NewPropagator(manager, backend, multicluster.PropagatorConfig{})
package applier
