package porch

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/semaphore"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
)

// call describes one request to the server for resilience.do.
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
	// so a repeat cannot apply twice; they are also repeated after a git
	// race, which Porch answers after rolling back.
	guarded bool
}

// resilience is what every request passes through: the per-repository
// write limit, the circuit breaker, retries with backoff, classification of
// the error and instrumentation.
type resilience struct {
	backoff wait.Backoff
	breaker *gobreaker.CircuitBreaker[struct{}]
	limiter *repositoryLimiter
	inst    Instrumentation
	log     logr.Logger
}

// do runs fn under the client's resilience and returns its classified error.
func (r *resilience) do(ctx context.Context, cl call, fn func(ctx context.Context) error) error {
	ctx, done := r.inst.StartOperation(ctx, cl.op)
	err := r.retry(ctx, cl, fn)
	done(err)
	return err
}

// retry holds the repository's write slot (when the call has one) and sends
// fn until it succeeds, its error is not worth repeating, or the attempts
// are spent, backing off between attempts as client-go's retry.OnError
// does, but ending with ctx.
func (r *resilience) retry(ctx context.Context, cl call, fn func(ctx context.Context) error) error {
	if cl.repository != "" {
		release, err := r.limiter.acquire(ctx, cl.op.Namespace+"/"+cl.repository)
		if err != nil {
			return err
		}
		defer release()
	}
	start := time.Now()
	attempt := 0
	var last error
	// The attempts are counted here, not by the backoff (whose delay stays
	// at its last step once the steps are spent): a read may outlast them
	// while Porch's git race lasts (readOutlastsAttempts).
	werr := r.backoff.DelayFunc().Until(ctx, true, false, func(ctx context.Context) (bool, error) {
		attempt++
		last = classify(cl.op.Name, cl.op.Object, r.once(ctx, fn))
		switch {
		case last == nil:
			return true, nil
		case !worthRepeating(cl, last):
			return false, last
		case attempt >= r.backoff.Steps && !readOutlastsAttempts(cl, last, attempt, start):
			return false, last
		}
		r.inst.Retried(ctx, cl.op, attempt, last)
		r.log.V(1).Info("retrying", "op", cl.op.Name, "object", cl.op.Object, "attempt", attempt, "error", last.Error())
		return false, nil
	})
	if werr != nil && last != nil {
		return last // the attempt's own error, also when ctx ended between attempts
	}
	return werr
}

// worthRepeating reports whether the same request may succeed when sent
// again, without risk of applying twice.
func worthRepeating(cl call, err error) bool {
	return shouldRetry(err, cl.idempotent) || (cl.guarded || cl.idempotent) && isGitRace(err) ||
		cl.idempotent && errors.Is(err, errNoObject)
}

func (r *resilience) once(ctx context.Context, fn func(ctx context.Context) error) error {
	if r.breaker == nil {
		return fn(ctx)
	}
	_, err := r.breaker.Execute(func() (struct{}, error) { return struct{}{}, fn(ctx) })
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

// breakerSettings fills s's zero fields with the client's defaults and
// reports state changes to the log and the instrumentation.
func breakerSettings(o BreakerOptions, log logr.Logger, inst Instrumentation) gobreaker.Settings {
	s := o.Settings
	if s.Name == "" {
		s.Name = "porch"
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultBreakerOpenFor
	}
	if s.ReadyToTrip == nil {
		failures := o.Failures
		if failures == 0 {
			failures = DefaultBreakerFailures
		}
		s.ReadyToTrip = func(counts gobreaker.Counts) bool { return counts.ConsecutiveFailures >= failures }
	}
	if s.IsSuccessful == nil {
		s.IsSuccessful = func(err error) bool { return !isServerFailure(err) }
	}
	next := s.OnStateChange
	s.OnStateChange = func(name string, from, to gobreaker.State) {
		log.Info("circuit breaker state changed", "from", from.String(), "to", to.String())
		inst.BreakerStateChanged(from.String(), to.String())
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

// hold runs fn with one of the repository's write slots held for its whole
// duration: a read-modify-write then never races the client's own writes to
// the same repository.
func (l *repositoryLimiter) hold(ctx context.Context, namespace, repository string, fn func(ctx context.Context) error) error {
	key := namespace + "/" + repository
	release, err := l.acquire(ctx, key)
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
