package rbac_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/porchenv"
	"github.com/nephoran/porchkit/rbac"
)

// stack is the local Porch stack of the real tests, with the audit policy
// on kube-apiserver and porch-server, and two namespaces with one
// repository each.
type stack struct {
	env       *porchenv.Environment
	admin     kubernetes.Interface
	porch     porch.Client // the administrator's, straight to porch-server
	kubeAudit string
	// porchAudit is porch-server's audit log.
	porchAudit string
}

const (
	nsA, nsB     = "team-a", "team-b"
	repoA, repoB = "blueprints-a", "blueprints-b"
)

func startStack(t *testing.T) *stack {
	t.Helper()
	dir := t.TempDir()
	policy := filepath.Join(dir, rbac.AuditPolicyFile)
	b, err := rbac.AuditPolicyYAML()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policy, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s := &stack{kubeAudit: filepath.Join(dir, "kube-apiserver-audit.log"), porchAudit: filepath.Join(dir, "porch-server-audit.log")}
	s.env = porchenv.Setup(t, &porchenv.Environment{
		APIServerArgs:   []string{"--audit-policy-file=" + policy, "--audit-log-path=" + s.kubeAudit},
		PorchServerArgs: []string{"--audit-policy-file=" + policy, "--audit-log-path=" + s.porchAudit},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if s.admin, err = kubernetes.NewForConfig(s.env.KubeConfig); err != nil {
		t.Fatal(err)
	}
	if s.porch, err = s.env.NewClient(porch.Options{Cache: porch.CacheOptions{Disabled: true}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.porch.Close)
	for ns, repo := range map[string]string{nsA: repoA, nsB: repoB} {
		if _, err := s.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		url, err := s.env.Git.CreateRepository(ctx, repo, "main", false)
		if err != nil {
			t.Fatal(err)
		}
		repos := s.porch.Repositories(ns)
		if _, err := repos.Register(ctx, repo, url); err != nil {
			t.Fatal(err)
		}
		if _, err := repos.WaitReady(ctx, repo); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// user is the Kubernetes user name of ServiceAccount name in ns.
func user(ns, name string) string { return "system:serviceaccount:" + ns + ":" + name }

// grant creates ServiceAccount name in ns, bound in ns to a Role with
// exactly rules, waits until kube-apiserver's authorizer allows every
// verb of the rules, and returns a configuration for kube-apiserver that
// authenticates with a token of the ServiceAccount (TokenRequest).
func (s *stack) grant(ctx context.Context, t *testing.T, ns, name string, rules []rbac.Rule) *rest.Config {
	t.Helper()
	role := rbac.Role(ns, name, rbac.PorchLifecycle, rules)
	if _, err := s.admin.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return s.bindTo(ctx, t, ns, name, "Role", name, rules)
}

// bindTo creates ServiceAccount name in ns, binds it in ns to the Role
// or ClusterRole roleName, waits until kube-apiserver's authorizer allows
// every verb of rules (the role's), and returns a configuration for
// kube-apiserver with a token of the ServiceAccount.
func (s *stack) bindTo(ctx context.Context, t *testing.T, ns, name, roleKind, roleName string, rules []rbac.Rule) *rest.Config {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if _, err := s.admin.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := rbac.RoleBinding(ns, roleKind, roleName, rbac.ServiceAccount(ns, name))
	binding.Name = name
	if _, err := s.admin.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		for _, res := range r.Resources {
			resource, sub, _ := strings.Cut(res, "/")
			for _, v := range r.Verbs {
				attrs := &authorizationv1.ResourceAttributes{Namespace: ns, Verb: v, Group: r.APIGroups[0], Resource: resource, Subresource: sub}
				err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
					sar, err := s.admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
						User: user(ns, name), Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}, ResourceAttributes: attrs,
					}}, metav1.CreateOptions{})
					return err == nil && sar.Status.Allowed, err
				})
				if err != nil {
					t.Fatalf("%s is not allowed %+v after binding: %v", user(ns, name), attrs, err)
				}
			}
		}
	}
	tok, err := s.admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &rest.Config{Host: s.env.KubeConfig.Host, BearerToken: tok.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.env.KubeConfig.CAData}, QPS: -1}
}

func ptr[T any](v T) *T { return &v }

