package porch

import (
	"context"
	"errors"
)

// Instrumentation receives the client's metrics and traces.
// observability/porchobs implements it with Prometheus and OpenTelemetry;
// tests can record calls. Implementations must be safe for concurrent use.
type Instrumentation interface {
	// StartOperation is called when a client operation begins. The returned
	// context is used for the operation's requests (so a span can be carried
	// in it); done is called once with the operation's outcome.
	StartOperation(ctx context.Context, op Operation) (_ context.Context, done func(err error))
	// Retried is called before a request is repeated after err.
	Retried(ctx context.Context, op Operation, attempt int, err error)
	// BreakerStateChanged is called when the circuit breaker changes state
	// ("closed", "half-open", "open").
	BreakerStateChanged(from, to string)
	// CacheLookup is called for every read the cache could serve.
	CacheLookup(kind string, hit bool)
}

// Operation names one client operation for instrumentation.
type Operation struct {
	// Name is the verb, for example "get", "list", "create", "approve", "push".
	Name string
	// Kind is the resource: "packagerevisions", "packagerevisionresources",
	// "repositories" or "secrets".
	Kind string
	// Namespace and Object identify the object, when there is one.
	Namespace, Object string
}

// Outcome names the class of an operation's error for metrics labels:
// "ok", or the sentinel's name such as "not_found", "conflict", "busy".
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	for _, k := range []struct {
		err  error
		name string
	}{
		{ErrCircuitOpen, "circuit_open"}, {ErrNotFound, "not_found"}, {ErrAlreadyExists, "already_exists"},
		{ErrConflict, "conflict"}, {ErrBusy, "busy"}, {ErrInvalidTransition, "invalid_transition"},
		{ErrImmutable, "immutable"}, {ErrUnauthorized, "unauthorized"}, {ErrForbidden, "forbidden"},
		{ErrUnavailable, "unavailable"}, {ErrInvalid, "invalid"}, {ErrRenderFailed, "render_failed"},
		{ErrTooLarge, "too_large"}, {ErrNotReady, "not_ready"}, {ErrUnsupported, "unsupported"},
		{context.Canceled, "canceled"}, {context.DeadlineExceeded, "deadline_exceeded"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "error"
}

type nopInstrumentation struct{}

func (nopInstrumentation) StartOperation(ctx context.Context, _ Operation) (context.Context, func(error)) {
	return ctx, func(error) {}
}
func (nopInstrumentation) Retried(context.Context, Operation, int, error) {}
func (nopInstrumentation) BreakerStateChanged(string, string)             {}
func (nopInstrumentation) CacheLookup(string, bool)                       {}
