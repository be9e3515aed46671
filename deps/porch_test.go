package deps

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	porchclient "github.com/nephio-project/porch/api/generated/clientset/versioned"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nephoran/porchkit/porch/porchenv"
)

// porchSource reads published revisions with Porch's generated clientset
// (the porch package's client will satisfy PackageSource the same way).
type porchSource struct {
	cs        porchclient.Interface
	namespace string
}

func (s porchSource) PublishedPackages(ctx context.Context, repo string) ([]PublishedPackage, error) {
	list, err := s.cs.PorchV1alpha1().PackageRevisions(s.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []PublishedPackage
	for _, pr := range list.Items {
		if pr.Spec.RepositoryName != repo || pr.Spec.Lifecycle != porchapi.PackageRevisionLifecyclePublished || pr.Spec.Revision < 1 {
			continue
		}
		res, err := s.cs.PorchV1alpha1().PackageRevisionResources(s.namespace).Get(ctx, pr.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		out = append(out, PublishedPackage{Repository: repo, Package: pr.Spec.PackageName, Revision: pr.Spec.Revision, Kptfile: []byte(res.Spec.Resources["Kptfile"])})
	}
	return out, nil
}

// publish creates package pkg in repo with the release annotation and
// publishes it.
func publish(t *testing.T, ctx context.Context, cs porchclient.Interface, ns, repo, pkg, ws, annotation string) {
	t.Helper()
	prs := cs.PorchV1alpha1().PackageRevisions(ns)
	pr, err := prs.Create(ctx, &porchapi.PackageRevision{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns},
		Spec: porchapi.PackageRevisionSpec{RepositoryName: repo, PackageName: pkg, WorkspaceName: ws,
			Tasks: []porchapi.Task{{Type: porchapi.TaskTypeInit, Init: &porchapi.PackageInitTaskSpec{Description: pkg}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create %s: %v", pkg, err)
	}
	res, err := cs.PorchV1alpha1().PackageRevisionResources(ns).Get(ctx, pr.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k := res.Spec.Resources["Kptfile"]
	block := "  annotations:\n    " + ReleaseAnnotation + ": |\n"
	for _, line := range strings.Split(annotation, "\n") {
		block += "      " + line + "\n"
	}
	// The init Kptfile already has an annotations map (local-config).
	k = strings.Replace(k, "  annotations:\n", block, 1)
	res.Spec.Resources["Kptfile"] = k
	if _, err := cs.PorchV1alpha1().PackageRevisionResources(ns).Update(ctx, res, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update %s: %v", pkg, err)
	}
	pr, err = prs.Get(ctx, pr.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pr.Spec.Lifecycle = porchapi.PackageRevisionLifecycleProposed
	if pr, err = prs.Update(ctx, pr, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	pr.Spec.Lifecycle = porchapi.PackageRevisionLifecyclePublished
	if _, err := prs.UpdateApproval(ctx, pr.Name, pr, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestResolveFromRealPorch declares dependencies in the Kptfiles of real
// package revisions on the local Porch, builds the universe from the
// published revisions and resolves it.
func TestResolveFromRealPorch(t *testing.T) {
	env := porchenv.Setup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := env.RegisterRepository(ctx, "catalog"); err != nil {
		t.Fatal(err)
	}
	cs, err := porchclient.NewForConfig(env.PorchConfig)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, ctx, cs, env.Namespace, "catalog", "nrf", "v1", "version: 2.0.0")
	publish(t, ctx, cs, env.Namespace, "catalog", "nrf", "v2", "version: 3.0.0")
	publish(t, ctx, cs, env.Namespace, "catalog", "smf", "v1", "version: 1.4.0\nrequires: [\"nrf <3\"]")
	publish(t, ctx, cs, env.Namespace, "catalog", "amf", "v1", "version: 2.0.0\nrequires: [\"nrf >=3\"]")

	u, err := UniverseFromPorch(ctx, porchSource{cs: cs, namespace: env.Namespace}, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	if u.Len() != 4 {
		t.Fatalf("universe has %d releases, want 4: %v", u.Len(), u.Packages())
	}
	p, err := NewSATResolver().Resolve(ctx, u, Request{Roots: roots("smf")})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(p); got != "nrf=2.0.0 smf=1.4.0" {
		t.Errorf("plan = %s", got)
	}
	_, err = NewSATResolver().Resolve(ctx, u, Request{Roots: roots("amf", "smf")})
	var ue *UnsatisfiableError
	if !errors.As(err, &ue) || !strings.Contains(ue.Explain(), "smf@1.4.0 requires nrf <3") {
		t.Errorf("amf with smf: err = %v, want the nrf conflict explained", err)
	}
}
