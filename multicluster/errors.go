package multicluster

import (
	"errors"
	"fmt"
)

// Sentinel errors; every error this package returns wraps one of them, so
// errors.Is works on all of them.
var (
	// ErrUnknownCluster: a name that is not registered.
	ErrUnknownCluster = errors.New("unknown cluster")
	// ErrAlreadyRegistered: Register with a name already in use.
	ErrAlreadyRegistered = errors.New("cluster already registered")
	// ErrInvalidCluster: a cluster registration that cannot work.
	ErrInvalidCluster = errors.New("invalid cluster")
	// ErrEmptySelection: a selector that selects no cluster.
	ErrEmptySelection = errors.New("no cluster selected")
	// ErrUnsatisfiable: constraints that contradict each other (a spread
	// that cannot be met, for instance).
	ErrUnsatisfiable = errors.New("placement constraints cannot be met")
	// ErrInvalidStrategy: strategy numbers out of range or missing.
	ErrInvalidStrategy = errors.New("invalid strategy")
	// ErrRenderFailed: customising the package for a cluster failed.
	ErrRenderFailed = errors.New("package does not render for cluster")
	// ErrUnauthorized: a cluster rejected the credentials.
	ErrUnauthorized = errors.New("cluster rejected the credentials")
	// ErrUnreachable: a cluster's API server could not be reached.
	ErrUnreachable = errors.New("cluster unreachable")
	// ErrUnknownRollout: a propagation ID that does not exist.
	ErrUnknownRollout = errors.New("unknown rollout")
	// ErrRolloutFinished: Pause, Resume, Abort or Restore of a finished
	// rollout.
	ErrRolloutFinished = errors.New("rollout already finished")
	// ErrRolloutRunning: Restore of a rollout this Propagator is running.
	ErrRolloutRunning = errors.New("rollout already running")
	// ErrUnknownRevision: a revision a backend does not have.
	ErrUnknownRevision = errors.New("unknown revision")
	// ErrRevisionMismatch: Resume with a package other than the one the
	// rollout started with.
	ErrRevisionMismatch = errors.New("package differs from the rollout's")
	// ErrRolloutConflict: Propagate with ConflictRefuse while another
	// rollout of the same package runs to some of the same clusters (see
	// ConflictError for which).
	ErrRolloutConflict = errors.New("another rollout of the package runs to the same clusters")
	// ErrStore: the StateStore could not save or load a record (the
	// cause, e.g. the API server's error, is wrapped too).
	ErrStore = errors.New("rollout state store failed")
	// ErrClosed: a call on a Propagator after Close.
	ErrClosed = errors.New("propagator closed")
	// ErrInvalidOption: a PropagateOption out of range.
	ErrInvalidOption = errors.New("invalid propagate option")
)

// ConflictError says which running rollout a refused Propagate would have
// overlapped; it wraps ErrRolloutConflict.
type ConflictError struct {
	// Rollout is the running rollout in the way.
	Rollout ID
	// Package is the package both rollouts propagate.
	Package string
	// Clusters are the first clusters both rollouts target (at most 5);
	// Overlap counts them all.
	Clusters []string
	// Overlap is how many clusters both rollouts target.
	Overlap int
}

// Error implements error.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("%v: rollout %s of %s runs to %s targeted again (%v)", ErrRolloutConflict, e.Rollout, e.Package,
		count(e.Overlap, "cluster", "clusters"), e.Clusters)
}

// Unwrap returns ErrRolloutConflict.
func (e *ConflictError) Unwrap() error { return ErrRolloutConflict }

// ClusterError is an error about one cluster.
type ClusterError struct {
	// Cluster is the cluster's name.
	Cluster string
	// Err is the cause; it wraps a sentinel such as ErrUnreachable.
	Err error
}

// Error implements error.
func (e *ClusterError) Error() string { return fmt.Sprintf("cluster %s: %v", e.Cluster, e.Err) }

// Unwrap returns the cause.
func (e *ClusterError) Unwrap() error { return e.Err }

// FieldError says which input field is wrong and why; it wraps the
// sentinel of its kind (ErrInvalidStrategy, ErrInvalidCluster, ...).
type FieldError struct {
	// Field is the input field's path, e.g. "type" or "capacity.cpu".
	Field string
	// Reason says what is wrong with it.
	Reason string
	// Kind is the sentinel the error wraps.
	Kind error
}

// Error implements error.
func (e *FieldError) Error() string { return fmt.Sprintf("%v: %s: %s", e.Kind, e.Field, e.Reason) }

// Unwrap returns the kind.
func (e *FieldError) Unwrap() error { return e.Kind }

func fieldError(kind error, field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...), Kind: kind}
}
