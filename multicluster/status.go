package multicluster

import "time"

// ID identifies a propagation.
type ID string

// Phase is where a propagation is.
type Phase string

// Phases.
const (
	// PhaseRunning: clusters are being delivered to, gated or soaked.
	PhaseRunning Phase = "Running"
	// PhasePaused: Pause stopped it from starting more clusters; Resume
	// continues.
	PhasePaused Phase = "Paused"
	// PhaseSucceeded: every cluster is Available with the revision.
	PhaseSucceeded Phase = "Succeeded"
	// PhaseSucceededWithFailures: every wave passed its gate, but some
	// clusters failed or were unreachable within Strategy.MaxFailures
	// (Status.Failures names them); the others are Available with the
	// revision.
	PhaseSucceededWithFailures Phase = "SucceededWithFailures"
	// PhaseHalted: a gate failed and OnFailure was FailureHalt.
	PhaseHalted Phase = "Halted"
	// PhaseRolledBack: a gate failed and every touched cluster is back at
	// its last-known-good revision.
	PhaseRolledBack Phase = "RolledBack"
	// PhaseRollbackFailed: a gate failed and some touched clusters could
	// not be rolled back (see their status).
	PhaseRollbackFailed Phase = "RollbackFailed"
	// PhaseAborted: Abort stopped it (after rolling back when OnFailure is
	// FailureRollback).
	PhaseAborted Phase = "Aborted"
	// PhaseSuperseded: a newer rollout of the same package to some of the
	// same clusters (Status.SupersededBy) stopped it; it did not roll back,
	// and handed its clusters to the newer rollout.
	PhaseSuperseded Phase = "Superseded"
)

func (p Phase) finished() bool { return p != PhaseRunning && p != PhasePaused }

// ClusterState is one cluster's part of a propagation.
type ClusterState string

// Cluster states. ClusterUnreachable (the API server did not answer) is
// kept apart from ClusterFailed (it answered, and the revision did not
// become Available in time).
const (
	// ClusterPending: its wave has not reached it yet.
	ClusterPending ClusterState = "Pending"
	// ClusterProgressing: the revision is delivered and not yet Available.
	ClusterProgressing ClusterState = "Progressing"
	// ClusterSucceeded: the revision is Available on the cluster.
	ClusterSucceeded ClusterState = "Succeeded"
	// ClusterFailed: delivery failed, or the revision did not become
	// Available within the progress deadline.
	ClusterFailed ClusterState = "Failed"
	// ClusterUnreachable: the cluster could not be reached.
	ClusterUnreachable ClusterState = "Unreachable"
	// ClusterSkipped: not reached because the rollout stopped first.
	ClusterSkipped ClusterState = "Skipped"
	// ClusterRolledBack: the cluster is back at its previous revision, or
	// the package was removed from it when it had none.
	ClusterRolledBack ClusterState = "RolledBack"
	// ClusterRollbackFailed: returning the cluster to its previous
	// revision failed.
	ClusterRollbackFailed ClusterState = "RollbackFailed"
	// ClusterStopped: a delivery was under way when the rollout was
	// aborted without rollback, or superseded; the cluster may run either
	// revision (a superseding rollout delivers it again).
	ClusterStopped ClusterState = "Stopped"
)

func (s ClusterState) failed() bool { return s == ClusterFailed || s == ClusterUnreachable }

// Status is a propagation's bounded summary: counts, per-wave progress
// around the current wave, and the first failures. Its size does not grow
// with the number of clusters beyond the configured limits; per-cluster
// detail comes from ClusterStatus.
type Status struct {
	// ID is the propagation's ID.
	ID ID
	// Package is the propagated package's name.
	Package string
	// Revision is the propagated package's revision.
	Revision string
	// Strategy is the strategy's type.
	Strategy StrategyType
	// Phase is where the propagation is.
	Phase Phase
	// Reason says why the phase is what it is (the failed gate, ...).
	Reason string
	// SupersededBy is the rollout that superseded this one (PhaseSuperseded).
	SupersededBy ID
	// Total is the number of target clusters.
	Total int
	// Counts has, per state, the clusters in it (states without clusters
	// are left out).
	Counts map[ClusterState]int
	// Wave is the current wave's index; Waves how many there are.
	Wave, Waves int
	// WaveProgress covers at most the configured number of waves, the
	// current one and those before it.
	WaveProgress []WaveStatus
	// Failures are the first failed or unreachable clusters, at most the
	// configured number.
	Failures []ClusterStatus
	// Analysis has the last result of each analysis check.
	Analysis []AnalysisStatus
	// Started and Finished are when the propagation started and finished
	// (Finished is zero until then).
	Started, Finished time.Time
}

// WaveStatus counts one wave's clusters by state.
type WaveStatus struct {
	// Index is the wave's index, from 0.
	Index int
	// Clusters counts the wave's clusters.
	Clusters int
	// Counts has, per state, the wave's clusters in it.
	Counts map[ClusterState]int
}

// ClusterStatus is one cluster's detail.
type ClusterStatus struct {
	// Name is the cluster's name.
	Name string
	// Wave is the index of the cluster's wave.
	Wave int
	// State is the cluster's state in the propagation.
	State ClusterState
	// Message says why (Porch's or the cluster's words where there are).
	Message string
	// Failure keeps why the cluster failed (FailedAs ClusterFailed or
	// ClusterUnreachable) after a rollback has changed its state.
	Failure string
	// FailedAs is the state the cluster failed in ("" when it has not
	// failed).
	FailedAs ClusterState
	// Revision is the revision being rolled out to the cluster; Previous
	// the one it ran before (empty: none), which rollback returns to.
	Revision, Previous string
	// Started is when delivery to the cluster started; Finished when it
	// last reached a state other than Pending and Progressing (zero until
	// then).
	Started, Finished time.Time
}

// AnalysisStatus is an analysis check's last result.
type AnalysisStatus struct {
	// Name is the check's Analysis.Name.
	Name string
	// Value is what the check measured last.
	Value float64
	// Failures counts the failed evaluations so far; FailureThreshold of
	// them fail the gate.
	Failures int
	// Message says the value and the range, or the check's error.
	Message string
}
