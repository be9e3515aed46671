package porch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"github.com/sony/gobreaker/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Sentinel errors. Every error the client returns for a failed call is an
// *Error whose Kind is one of these, so callers branch with errors.Is.
var (
	// ErrNotFound: the package revision, repository or secret does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: an object with that name, or a revision with that
	// workspace in that package, already exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: the object changed since it was read (a stale
	// resourceVersion). Porch reports this as HTTP 500; the client maps it.
	ErrConflict = errors.New("conflict: the object has been modified")
	// ErrBusy: another request is in progress on the same object (Porch's
	// per-object lock, HTTP 409). Transient; retried by the client.
	ErrBusy = errors.New("another request is in progress on the object")
	// ErrInvalidTransition: the lifecycle change is not legal from the
	// revision's current lifecycle.
	ErrInvalidTransition = errors.New("invalid lifecycle transition")
	// ErrImmutable: the revision is Published (or Proposed) and its contents
	// or spec cannot change, or it must be proposed for deletion first.
	ErrImmutable = errors.New("package revision is immutable")
	// ErrCircuitOpen: the circuit breaker is open after repeated server
	// failures; the call was not sent.
	ErrCircuitOpen = errors.New("circuit breaker open: porch server unavailable")
	// ErrUnauthorized: the server rejected the credentials (HTTP 401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the caller may not do this (HTTP 403).
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: the server could not be reached or answered with a
	// transient failure (connection errors, 429, 502, 503, 504).
	ErrUnavailable = errors.New("server unavailable")
	// ErrInvalid: the request was rejected by validation; the Error's Message
	// carries Porch's reason.
	ErrInvalid = errors.New("invalid request")
	// ErrRenderFailed: the package's Kptfile pipeline failed; nothing was
	// saved.
	ErrRenderFailed = errors.New("render failed")
	// ErrTooLarge: the request body is over the server's size limit.
	ErrTooLarge = errors.New("request too large")
	// ErrNotReady: the repository is not Ready.
	ErrNotReady = errors.New("repository not ready")
	// ErrUnsupported: the server does not implement this (Porch v1.5.3
	// cannot clone from OCI, for example).
	ErrUnsupported = errors.New("not supported by the server")
	// ErrInternal: any other server-side failure.
	ErrInternal = errors.New("internal server error")
)

// Error describes a failed call: the operation, the object, the class of
// failure (Kind, one of the sentinel errors) and the server's own words.
type Error struct {
	// Op is the client operation, for example "approve" or "push".
	Op string
	// Name is the object the operation was about, if any.
	Name string
	// Kind is the sentinel error the failure maps to.
	Kind error
	// Code is the HTTP status code, or 0 when no response was received.
	Code int32
	// Message is the server's message, or a client-side explanation.
	Message string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("porch: ")
	b.WriteString(e.Op)
	if e.Name != "" {
		fmt.Fprintf(&b, " %q", e.Name)
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.Message != "" && e.Message != e.Kind.Error() {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the Kind and the underlying error, so both errors.Is(err,
// porch.ErrConflict) and errors.As(err, &apiStatus) work.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// TransitionError is returned, before anything is sent, when a lifecycle
// change is not legal. It wraps ErrInvalidTransition.
type TransitionError struct {
	// Name is the package revision asked to move.
	Name string
	// From is the revision's lifecycle; To is where the move would lead.
	From, To porchapi.PackageRevisionLifecycle
	// Reason says which lifecycles the move needs, when it does.
	Reason string
}

// Error implements error.
func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("porch: %q: cannot move from %s to %s", e.Name, lifecycleOrDraft(e.From), e.To)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrInvalidTransition) true.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }

func lifecycleOrDraft(l porchapi.PackageRevisionLifecycle) porchapi.PackageRevisionLifecycle {
	if l == "" {
		return porchapi.PackageRevisionLifecycleDraft
	}
	return l
}

// IsRetryable reports whether err is transient: repeating the same request
// later may succeed without any other change.
func IsRetryable(err error) bool {
	return errors.Is(err, ErrBusy) || (errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrCircuitOpen))
}

// newError builds a client-side error that was detected before any request.
func newError(op, name string, kind error, format string, args ...any) *Error {
	return &Error{Op: op, Name: name, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// classify maps an error from client-go, the network or the breaker to an
// *Error; kindOf maps Porch's statuses.
func classify(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	var te *TransitionError
	if errors.As(err, &te) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	e := &Error{Op: op, Name: name, Err: err}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		e.Kind, e.Message = ErrUnavailable, ErrCircuitOpen.Error()
		e.Err = ErrCircuitOpen
		return e
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		st := status.Status()
		e.Code, e.Message = st.Code, st.Message
		e.Kind = kindOf(st.Code, string(st.Reason), st.Message)
		return e
	}
	e.Message = err.Error()
	switch {
	case isConnectionError(err):
		e.Kind = ErrUnavailable
	default:
		e.Kind = ErrInternal
	}
	return e
}

func isConnectionError(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err)
}