// client returns a porch client of cfg: every request, porch.kpt.dev
// included, goes through kube-apiserver, which authorises it before it
// proxies it to porch-server. No cache, so that every step asks the
// server.
func client(t *testing.T, cfg *rest.Config) porch.Client {
	t.Helper()
	c, err := porch.New(cfg, porch.Options{Cache: porch.CacheOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// need is one permission a step uses: resource (with "/subresource")
// and verb.
type need struct{ resource, verb string }

// step is one call of a component's flow and the permissions it uses.
type step struct {
	name  string
	needs []need
	run   func(ctx context.Context) error
}

// lifecycleFlow is porch-lifecycle's whole flow on one new package in
// repository repo: every call of porch.PackageRevisions, in order.
func lifecycleFlow(c porch.PackageRevisions, repo, pkg string) []step {
	name := porch.RevisionName(repo, pkg, "v1")
	var pulled *porch.Package
	pr, prr, approval := "packagerevisions", "packagerevisionresources", "packagerevisions/approval"
	return []step{
		{"list", []need{{pr, "list"}}, func(ctx context.Context) error {
			_, err := c.List(ctx, porch.InRepository(repo))
			return err
		}},
		{"watch", []need{{pr, "watch"}}, func(ctx context.Context) error {
			w, err := c.Watch(ctx, porch.InRepository(repo))
			if err == nil {
				w.Stop()
			}
			return err
		}},
		{"init", []need{{pr, "create"}}, func(ctx context.Context) error {
			_, err := c.Init(ctx, repo, pkg, "v1", porch.Description("least privilege"))
			return err
		}},
		{"get", []need{{pr, "get"}}, func(ctx context.Context) error {
			_, err := c.Get(ctx, name)
			return err
		}},
		{"pull", []need{{prr, "get"}}, func(ctx context.Context) (err error) {
			pulled, err = c.Pull(ctx, name)
			return err
		}},
		{"push", []need{{pr, "get"}, {prr, "update"}}, func(ctx context.Context) error {
			pulled.Resources["settings.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  tier: gold\n"
			_, err := c.Push(ctx, pulled)
			return err
		}},
		{"label", []need{{pr, "get"}, {pr, "update"}}, func(ctx context.Context) error {
			_, err := c.UpdateMetadata(ctx, name, func(r *porchapi.PackageRevision) error {
				if r.Labels == nil {
					r.Labels = map[string]string{}
				}
				r.Labels["tier"] = "gold"
				return nil
			})
			return err
		}},
		{"propose", []need{{pr, "get"}, {pr, "update"}}, func(ctx context.Context) error {
			_, err := c.Propose(ctx, name)
			return err
		}},
		{"approve", []need{{pr, "get"}, {approval, "update"}}, func(ctx context.Context) error {
			_, err := c.Approve(ctx, name)
			return err
		}},
		{"propose-delete", []need{{pr, "get"}, {pr, "update"}}, func(ctx context.Context) error {
			_, err := c.ProposeDelete(ctx, name)
			return err
		}},
		{"delete", []need{{pr, "get"}, {pr, "delete"}}, func(ctx context.Context) error {
			return c.Delete(ctx, name)
		}},
	}
}

// revisionState is what the administrator sees of a namespace's package
// revisions: lifecycle, labels and files by name. A failed step must
// leave it as it was.
type revisionState map[string]string

func (s *stack) revisions(ctx context.Context, t *testing.T, ns string) revisionState {
	t.Helper()
	prs := s.porch.PackageRevisions(ns)
	list, err := prs.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := revisionState{}
	for _, pr := range list {
		desc := fmt.Sprintf("%s labels=%v", pr.Spec.Lifecycle, pr.Labels)
		if pkg, err := prs.Pull(ctx, pr.Name); err == nil {
			for _, f := range slices.Sorted(maps.Keys(pkg.Resources)) {
				desc += fmt.Sprintf(" %s=%q", f, pkg.Resources[f])
			}
		} else if !errors.Is(err, porch.ErrNotFound) {
			t.Fatal(err)
		}
		out[pr.Name] = desc
	}
	return out
}

// firstNeeding is the index of the first step that needs perm, -1 if none.
func firstNeeding(steps []step, perm need) int {
	for i, s := range steps {
		if slices.Contains(s.needs, perm) {
			return i
		}
	}
	return -1
}

// wantForbidden checks that err is a refusal of verb on resource for
// user, in the server's words.
func wantForbidden(t *testing.T, err error, isForbidden func(error) bool, u, resource, verb string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("succeeded without %s %s", verb, resource)
	case !isForbidden(err):
		t.Fatalf("want forbidden, got %v", err)
	}
	for _, want := range []string{fmt.Sprintf("User %q", u), fmt.Sprintf("cannot %s resource %q", verb, resource)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not carry the server's reason %q", err, want)
		}
	}
}

func isPorchForbidden(err error) bool { return errors.Is(err, porch.ErrForbidden) }

// wantMissing checks rbac.Check with cfg's credentials: it finds nothing
// missing when res is "", else exactly verb on res.
func wantMissing(ctx context.Context, t *testing.T, cfg *rest.Config, p rbac.Permissions, ns, res, verb string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = rbac.Check(ctx, cs.AuthorizationV1(), p, ns)
	if res == "" {
		if err != nil {
			t.Fatalf("check with every rule: %v", err)
		}
		return
	}
	var me *rbac.MissingPermissionsError
	if !errors.Is(err, rbac.ErrMissingPermissions) || !errors.As(err, &me) {
		t.Fatalf("check without %s %s: %v, want a *MissingPermissionsError", verb, res, err)
	}
	resource, sub, _ := strings.Cut(res, "/")
	if len(me.Missing) != 1 || me.Missing[0].Resource != resource || me.Missing[0].Subresource != sub || me.Missing[0].Verb != verb || me.Missing[0].Namespace != ns {
		t.Errorf("check without %s %s reports %v", verb, res, me.Missing)
	}
}

// TestLeastPrivilegeOnRealStack runs each component's flow on a real
// Porch with a ServiceAccount bound to exactly the component's rules,
// and again without each verb of each rule: the flow must then fail at
// the first step that needs the verb, with Forbidden and the server's
// reason, and that step must change nothing. The audit policy runs on
// both API servers meanwhile and is checked at the end.
func TestLeastPrivilegeOnRealStack(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	lifecycle, err := rbac.For(rbac.PorchLifecycle)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()

	t.Run("porch-lifecycle/all rules", func(t *testing.T) {
		cfg := s.grant(ctx, t, nsA, "lifecycle", lifecycle.Namespaced)
		wantMissing(ctx, t, cfg, lifecycle, nsA, "", "")
		c := client(t, cfg)
		for _, st := range lifecycleFlow(c.PackageRevisions(nsA), repoA, "full") {
			if err := st.run(ctx); err != nil {
				t.Fatalf("step %s: %v", st.name, err)
			}
		}
		// What is left is Porch's own revision of the package's main
		// branch, made when v1 was published.
		got := s.revisions(ctx, t, nsA)
		if _, ok := got[porch.RevisionName(repoA, "full", "v1")]; ok || len(got) != 1 {
			t.Errorf("the flow ends with v1 deleted and the main branch's revision left; the namespace has %v", slices.Collect(maps.Keys(got)))
		}
	})
	t.Logf("porch-lifecycle flow with every rule: %v", time.Since(begin).Round(time.Millisecond))

	t.Run("porch-lifecycle/generated ClusterRole", func(t *testing.T) {
		// Every generated manifest is accepted by the API server; the
		// lifecycle's ClusterRole, bound in team-a, runs the flow.
		s.applyManifests(ctx, t)
		cfg := s.bindTo(ctx, t, nsA, "from-manifest", "ClusterRole", rbac.RoleName(rbac.PorchLifecycle), lifecycle.Namespaced)
		c := client(t, cfg)
		for _, st := range lifecycleFlow(c.PackageRevisions(nsA), repoA, "from-manifest") {
			if err := st.run(ctx); err != nil {
				t.Fatalf("step %s: %v", st.name, err)
			}
		}
	})

	begin = time.Now()
	for i, r := range lifecycle.Namespaced {
		for _, verb := range r.Verbs {
			res := r.Resources[0]
			name := "no-" + strings.ReplaceAll(res, "/", "-") + "-" + verb
			t.Run("porch-lifecycle/without "+res+" "+verb, func(t *testing.T) {
				rules := rbac.Without(lifecycle.Namespaced, i, verb)
				cfg := s.grant(ctx, t, nsA, name, rules)
				wantMissing(ctx, t, cfg, lifecycle, nsA, res, verb)
				c := client(t, cfg)
				// A repository of its own, so that no flow works in a git
				// repository that earlier flows filled.
				repo := s.newRepository(ctx, t, nsA, name)
				steps := lifecycleFlow(c.PackageRevisions(nsA), repo, name)
				fail := firstNeeding(steps, need{res, verb})
				if fail < 0 {
					t.Fatalf("no step of the flow needs %s %s: the rule is not minimal", verb, res)
				}
				t.Cleanup(func() { s.removePackage(t, nsA, repo, name) })
				for j, st := range steps[:fail] {
					if err := st.run(ctx); err != nil {
						t.Fatalf("step %d %s, before the one that needs %s %s: %v", j, st.name, verb, res, err)
					}
				}
				before := s.revisions(ctx, t, nsA)
				err := steps[fail].run(ctx)
				wantForbidden(t, err, isPorchForbidden, user(nsA, name), res, verb)
				if after := s.revisions(ctx, t, nsA); !reflect.DeepEqual(before, after) {
					t.Errorf("the refused step %s changed the namespace:\nbefore %v\nafter  %v", steps[fail].name, before, after)
				}
			})
		}
	}
	t.Logf("porch-lifecycle flows without each verb: %v", time.Since(begin).Round(time.Millisecond))

	t.Run("porch-lifecycle/another namespace sees nothing", func(t *testing.T) {
		// A revision in team-a, made by the administrator.
		admin := s.porch.PackageRevisions(nsA)
		pr, err := admin.Init(ctx, repoA, "private", "v1")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.removePackage(t, nsA, repoA, "private") })
		otherCfg := s.grant(ctx, t, nsB, "lifecycle", lifecycle.Namespaced)
		other := client(t, otherCfg)
		u := user(nsB, "lifecycle")
		cs, err := kubernetes.NewForConfig(otherCfg)
		if err != nil {
			t.Fatal(err)
		}
		var me *rbac.MissingPermissionsError
		if err := rbac.Check(ctx, cs.AuthorizationV1(), lifecycle, nsA); !errors.As(err, &me) || len(me.Missing) != 9 {
			t.Errorf("check in the other namespace: %v, want all 9 verbs missing", err)
		}
		_, err = other.PackageRevisions(nsA).List(ctx)
		wantForbidden(t, err, isPorchForbidden, u, "packagerevisions", "list")
		_, err = other.PackageRevisions(nsA).Get(ctx, pr.Name)
		wantForbidden(t, err, isPorchForbidden, u, "packagerevisions", "get")
		_, err = other.PackageRevisions(nsA).Pull(ctx, pr.Name)
		wantForbidden(t, err, isPorchForbidden, u, "packagerevisionresources", "get")
		_, err = other.PackageRevisions("").List(ctx)
		wantForbidden(t, err, isPorchForbidden, u, "packagerevisions", "list")
		own, err := other.PackageRevisions(nsB).List(ctx)
		if err != nil {
			t.Fatalf("list of its own namespace: %v", err)
		}
		for _, o := range own {
			if o.Namespace != nsB {
				t.Errorf("its own namespace's list holds %s/%s", o.Namespace, o.Name)
			}
		}
	})

	begin = time.Now()
	t.Run("repository-registration", func(t *testing.T) { s.testRegistration(ctx, t) })
	t.Logf("repository-registration flows: %v", time.Since(begin).Round(time.Millisecond))

	begin = time.Now()
	t.Run("propagator-state", func(t *testing.T) { s.testPropagatorState(ctx, t) })
	t.Logf("propagator-state flows: %v", time.Since(begin).Round(time.Millisecond))

	begin = time.Now()
	t.Run("direct-applier", func(t *testing.T) { s.testDirectApplier(ctx, t) })
	t.Logf("direct-applier flows: %v", time.Since(begin).Round(time.Millisecond))

	t.Run("audit", func(t *testing.T) { s.testAudit(ctx, t) })
}

