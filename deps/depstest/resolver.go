// Package depstest provides a fake deps.Resolver for tests of code that
// resolves dependencies: it records every request and answers with scripted
// plans or errors.
package depstest

import (
	"context"
	"errors"
	"sync"

	"github.com/nephoran/porchkit/deps"
)

// ErrNoAnswer is returned when the fake has no scripted answer left.
var ErrNoAnswer = errors.New("depstest: no scripted answer")

// Answer is one scripted result.
type Answer struct {
	// Plan is what Resolve returns (nil with an error).
	Plan *deps.Plan
	// Err is the error Resolve returns, e.g. a *deps.UnsatisfiableError.
	Err error
}

// Resolver is a fake deps.Resolver. Scripted answers are returned in order;
// when they run out, Fallback (if set) resolves, else ErrNoAnswer. It is
// safe for concurrent use.
type Resolver struct {
	// Fallback resolves requests once the script is used up, e.g. a real
	// deps.SATResolver.
	Fallback deps.Resolver

	mu       sync.Mutex
	answers  []Answer
	requests []deps.Request
}

var _ deps.Resolver = (*Resolver)(nil)

// NewResolver returns a fake that answers with answers, in order.
func NewResolver(answers ...Answer) *Resolver { return &Resolver{answers: answers} }

// Resolve records req and returns the next scripted answer.
func (r *Resolver) Resolve(ctx context.Context, u *deps.Universe, req deps.Request) (*deps.Plan, error) {
	r.mu.Lock()
	r.requests = append(r.requests, req)
	if len(r.answers) > 0 {
		a := r.answers[0]
		r.answers = r.answers[1:]
		r.mu.Unlock()
		return a.Plan, a.Err
	}
	fallback := r.Fallback
	r.mu.Unlock()
	if fallback != nil {
		return fallback.Resolve(ctx, u, req)
	}
	return nil, ErrNoAnswer
}

// Requests returns the requests received so far.
func (r *Resolver) Requests() []deps.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]deps.Request(nil), r.requests...)
}
