package multicluster

import (
	"context"
	"sync"
	"time"
)

// EventType names what happened.
type EventType string

// Event types.
const (
	// EventStarted: the propagation started (the message counts clusters
	// and waves).
	EventStarted EventType = "Started"
	// EventWaveStarted: a wave started.
	EventWaveStarted EventType = "WaveStarted"
	// EventWaveSucceeded: a wave passed its gate.
	EventWaveSucceeded EventType = "WaveSucceeded"
	// EventClusterStarted: delivery to a cluster started.
	EventClusterStarted EventType = "ClusterStarted"
	// EventClusterSucceeded: a cluster became Available with the revision.
	EventClusterSucceeded EventType = "ClusterSucceeded"
	// EventClusterFailed: a cluster failed, or could not be rolled back.
	EventClusterFailed EventType = "ClusterFailed"
	// EventClusterUnreachable: a cluster could not be reached.
	EventClusterUnreachable EventType = "ClusterUnreachable"
	// EventAnalysis: an analysis check was evaluated (the message has its
	// name and value).
	EventAnalysis EventType = "Analysis"
	// EventGateFailed: a gate failed (the message says why); the rollout
	// halts or rolls back.
	EventGateFailed EventType = "GateFailed"
	// EventRollbackStarted: the touched clusters are being rolled back.
	EventRollbackStarted EventType = "RollbackStarted"
	// EventClusterRolledBack: a cluster is back at its previous revision
	// (or rid of the package, when it had none).
	EventClusterRolledBack EventType = "ClusterRolledBack"
	// EventPaused: the propagation was paused.
	EventPaused EventType = "Paused"
	// EventResumed: the propagation was resumed.
	EventResumed EventType = "Resumed"
	// EventFinished: the propagation reached a final phase (Event.Phase).
	EventFinished EventType = "Finished"
	// EventSuperseded: a newer rollout of the package to some of the same
	// clusters stopped this one (the message names it); EventFinished
	// with PhaseSuperseded follows.
	EventSuperseded EventType = "Superseded"
)

// Event is one step of a propagation.
type Event struct {
	// Time is when it happened.
	Time time.Time
	// Rollout is the propagation's ID.
	Rollout ID
	// Type says what happened.
	Type EventType
	// Cluster is the cluster the event concerns ("" for none).
	Cluster string
	// Wave is the index of the wave the event concerns (-1 for none).
	Wave int
	// State is the cluster's new state, for cluster events.
	State ClusterState
	// Phase is the propagation's new phase, for EventFinished,
	// EventPaused and EventResumed.
	Phase Phase
	// Message says why or how much, e.g. a cluster's failure or an
	// analysis check's value.
	Message string
	// Dropped counts events this subscriber missed before this one
	// because it did not keep up.
	Dropped int
}

type subscriber struct {
	ch      chan Event
	dropped int
	stop    func() bool
}

// broadcaster fans events out without blocking the rollout: a subscriber
// that does not keep up loses events, and the next one it gets says how
// many. It keeps the first event (EventStarted) and the last history-1
// events, which it replays to every new subscriber first, so that one that
// subscribes after the rollout started, or finished, still sees it from
// its start; when more happened than it keeps, the first replayed event
// after EventStarted says in Dropped how many were not kept.
type broadcaster struct {
	buffer  int // each subscriber's channel capacity beyond the replay
	history int // events kept for replay

	mu        sync.Mutex
	subs      map[*subscriber]struct{}
	closed    bool
	first     []Event // the first event, once published
	ring      []Event // the last events after the first, oldest at ringStart
	ringStart int
	published int
}

func (b *broadcaster) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.keep(e)
	for s := range b.subs {
		e := e
		e.Dropped = s.dropped
		select {
		case s.ch <- e:
			s.dropped = 0
		default:
			s.dropped++
		}
	}
}

// keep adds e to the replay history; b.mu is held.
func (b *broadcaster) keep(e Event) {
	b.published++
	if len(b.first) == 0 {
		b.first = []Event{e}
		return
	}
	limit := max(1, b.history-1)
	if len(b.ring) < limit {
		b.ring = append(b.ring, e)
		return
	}
	b.ring[b.ringStart] = e
	b.ringStart = (b.ringStart + 1) % len(b.ring)
}

// replay returns the kept events in order; b.mu is held.
func (b *broadcaster) replay() []Event {
	out := make([]Event, 0, len(b.first)+len(b.ring))
	out = append(out, b.first...)
	for i := range b.ring {
		out = append(out, b.ring[(b.ringStart+i)%len(b.ring)])
	}
	if missed := b.published - len(out); missed > 0 && len(out) > 1 {
		out[1].Dropped = missed
	}
	return out
}

// subscribe returns a channel that replays the kept events, then carries
// new ones; it is closed when ctx ends or the broadcaster closes.
func (b *broadcaster) subscribe(ctx context.Context) <-chan Event {
	b.mu.Lock()
	past := b.replay()
	s := &subscriber{ch: make(chan Event, len(past)+max(1, b.buffer))}
	for _, e := range past {
		s.ch <- e
	}
	if b.closed {
		b.mu.Unlock()
		close(s.ch)
		return s.ch
	}
	if b.subs == nil {
		b.subs = map[*subscriber]struct{}{}
	}
	b.subs[s] = struct{}{}
	s.stop = context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[s]; ok {
			delete(b.subs, s)
			close(s.ch)
		}
	})
	b.mu.Unlock()
	return s.ch
}

// close ends every subscription.
func (b *broadcaster) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		s.stop()
		close(s.ch)
	}
}
