package rbac_test

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/applier"
	"github.com/nephoran/porchkit/rbac"
)

// testDirectApplier delivers a package with multicluster/applier to the
// stack's kube-apiserver (standing in for a workload cluster) as a
// ServiceAccount bound to exactly ApplierRules of its two revisions:
// deliver v1, observe it, deliver v2 (which prunes an object of v1),
// remove the package. Without the inventory's list, the first delivery
// is refused.
func (s *stack) testDirectApplier(ctx context.Context, t *testing.T) {
	const target = "shop"
	for _, ns := range []string{target, applier.DefaultNamespace} {
		if _, err := s.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	doc := func(d string) *yaml.RNode { return yaml.MustParse(d) }
	v1 := []*yaml.RNode{
		doc("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: shop\ndata:\n  version: v1\n"),
		doc("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-extra\n  namespace: shop\ndata:\n  x: \"1\"\n"),
		doc("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  ports:\n  - port: 80\n"),
	}
	v2 := []*yaml.RNode{v1[0].Copy(), v1[2].Copy()}
	if err := v2[0].PipeE(yaml.SetField("data", yaml.NewMapRNode(&map[string]string{"version": "v2"}))); err != nil {
		t.Fatal(err)
	}
	rev1, err := multicluster.NewRevision("web", "v1", v1)
	if err != nil {
		t.Fatal(err)
	}
	rev2, err := multicluster.NewRevision("web", "v2", v2)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(s.admin.Discovery()))
	grant, err := rbac.ApplierRules(mapper, "", rev1.Resources, rev2.Resources)
	if err != nil {
		t.Fatal(err)
	}

	bind := func(t *testing.T, name string, g *rbac.ApplierGrant) *multicluster.Cluster {
		t.Helper()
		sa := rbac.ServiceAccount("default", name)
		cr, roles := g.Objects(name)
		if _, err := s.admin.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.admin.RbacV1().ClusterRoleBindings().Create(ctx, rbac.ClusterRoleBinding(name, sa), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, r := range roles {
			if _, err := s.admin.RbacV1().Roles(r.Namespace).Create(ctx, r, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.admin.RbacV1().RoleBindings(r.Namespace).Create(ctx, rbac.RoleBinding(r.Namespace, "Role", name, sa), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		// No rules of its own in default: grant only makes the
		// ServiceAccount and its token, and waits for nothing.
		cfg := s.grant(ctx, t, "default", name, nil)
		return &multicluster.Cluster{Name: "edge-" + name, Config: cfg}
	}

	t.Run("all rules", func(t *testing.T) {
		t.Cleanup(func() { s.removeApplied(t, target) })
		c := bind(t, "applier", grant)
		b := applier.New(applier.Config{})
		for _, rev := range []*multicluster.Revision{rev1, rev2} {
			if err := b.Deliver(ctx, c, rev); err != nil {
				t.Fatalf("deliver %s: %v", rev.ID, err)
			}
			err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
				o, err := b.Observe(ctx, c, rev)
				return o.State == multicluster.DeliveryAvailable, err
			})
			if err != nil {
				t.Fatalf("observe %s: %v", rev.ID, err)
			}
		}
		if _, err := s.admin.CoreV1().ConfigMaps(target).Get(ctx, "web-extra", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("v2 did not prune web-extra: %v", err)
		}
		cur, err := b.Current(ctx, c, "web")
		if err != nil || cur == nil || cur.ID != rev2.ID {
			t.Fatalf("current: %v %v", cur, err)
		}
		if err := b.Remove(ctx, c, "web"); err != nil {
			t.Fatalf("remove: %v", err)
		}
		if _, err := s.admin.CoreV1().Services(target).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("remove left the Service: %v", err)
		}
	})

	t.Run("without the inventory's list", func(t *testing.T) {
		less := &rbac.ApplierGrant{Cluster: grant.Cluster, Namespaces: map[string][]rbac.Rule{}}
		for ns, rs := range grant.Namespaces {
			less.Namespaces[ns] = rs
		}
		inv := less.Namespaces[applier.DefaultNamespace]
		for i, r := range inv {
			if r.Resources[0] == "configmaps" && len(r.ResourceNames) == 0 {
				less.Namespaces[applier.DefaultNamespace] = rbac.Without(inv, i, "list")
			}
		}
		c := bind(t, "applier-no-list", less)
		err := applier.New(applier.Config{}).Deliver(ctx, c, rev1)
		if !errors.Is(err, multicluster.ErrUnauthorized) {
			t.Fatalf("deliver without list of the inventory: %v, want ErrUnauthorized", err)
		}
		if _, err := s.admin.CoreV1().ConfigMaps(target).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("the refused delivery applied web: %v", err)
		}
	})
}

// removeApplied deletes, as the administrator, what a failed delivery of
// package web may have left.
func (s *stack) removeApplied(t *testing.T, target string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	del := func(err error) {
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("clean-up: %v", err)
		}
	}
	for _, n := range []string{"web", "web-extra"} {
		del(s.admin.CoreV1().ConfigMaps(target).Delete(ctx, n, metav1.DeleteOptions{}))
	}
	del(s.admin.CoreV1().Services(target).Delete(ctx, "web", metav1.DeleteOptions{}))
	for _, n := range []string{"porchkit-inventory-web", "porchkit-revisions-web"} {
		del(s.admin.CoreV1().ConfigMaps(applier.DefaultNamespace).Delete(ctx, n, metav1.DeleteOptions{}))
	}
}
