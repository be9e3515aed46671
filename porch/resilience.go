package porch

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/semaphore"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// call describes one request to the server for do.
type call struct {
	op Operation
	// repository, when set, puts the call under the per-repository write
	// limit.
	repository string
	// idempotent calls are repeated after any transient error. Other calls
	// are repeated only when the server provably did not act: Porch's
	// per-object lock (409 "already in progress"), 429, a refused connection.
	idempotent bool
	// guarded writes carry a resourceVersion or a lifecycle precondition,
	// so a repeat cannot apply twice; they are also repeated after a
	// transient internal error (git races under load), which Porch answers
	// after rolling back.
	guarded bool
}

// do runs fn under the client's resilience: the per-repository limit, the
// circuit breaker and retries with backoff. It classifies the error.
func (c *client) do(ctx context.Context, cl call, fn func(ctx context.Context) error) error {
	ctx, done := c.inst.StartOperation(ctx, cl.op)
	err := c.doInner(ctx, cl, fn)
	done(err)
	return err
}

func (c *client) doInner(ctx context.Context, cl call, fn func(ctx context.Context) error) error {
	if cl.repository != "" {
		release, err := c.limiter.acquire(ctx, cl.op.Namespace+"/"+cl.repository)
		if err != nil {
			return err
		}
		defer release()
	}
	backoff := c.opts.backoff
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := c.once(ctx, fn)
		err = classify(cl.op.Name, cl.op.Object, err)
		if err == nil {
			return nil
		}
		retry := shouldRetry(err, cl.idempotent) || (cl.guarded || cl.idempotent) && isTransientInternal(err) ||
			cl.idempotent && errors.Is(err, errNoObject)
		// A read meeting Porch's git races ("ref file is empty" while its
		// background sync rewrites refs) may outlast the attempts: it goes
		// on for up to vanishedFor, as long as the race lasts.
		outOfAttempts := attempt >= c.opts.backoff.Steps &&
			!(attempt > 1 && cl.idempotent && isTransientInternal(err) && time.Since(start) < vanishedFor)
		if ctx.Err() != nil || outOfAttempts || !retry {
			return err
		}
		c.inst.Retried(ctx, cl.op, attempt, err)
		c.log.V(1).Info("retrying", "op", cl.op.Name, "object", cl.op.Object, "attempt", attempt, "error", err.Error())
		t := time.NewTimer(backoff.Step())
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (c *client) once(ctx context.Context, fn func(ctx context.Context) error) error {
	if c.breaker == nil {
		return fn(ctx)
	}
	_, err := c.breaker.Execute(func() (struct{}, error) { return struct{}{}, fn(ctx) })
	return err
}

func shouldRetry(err error, idempotent bool) bool {
	if !IsRetryable(err) {
		return false
	}
	if idempotent || errors.Is(err, ErrBusy) {
		return true
	}
	var pe *Error
	if errors.As(err, &pe) && (pe.Code == http.StatusTooManyRequests || pe.Code == http.StatusServiceUnavailable) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// isServerFailure reports whether err says the server is unhealthy, as
// opposed to a well-formed refusal; only those count against the breaker.
func isServerFailure(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		switch status.Status().Code {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	return isConnectionError(err)
}

func (c *client) breakerSettings(s gobreaker.Settings) gobreaker.Settings {
	if s.Name == "" {
		s.Name = "porch"
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultBreakerOpenFor
	}
	if s.ReadyToTrip == nil {
		s.ReadyToTrip = func(counts gobreaker.Counts) bool { return counts.ConsecutiveFailures >= DefaultBreakerFailures }
	}
	if s.IsSuccessful == nil {
		s.IsSuccessful = func(err error) bool { return !isServerFailure(err) }
	}
	next := s.OnStateChange
	s.OnStateChange = func(name string, from, to gobreaker.State) {
		c.log.Info("circuit breaker state changed", "from", from.String(), "to", to.String())
		c.inst.BreakerStateChanged(from.String(), to.String())
		if next != nil {
			next(name, from, to)
		}
	}
	return s
}

// repositoryLimiter bounds concurrent writes per repository.
type repositoryLimiter struct {
	n    int64
	mu   sync.Mutex
	sems map[string]*semaphore.Weighted
}

func newRepositoryLimiter(n int) *repositoryLimiter {
	return &repositoryLimiter{n: int64(n), sems: map[string]*semaphore.Weighted{}}
}

// heldRepository marks a context whose caller already holds the write slot
// of a repository, so nested writes do not wait for themselves.
type heldRepository struct{}

// holdRepository runs fn with one of the repository's write slots held for
// its whole duration: a read-modify-write then never races the client's
// own writes to the same repository.
func (c *client) holdRepository(ctx context.Context, namespace, repository string, fn func(ctx context.Context) error) error {
	key := namespace + "/" + repository
	release, err := c.limiter.acquire(ctx, key)
	if err != nil {
		return err
	}
	defer release()
	return fn(context.WithValue(ctx, heldRepository{}, key))
}

func (l *repositoryLimiter) acquire(ctx context.Context, key string) (func(), error) {
	if l.n <= 0 || ctx.Value(heldRepository{}) == key {
		return func() {}, nil
	}
	l.mu.Lock()
	s, ok := l.sems[key]
	if !ok {
		s = semaphore.NewWeighted(l.n)
		l.sems[key] = s
	}
	l.mu.Unlock()
	if err := s.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	return func() { s.Release(1) }, nil
}
