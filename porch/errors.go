package porch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"github.com/sony/gobreaker/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	// ErrUnsupported: Porch v1.5.3 does not implement this (for example
	// cloning from OCI).
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
	Name     string
	From, To porchapi.PackageRevisionLifecycle
	Reason   string
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
// *Error. Porch's status codes are not what client-go expects (see
// porch-behaviour §7.2): a stale resourceVersion is a 500, workspace
// uniqueness is a 500, lifecycle violations are 422.
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

func kindOf(code int32, reason, msg string) error {
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(msg, x) {
				return true
			}
		}
		return false
	}
	switch code {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return ErrUnavailable
	case http.StatusConflict:
		switch {
		case has("already in progress"):
			return ErrBusy
		case reason == "AlreadyExists" || has("already exists"):
			return ErrAlreadyExists
		default:
			return ErrConflict
		}
	case http.StatusUnprocessableEntity:
		switch {
		case has("spec can only update package with lifecycle"):
			return ErrImmutable
		case has("can be only updated to", "can only be updated to", "cannot approve package", "value for approval can be only", "can be only created as Draft"):
			return ErrInvalidTransition
		default:
			return ErrInvalid
		}
	case http.StatusBadRequest:
		if has("must be proposed for deletion") {
			return ErrImmutable
		}
		return ErrInvalid
	}
	if code == http.StatusRequestTimeout || (code >= 500 && code != http.StatusInternalServerError) {
		return ErrUnavailable
	}
	// HTTP 500: Porch raises almost everything from its engine as 500.
	switch {
	case has("the object has been modified"):
		return ErrConflict
	case has("workspaceNames must be unique", "already exists"):
		return ErrAlreadyExists
	case has("rendering package in kpt function pipeline", "fn.render"):
		return ErrRenderFailed
	case has("package must be Draft", "cannot update a package revision with lifecycle value"):
		return ErrImmutable
	case has("not implemented"):
		return ErrUnsupported
	case has("error cloning git repository", "fetch of remote repository failed", "cannot determine repository origin"):
		// Porch's own git access failed (under load, a branch or the
		// upstream's remote can look missing for a moment): not a statement
		// about the object.
		return ErrInternal
	case has("cannot find package revision", "not found"):
		return ErrNotFound
	case has("resourceVersion must be specified", "must contain Kptfile", "resource name invalid", "task list must",
		"source revision must", "must be published", "invalid", "Invalid"):
		return ErrInvalid
	case has("exceeded", "timeout", "connection refused", "i/o timeout", "etcdserver"):
		return ErrUnavailable
	}
	return ErrInternal
}

// isTransientInternal reports an internal error Porch raises from git
// races and git transport failures under load, which a repeat can get past,
// as opposed to deterministic failures (a merge conflict, a bad task).
func isTransientInternal(err error) bool {
	var pe *Error
	if !errors.As(err, &pe) || !errors.Is(pe.Kind, ErrInternal) {
		return false
	}
	for _, s := range []string{"ref file is empty", "reference has changed concurrently", "reference not found", "remote not found",
		"object not found", "failed to push", "non-fast-forward", "connection reset", "unexpected EOF", "broken pipe",
		// Porch's word for a push its compare-and-swap refused: nothing was pushed.
		"Remote ref is conflicting with required remote ref"} {
		if strings.Contains(pe.Message, s) {
			return true
		}
	}
	return false
}

// errNoObject marks a success answer that does not carry the object asked
// for. client-go decodes a 200 whose body is another kind (a bare Status)
// into an empty object and no error; Porch v1.5.3 gave such an answer to a
// call under load in CI, and the empty object then failed the next write.
// Reads are repeated; a write's caller reads back what the write did.
var errNoObject = errors.New("the server's success answer did not carry the object")

// carries checks that a success answer is the object named name.
func carries(name string, got metav1.Object) error {
	if got.GetName() == name {
		return nil
	}
	return fmt.Errorf("%w (asked for %q, got %q)", errNoObject, name, got.GetName())
}

// isKind checks the kind of a JSON answer; other encodings are not checked.
func isKind(body []byte, kind string) error {
	var tm metav1.TypeMeta
	if json.Unmarshal(body, &tm) != nil || tm.Kind == kind {
		return nil
	}
	return fmt.Errorf("%w (asked for a %s, got a %q)", errNoObject, kind, tm.Kind)
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
