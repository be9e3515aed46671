package porch

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/sony/gobreaker/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestClassifyPorchAnswers maps the answers Porch v1.5.3 really gives
// to the client's error kinds.
func TestClassifyPorchAnswers(t *testing.T) {
	status := func(code int32, reason metav1.StatusReason, msg string) error {
		return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: reason, Message: msg}}
	}
	tests := []struct {
		err  error
		want error
	}{
		{status(500, metav1.StatusReasonInternalError, `Internal error occurred: Operation cannot be fulfilled on packagerevisions.porch.kpt.dev "r.p.ws": the object has been modified; please apply your changes to the latest version and try again`), ErrConflict},
		{status(409, metav1.StatusReasonConflict, `Operation cannot be fulfilled on packagerevisions.porch.kpt.dev "(new creation)": another request is already in progress to create package revision`), ErrBusy},
		{status(500, metav1.StatusReasonInternalError, `Internal error occurred: package revision workspaceNames must be unique; package revision with name p in repo r with workspaceName ws already exists`), ErrAlreadyExists},
		{status(422, metav1.StatusReasonInvalid, `spec.lifecycle: Invalid value: "Draft": value can be only updated to Draft,Proposed`), ErrInvalidTransition},
		{status(422, metav1.StatusReasonInvalid, `cannot approve package with Draft lifecycle value; only Proposed packages can be approved`), ErrInvalidTransition},
		{status(422, metav1.StatusReasonInvalid, `spec: Invalid value: ...: spec can only update package with lifecycle value one of Draft,Proposed`), ErrImmutable},
		{status(422, metav1.StatusReasonInvalid, `spec.workspaceName: Invalid value: "Bad": a lowercase RFC 1123 label must consist of`), ErrInvalid},
		{status(400, metav1.StatusReasonBadRequest, `admission webhook "packagerevdeletion.google.com" denied the request: failed to delete package revision "x": published PackageRevisions must be proposed for deletion by setting spec.lifecycle to 'DeletionProposed' prior to deletion`), ErrImmutable},
		{status(400, metav1.StatusReasonBadRequest, `unknown fieldSelector field "spec.nope"`), ErrInvalid},
		{status(500, metav1.StatusReasonInternalError, "Internal error occurred: \nError occurred rendering package in kpt function pipeline.\nDetails:\nfn.render: pipeline step 0 failed"), ErrRenderFailed},
		{status(500, metav1.StatusReasonInternalError, `Internal error occurred: cannot update a package revision with lifecycle value "Proposed"; package must be Draft`), ErrImmutable},
		{status(500, metav1.StatusReasonInternalError, `Internal error occurred: resourceVersion must be specified for an update`), ErrInvalid},
		{status(500, metav1.StatusReasonInternalError, `Internal error occurred: package must contain Kptfile at root: file does not exist`), ErrInvalid},
		{status(500, metav1.StatusReasonInternalError, `Internal error occurred: clone from OCI is not implemented`), ErrUnsupported},
		{status(500, metav1.StatusReasonInternalError, `Internal error occurred: cannot find package revision "r.x.v1"`), ErrNotFound},
		{status(500, metav1.StatusReasonInternalError, `Internal error occurred: failed to close package revision draft: ref file is empty`), ErrInternal},
		{status(500, metav1.StatusReasonInternalError, `error cloning git repository http://127.0.0.1:1/r.git, fetch of remote repository failed: branch "main" doesn't exist: reference not found`), ErrInternal},
		{status(500, metav1.StatusReasonInternalError, `Internal error occurred: cannot determine upstream lock for package "b.web.v1": cannot determine package lock: cannot determine repository origin: remote not found`), ErrInternal},
		{status(404, metav1.StatusReasonNotFound, `repositories.config.porch.kpt.dev "nope" not found`), ErrNotFound},
		{status(401, metav1.StatusReasonUnauthorized, "Unauthorized"), ErrUnauthorized},
		{status(403, metav1.StatusReasonForbidden, "forbidden"), ErrForbidden},
		{status(413, metav1.StatusReasonRequestEntityTooLarge, "Request entity too large: limit is 3145728"), ErrTooLarge},
		{status(429, metav1.StatusReasonTooManyRequests, "slow down"), ErrUnavailable},
		{status(503, metav1.StatusReasonServiceUnavailable, "unavailable"), ErrUnavailable},
		{status(504, metav1.StatusReasonTimeout, "timeout"), ErrUnavailable},
		{fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), ErrUnavailable},
		{fmt.Errorf("wrapped: %w", gobreaker.ErrOpenState), ErrCircuitOpen},
		{errors.New("something odd"), ErrInternal},
	}
	for _, tc := range tests {
		got := classify("op", "name", tc.err)
		if !errors.Is(got, tc.want) {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
		var pe *Error
		if !errors.As(got, &pe) || pe.Op != "op" || pe.Name != "name" {
			t.Errorf("classify(%v) is not an *Error naming the operation: %#v", tc.err, got)
		}
	}
	// The server's status stays reachable through errors.As.
	var st apierrors.APIStatus
	if !errors.As(classify("op", "n", status(500, "", "the object has been modified")), &st) || st.Status().Code != 500 {
		t.Error("the API status is not reachable with errors.As")
	}
}

func TestGitRaces(t *testing.T) {
	transient := &Error{Kind: ErrInternal, Message: "Internal error occurred: failed to close package revision draft: ref file is empty"}
	permanent := &Error{Kind: ErrInternal, Message: "Internal error occurred: error applying patch: conflict: fragment line does not match src line"}
	fetch := classify("propose-delete", "r.p.v2", &apierrors.StatusError{ErrStatus: metav1.Status{Code: 500, Message: `error cloning git repository http://127.0.0.1:1/r.git, fetch of remote repository failed: branch "main" doesn't exist: reference not found`}})
	if !isGitRace(transient) || isGitRace(permanent) || isGitRace(&Error{Kind: ErrConflict, Message: "ref file is empty"}) ||
		!isGitRace(fetch) || errors.Is(fetch, ErrNotFound) ||
		!isGitRace(classify("clone", "r.p.v1", &apierrors.StatusError{ErrStatus: metav1.Status{Code: 500,
			Message: `cannot determine upstream lock for package "b.web.v1": cannot determine package lock: cannot determine repository origin: remote not found`}})) ||
		!isGitRace(classify("reject", "r.p.v1", &apierrors.StatusError{ErrStatus: metav1.Status{Code: 500,
			Message: "Internal error occurred: Remote ref is conflicting with required remote ref"}})) {
		t.Fatal("transient internal errors misclassified")
	}
}

func TestRetryableKinds(t *testing.T) {
	for _, tc := range []struct {
		err        error
		idempotent bool
		want       bool
	}{
		{&Error{Kind: ErrBusy}, false, true},
		{&Error{Kind: ErrUnavailable, Code: 504}, false, false},
		{&Error{Kind: ErrUnavailable, Code: 504}, true, true},
		{&Error{Kind: ErrUnavailable, Code: 429}, false, true},
		{&Error{Kind: ErrUnavailable, Err: ErrCircuitOpen}, true, false},
		{&Error{Kind: ErrConflict}, true, false},
		{&Error{Kind: ErrUnavailable, Err: syscall.ECONNREFUSED}, false, true},
	} {
		if got := shouldRetry(tc.err, tc.idempotent); got != tc.want {
			t.Errorf("shouldRetry(%v, idempotent=%v) = %v", tc.err, tc.idempotent, got)
		}
	}
}
