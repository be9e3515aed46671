package fake

import (
	"fmt"
	"net/http"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The fake answers with the status codes and texts Porch v1.5.3 uses,
// including its surprises: a stale resourceVersion and most engine errors
// are HTTP 500.

var (
	grPackageRevisions = schema.GroupResource{Group: porchapi.SchemeGroupVersion.Group, Resource: "packagerevisions"}
	grResources        = schema.GroupResource{Group: porchapi.SchemeGroupVersion.Group, Resource: "packagerevisionresources"}
	grRepositories     = schema.GroupResource{Group: configapi.GroupVersion.Group, Resource: "repositories"}
	grSecrets          = schema.GroupResource{Resource: "secrets"}
)

func internalError(format string, args ...any) *apierrors.StatusError {
	return apierrors.NewInternalError(fmt.Errorf(format, args...))
}

func staleError(gr schema.GroupResource, name string) *apierrors.StatusError {
	return apierrors.NewInternalError(apierrors.NewConflict(gr, name,
		fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again")))
}

func busyError(gr schema.GroupResource, name, what string) *apierrors.StatusError {
	return apierrors.NewConflict(gr, name, fmt.Errorf("another request is already in progress %s", what))
}

func invalidError(field, value, msg string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: statusFor(http.StatusUnprocessableEntity, "Invalid",
		fmt.Sprintf("%s: Invalid value: %q: %s", field, value, msg))}
}

func webhookDenied(name string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: statusFor(http.StatusBadRequest, "BadRequest",
		fmt.Sprintf(`admission webhook "packagerevdeletion.google.com" denied the request: failed to delete package revision %q: published PackageRevisions must be proposed for deletion by setting spec.lifecycle to 'DeletionProposed' prior to deletion`, name))}
}

func statusFor(code int32, reason, msg string) metav1.Status {
	return metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: code, Reason: metav1.StatusReason(reason), Message: msg,
	}
}