// newRepository creates git repository name and registers it, as the
// administrator, in ns; it returns the name.
func (s *stack) newRepository(ctx context.Context, t *testing.T, ns, name string) string {
	t.Helper()
	url, err := s.env.Git.CreateRepository(ctx, name, "main", false)
	if err != nil {
		t.Fatal(err)
	}
	repos := s.porch.Repositories(ns)
	if _, err := repos.Register(ctx, name, url); err != nil {
		t.Fatal(err)
	}
	if _, err := repos.WaitReady(ctx, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// removePackage deletes, as the administrator, every revision of pkg in
// repo of ns.
func (s *stack) removePackage(t *testing.T, ns, repo, pkg string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prs := s.porch.PackageRevisions(ns)
	list, err := prs.List(ctx, porch.InRepository(repo), porch.ForPackage(pkg))
	if err != nil {
		t.Errorf("clean-up of %s: %v", pkg, err)
		return
	}
	for _, pr := range list {
		if err := prs.Delete(ctx, pr.Name, porch.ProposingDeletion); err != nil && !errors.Is(err, porch.ErrNotFound) {
			t.Errorf("clean-up of %s: %v", pr.Name, err)
		}
	}
}

// applyManifests creates every ClusterRole of the generated manifests.
func (s *stack) applyManifests(ctx context.Context, t *testing.T) {
	t.Helper()
	for _, c := range rbac.Components() {
		f, err := os.Open(filepath.Join(rbac.ManifestDir, rbac.ManifestFile(c)))
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
		n := 0
		for {
			cr := &rbacv1.ClusterRole{}
			if err := dec.Decode(cr); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", rbac.ManifestFile(c), err)
			}
			if _, err := s.admin.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil {
				t.Fatalf("%s: %v", rbac.ManifestFile(c), err)
			}
			n++
		}
		f.Close()
		if n == 0 {
			t.Errorf("%s holds no ClusterRole", rbac.ManifestFile(c))
		}
	}
}
