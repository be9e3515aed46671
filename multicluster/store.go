package multicluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Record is what a StateStore keeps of a propagation, enough to show the
// same Status as the running rollout does and to resume it in another
// process or replica.
type Record struct {
	// ID is the propagation's ID.
	ID ID
	// Package is the propagated package's name.
	Package string
	// Revision is the propagated package's revision.
	Revision string
	// StrategyType is the strategy's type; the strategy itself (with its
	// analysis checks, which are Go values) is given again to Resume.
	StrategyType StrategyType
	// Phase is where the propagation is.
	Phase Phase
	// Reason says why the phase is what it is.
	Reason string
	// SupersededBy is the rollout that superseded this one.
	SupersededBy ID `json:",omitempty"`
	// Wave is the current wave's index.
	Wave int
	// Waves are the cluster names of each wave, in order.
	Waves [][]string
	// Clusters has each target cluster's state, by name.
	Clusters map[string]ClusterRecord
	// Started is when the propagation started.
	Started time.Time
	// Finished is when it finished (zero until then).
	Finished time.Time
	// Failed names the first clusters that failed, in the order they
	// failed, at most PropagatorConfig.FailuresShown (Status.Failures).
	Failed []string `json:",omitempty"`
	// Analysis has the last result of each analysis check.
	Analysis []AnalysisStatus `json:",omitempty"`
}

// ClusterRecord is one cluster's persisted state.
type ClusterRecord struct {
	// State is the cluster's state in the propagation.
	State ClusterState `json:"s"`
	// Revision is the revision ID rolled out to the cluster.
	Revision string `json:"r,omitempty"`
	// Previous is the revision ID the cluster ran before ("": none),
	// which rollback returns to.
	Previous string `json:"p,omitempty"`
	// Touched: a revision was delivered to the cluster by this rollout.
	Touched bool `json:"t,omitempty"`
	// Known: Previous is the cluster's last-known-good revision, handed
	// over by a superseded rollout or read before delivery, even though
	// this rollout has not touched the cluster yet.
	Known bool `json:"k,omitempty"`
	// Message says why the cluster is in its state.
	Message string `json:"m,omitempty"`
	// Failure and FailedAs keep why and in which state the cluster
	// failed, after a rollback changed its state.
	Failure  string       `json:"f,omitempty"`
	FailedAs ClusterState `json:"fa,omitempty"`
	// Started is when delivery to the cluster started; Finished when it
	// last reached a state other than Pending and Progressing.
	Started  time.Time `json:"st,omitzero"`
	Finished time.Time `json:"fi,omitzero"`
}

// StateStore keeps propagation records so that progress survives a
// restart of the propagating process.
type StateStore interface {
	// Save stores r, replacing the record of the same ID; the store keeps
	// a copy, so r may change afterwards.
	Save(ctx context.Context, r *Record) error
	// Load returns a copy of the record of id, or an error wrapping
	// ErrUnknownRollout when there is none.
	Load(ctx context.Context, id ID) (*Record, error)
}

// RecordLister is a StateStore that can list a package's unfinished
// records. With PropagatorConfig.Ownership, rollouts of the same package
// owned by different replicas find each other through it, so that a newer
// rollout supersedes an older one across replicas; MemoryStore and
// ConfigMapStore implement it.
type RecordLister interface {
	// Unfinished returns copies of the records of pkg's rollouts that
	// have not finished.
	Unfinished(ctx context.Context, pkg string) ([]*Record, error)
}

// MemoryStore is a StateStore in this process's memory: progress survives
// a new Propagator, not a new process.
type MemoryStore struct {
	mu      sync.Mutex
	records map[ID]*Record
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{records: map[ID]*Record{}} }

// Save implements StateStore.
func (s *MemoryStore) Save(_ context.Context, r *Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[r.ID] = r.clone()
	return nil
}

// Load implements StateStore.
func (s *MemoryStore) Load(_ context.Context, id ID) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRollout, id)
	}
	return r.clone(), nil
}

// Unfinished implements RecordLister.
func (s *MemoryStore) Unfinished(_ context.Context, pkg string) ([]*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Record
	for _, r := range s.records {
		if r.Package == pkg && !r.Phase.finished() {
			out = append(out, r.clone())
		}
	}
	return out, nil
}

func (r *Record) clone() *Record {
	c := *r
	c.Waves = make([][]string, len(r.Waves))
	for i, w := range r.Waves {
		c.Waves[i] = append([]string(nil), w...)
	}
	c.Clusters = maps.Clone(r.Clusters)
	c.Failed = slices.Clone(r.Failed)
	c.Analysis = slices.Clone(r.Analysis)
	return &c
}
