// Package gitops is the Porch delivery backend of multicluster: each
// cluster is fed by its Porch deployment repository (Cluster.Repository),
// and delivering a revision publishes it there as a new package revision:
// the first time by cloning the upstream blueprint (when the Package
// names one) or by init, later by copying the latest published revision;
// the draft's resources are replaced by the revision customised for the
// cluster, then proposed and approved. A rollback delivers the previous
// content again, so it is published as a new revision: the repository's
// history keeps both the failed and the restored content.
//
// Porch publishes to git; an agent in the cluster (Config Sync, Flux)
// applies it. Without one, Config.Sync applies each published revision
// with another backend (the direct applier), which then also judges
// readiness.
//
// PackageFromRevision and PullPackage go the other way: a published Porch
// package revision becomes the multicluster.Package a Propagator rolls out,
// named after its path, versioned by Porch's revision number, without its
// local-config resources.
//
//	backend := gitops.New(porchClient, gitops.Config{Sync: applier.New(applier.Config{})})
//	prop := multicluster.NewPropagator(manager, backend, multicluster.PropagatorConfig{})
package gitops
