package porch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/porch"
)

// TestAuthenticationOnRealPorch: the client works with a bearer token and
// with a client certificate, and maps rejected credentials (401) and
// missing permissions (403) to typed errors.
func TestAuthenticationOnRealPorch(t *testing.T) {
	env, _ := realClient(t, porch.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	check := func(name string, cfg *rest.Config, porchCfg *rest.Config) (reposErr, revisionsErr error) {
		c, err := porch.New(cfg, porch.Options{PorchConfig: porchCfg, Cache: porch.CacheOptions{Disabled: true}, Retry: porch.RetryOptions{Backoff: fastBackoff}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer c.Close()
		_, reposErr = c.Repositories("default").List(ctx)
		_, revisionsErr = c.PackageRevisions("default").List(ctx)
		return reposErr, revisionsErr
	}

	// Token, through kube-apiserver for everything (porch.kpt.dev aggregated).
	if r, p := check("token", env.KubeConfig, nil); r != nil || p != nil {
		t.Fatalf("bearer token: repositories %v, revisions %v", r, p)
	}
	// Client certificate.
	if r, p := check("client certificate", env.ClientCertConfig(), nil); r != nil || p != nil {
		t.Fatalf("client certificate: repositories %v, revisions %v", r, p)
	}
	// A token nobody issued: 401 from kube-apiserver and from porch-server.
	bad := rest.CopyConfig(env.KubeConfig)
	bad.BearerToken = "not-a-token"
	badPorch := rest.CopyConfig(env.PorchConfig)
	badPorch.BearerToken = "not-a-token"
	r, p := check("bad token", bad, badPorch)
	if !errors.Is(r, porch.ErrUnauthorized) || !errors.Is(p, porch.ErrUnauthorized) {
		t.Fatalf("bad token: repositories %v, revisions %v, want ErrUnauthorized", r, p)
	}

	// A real identity without permissions: a service account token, 403
	// from kube-apiserver's RBAC.
	kc, err := kubernetes.NewForConfig(env.KubeConfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kc.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := kc.CoreV1().ServiceAccounts("default").CreateToken(ctx, "nobody", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nobody := rest.CopyConfig(env.KubeConfig)
	nobody.BearerToken = tr.Status.Token
	r, _ = check("no permissions", nobody, nil)
	if !errors.Is(r, porch.ErrForbidden) {
		t.Fatalf("service account without RBAC: %v, want ErrForbidden", r)
	}
	var pe *porch.Error
	if !errors.As(r, &pe) || pe.Code != 403 || pe.Message == "" {
		t.Fatalf("forbidden error lacks the server's reason: %#v", r)
	}
}
