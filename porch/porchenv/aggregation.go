package porchenv

import (
	"context"
	"fmt"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// registerAPIService makes kube-apiserver serve porch.kpt.dev by proxying to
// porch-server, as a production install does: an APIService pointing at a
// Service in porch-system. The Service is of type ExternalName with name
// "localhost", which kube-apiserver resolves without cluster networking.
// Porch's deletion webhook reads PackageRevisions through this path.
func (e *Environment) registerAPIService(ctx context.Context) error {
	if err := apiregistrationv1.AddToScheme(e.Client.Scheme()); err != nil {
		return err
	}
	port := e.porchPort
	svc := &corev1.Service{}
	svc.Namespace, svc.Name = PorchSystemNamespace, porchServiceName
	svc.Spec.Type = corev1.ServiceTypeExternalName
	svc.Spec.ExternalName = "localhost"
	svc.Spec.Ports = []corev1.ServicePort{{Name: "api", Port: int32(port)}}
	if err := e.Client.Create(ctx, svc); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create Service: %w", err)
	}
	name := porchapi.SchemeGroupVersion.Version + "." + porchapi.SchemeGroupVersion.Group
	apiSvc := &apiregistrationv1.APIService{}
	apiSvc.Name = name
	apiSvc.Spec = apiregistrationv1.APIServiceSpec{
		Group:                porchapi.SchemeGroupVersion.Group,
		Version:              porchapi.SchemeGroupVersion.Version,
		Service:              &apiregistrationv1.ServiceReference{Namespace: PorchSystemNamespace, Name: porchServiceName, Port: ptr(int32(port))},
		CABundle:             e.creds.CA.CertPEM,
		GroupPriorityMinimum: 1000,
		VersionPriority:      15,
	}
	if err := e.Client.Create(ctx, apiSvc); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create APIService: %w", err)
	}
	var last string
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		got := &apiregistrationv1.APIService{}
		if err := e.Client.Get(ctx, client.ObjectKey{Name: name}, got); err != nil {
			last = err.Error()
			return false, nil
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiregistrationv1.Available {
				last = c.Reason + ": " + c.Message
				return c.Status == apiregistrationv1.ConditionTrue, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("APIService %s not available (%s): %w", name, last, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
