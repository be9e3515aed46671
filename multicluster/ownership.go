package multicluster

import "context"

// Ownership decides which of several replicas of an operator runs a
// rollout, so that no cluster is ever delivered to by two replicas at once.
// Every replica that is asked to propagate the same inputs computes the
// same rollout ID and asks to own it; the one that does runs the rollout
// from its StateStore record, the others wait and take over when the
// owner is gone.
type Ownership interface {
	// Acquire blocks until this replica owns rollout id, or ctx ends
	// (then it returns ctx's error). The returned context ends when
	// ownership is lost or ctx ends; release gives ownership up at once
	// and must be called exactly once.
	Acquire(ctx context.Context, id ID) (owned context.Context, release func(), err error)
}
