package porchenv

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	porchclient "github.com/nephio-project/porch/api/generated/clientset/versioned"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nephoran/porchkit/internal/testbin"
	"github.com/nephoran/porchkit/porch"
)

// TestPackageLifecycleOnRealPorch drives the real Porch with plain
// client-go REST calls (Porch's generated clientset): register a git
// repository, init a package, read its resources, propose, approve through
// the approval subresource, and see the deletion webhook guard the result.
func TestPackageLifecycleOnRealPorch(t *testing.T) {
	env := Setup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	repo, err := env.RegisterRepository(ctx, "blueprints")
	if err != nil {
		t.Fatal(err)
	}
	if repo.Spec.Git.Repo != env.Git.RepositoryURL("blueprints") {
		t.Errorf("repository URL = %q", repo.Spec.Git.Repo)
	}
	cs, err := porchclient.NewForConfig(env.PorchConfig)
	if err != nil {
		t.Fatal(err)
	}
	prs := cs.PorchV1alpha1().PackageRevisions(env.Namespace)

	created, err := prs.Create(ctx, &porchapi.PackageRevision{
		ObjectMeta: metav1.ObjectMeta{Namespace: env.Namespace},
		Spec: porchapi.PackageRevisionSpec{
			PackageName:    "hello",
			WorkspaceName:  "ws1",
			RepositoryName: "blueprints",
			Lifecycle:      porchapi.PackageRevisionLifecycleDraft,
			Tasks: []porchapi.Task{{
				Type: porchapi.TaskTypeInit,
				Init: &porchapi.PackageInitTaskSpec{Description: "hello package"},
			}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.Name != "blueprints.hello.ws1" || created.Spec.Lifecycle != porchapi.PackageRevisionLifecycleDraft {
		t.Fatalf("created %q in %s, want blueprints.hello.ws1 as Draft", created.Name, created.Spec.Lifecycle)
	}

	res, err := cs.PorchV1alpha1().PackageRevisionResources(env.Namespace).Get(ctx, created.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get resources: %v", err)
	}
	for _, f := range []string{"Kptfile", "package-context.yaml", "README.md"} {
		if _, ok := res.Spec.Resources[f]; !ok {
			t.Errorf("resources lack %s (have %d files)", f, len(res.Spec.Resources))
		}
	}
	if k := res.Spec.Resources["Kptfile"]; !strings.Contains(k, "name: hello") || !strings.Contains(k, "hello package") {
		t.Errorf("Kptfile does not name the package or its description:\n%s", k)
	}
	if pc := res.Spec.Resources["package-context.yaml"]; !strings.Contains(pc, "kptfile.kpt.dev") {
		t.Errorf("package-context.yaml is not the kptfile.kpt.dev ConfigMap:\n%s", pc)
	}

	created.Spec.Lifecycle = porchapi.PackageRevisionLifecycleProposed
	proposed, err := prs.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("propose: %v", err)
	}
	if proposed.Spec.Lifecycle != porchapi.PackageRevisionLifecycleProposed {
		t.Fatalf("lifecycle after propose = %s", proposed.Spec.Lifecycle)
	}
	proposed.Spec.Lifecycle = porchapi.PackageRevisionLifecyclePublished
	if _, err := prs.UpdateApproval(ctx, proposed.Name, proposed, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("approve: %v", err)
	}
	published, err := prs.Get(ctx, created.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if published.Spec.Lifecycle != porchapi.PackageRevisionLifecyclePublished || published.Spec.Revision != 1 {
		t.Errorf("after approval: %s revision %d, want Published revision 1", published.Spec.Lifecycle, published.Spec.Revision)
	}
	if published.Labels[porchapi.LatestPackageRevisionKey] != porchapi.LatestPackageRevisionValue {
		t.Errorf("labels = %v, want %s=%s", published.Labels, porchapi.LatestPackageRevisionKey, porchapi.LatestPackageRevisionValue)
	}

	// The same API, served through kube-apiserver's aggregation layer.
	viaKube, err := porchclient.NewForConfig(env.KubeConfig)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := viaKube.PorchV1alpha1().PackageRevisions(env.Namespace).Get(ctx, created.Name, metav1.GetOptions{}); err != nil || got.Spec.Revision != 1 {
		t.Errorf("get through kube-apiserver: %v (revision %v)", err, got)
	}

	// Client-certificate authentication works as well as the token.
	certClient, err := porchclient.NewForConfig(env.ClientCertConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := certClient.PorchV1alpha1().PackageRevisions(env.Namespace).Get(ctx, created.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("get with a client certificate: %v", err)
	}
	// A wrong token is rejected by both servers.
	for name, cfg := range map[string]*rest.Config{"porch-server": env.PorchConfig, "kube-apiserver": env.KubeConfig} {
		bad := rest.CopyConfig(cfg)
		bad.BearerToken = "not-a-valid-token"
		badClient, err := porchclient.NewForConfig(bad)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := badClient.PorchV1alpha1().PackageRevisions(env.Namespace).List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
			t.Errorf("%s with a wrong token: err = %v, want 401 Unauthorized", name, err)
		}
	}

	// Production rule, enforced by Porch's deletion webhook: a Published
	// revision must be proposed for deletion first.
	err = prs.Delete(ctx, created.Name, metav1.DeleteOptions{})
	if err == nil {
		t.Fatal("deleting a Published revision succeeded; the deletion webhook is not active")
	}
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "proposed for deletion") {
		t.Errorf("delete of Published: %v, want 400 from the deletion webhook", err)
	}
	if _, err := prs.Get(ctx, created.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("the refused delete lost the revision: %v", err)
	}
	published, err = prs.Get(ctx, created.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	published.Spec.Lifecycle = porchapi.PackageRevisionLifecycleDeletionProposed
	if _, err := prs.Update(ctx, published, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("propose delete: %v", err)
	}
	if err := prs.Delete(ctx, created.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete after propose-delete: %v", err)
	}
	if _, err := prs.Get(ctx, created.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after delete: %v, want NotFound", err)
	}
}

// TestRepositoryCredentials registers repositories on a git server that
// requires basic auth: the right Secret gives a Ready repository, a wrong
// one a repository that never becomes Ready, with Porch's reason.
func TestRepositoryCredentials(t *testing.T) {
	env := Setup(t, &Environment{GitAuth: porch.BasicAuth{Username: "porch", Password: "s3cret"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := env.RegisterRepository(ctx, "private"); err != nil {
		t.Fatalf("repository with the right credentials: %v", err)
	}
	if _, err := env.RegisterRepository(ctx, "rejected", &RepositoryOptions{NoWait: true}, porch.BasicAuth{Username: "porch", Password: "wrong"}); err != nil {
		t.Fatal(err)
	}
	// Porch retries the fetch a few times, then reports the failure.
	var cond *metav1.Condition
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		repo := &configapi.Repository{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: env.Namespace, Name: "rejected"}, repo); err != nil {
			return false, err
		}
		cond = meta.FindStatusCondition(repo.Status.Conditions, configapi.RepositoryReady)
		return cond != nil && cond.Status == metav1.ConditionFalse && cond.Reason == "Error", nil
	})
	if err != nil {
		t.Fatalf("repository with wrong credentials never reported an error: %v (condition %+v)", err, cond)
	}
	if !strings.Contains(cond.Message, "authentication required") {
		t.Errorf("condition does not carry the authentication failure: %s", cond.Message)
	}
	c, err := env.NewClient(porch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
	defer wcancel()
	_, err = c.Repositories(env.Namespace).WaitReady(wctx, "rejected")
	if !errors.Is(err, porch.ErrNotReady) || !strings.Contains(err.Error(), "authentication required") {
		t.Errorf("WaitReady: err = %v, want porch.ErrNotReady with Porch's reason", err)
	}
	// RegisterRepository waits through the same code path: it fails with
	// the same error, long before its own timeout.
	_, err = env.RegisterRepository(ctx, "rejected-waited", &RepositoryOptions{ReadyTimeout: 2 * time.Minute}, porch.BasicAuth{Username: "porch", Password: "wrong"})
	if !errors.Is(err, porch.ErrNotReady) || !strings.Contains(err.Error(), "authentication required") {
		t.Errorf("RegisterRepository with wrong credentials: err = %v, want porch.ErrNotReady with Porch's reason", err)
	}
}

// TestPorchctlServesRepoAndRpkg runs the built porchctl with the stack's
// kubeconfig: repositories come from kube-apiserver, package revisions from
// porch-server through kube-apiserver's aggregation, so both commands work
// with one kubeconfig.
func TestPorchctlServesRepoAndRpkg(t *testing.T) {
	env := Setup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := env.RegisterRepository(ctx, "blueprints"); err != nil {
		t.Fatal(err)
	}
	c, err := env.NewClient(porch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pr, err := c.PackageRevisions(env.Namespace).Init(ctx, "blueprints", "hello", "v1")
	if err != nil {
		t.Fatal(err)
	}
	porchctl, err := testbin.New(testbin.Config{}).Path(ctx, testbin.Porchctl)
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, porchctl, append(args, "--kubeconfig", env.KubeconfigPath, "-n", env.Namespace)...)
		// Only the kubeconfig given may be read.
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("porchctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := run("repo", "get"); !containsLine(out, "blueprints") {
		t.Errorf("porchctl repo get does not list repository blueprints:\n%s", out)
	}
	if out := run("rpkg", "get"); !containsLine(out, pr.Name) {
		t.Errorf("porchctl rpkg get does not list %s:\n%s", pr.Name, out)
	}
}

// containsLine reports whether a line of a porchctl table starts with the
// name word.
func containsLine(table, name string) bool {
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return true
		}
	}
	return false
}

// TestStopPorchServerEndsItWithoutAKill stops porch-server while a client
// watches it (an open watch keeps its graceful shutdown from ending) and
// checks that it exited on its own (a status, not SIGKILL after the grace
// period), then starts it again and uses it.
func TestStopPorchServerEndsItWithoutAKill(t *testing.T) {
	env := Setup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := env.NewClient(porch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w, err := c.PackageRevisions(env.Namespace).Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	stopped := env.porch
	if err := env.StopPorchServer(); err != nil {
		t.Fatal(err)
	}
	st := stopped.ProcessState()
	if st == nil || !st.Exited() {
		t.Fatalf("porch-server's end: %v, want an exit of its own, not a kill", st)
	}
	if err := env.StartPorchServer(ctx); err != nil {
		t.Fatal(err)
	}
	if env.porch == stopped || !env.porch.Running() {
		t.Fatal("StartPorchServer did not start a new porch-server")
	}
	if _, err := env.RegisterRepository(ctx, "after-restart"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PackageRevisions(env.Namespace).Init(ctx, "after-restart", "hello", "v1"); err != nil {
		t.Fatalf("init after the restart: %v", err)
	}
}

// TestFailedStartCanBeRetried starts an Environment whose etcd exits at
// once: Start fails, cleans up, and a second Start runs again (it fails the
// same way, instead of answering that the environment was started already).
func TestFailedStartCanBeRetried(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{testbin.Etcd, testbin.KubeAPIServer, testbin.PorchServer, testbin.FunctionRunner, testbin.PorchCRDs} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := &Environment{BinDir: dir, StartTimeout: 30 * time.Second}
	for i := range 2 {
		err := env.Start(ctx)
		if err == nil {
			_ = env.Stop()
			t.Fatalf("start %d with an etcd that exits: no error", i+1)
		}
		if !strings.Contains(err.Error(), "porchenv: etcd:") {
			t.Fatalf("start %d: err = %v, want etcd's failure", i+1, err)
		}
		if env.dir != "" || env.Namespace != "" || len(env.Running()) != 0 {
			t.Fatalf("start %d left state behind: dir %q, namespace %q, running %v", i+1, env.dir, env.Namespace, env.Running())
		}
	}
}
