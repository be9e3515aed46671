// Command quickstart runs a small end-to-end flow on a real, local Porch:
// it starts the porchtest stack (etcd, kube-apiserver, porch-server, the
// function runner and a git server, all on 127.0.0.1), registers a git
// repository, creates a package, proposes and approves it, and prints what
// Porch published. The first run builds the servers (minutes, with
// progress); later runs start in seconds.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	porchclient "github.com/nephio-project/porch/api/generated/clientset/versioned"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nephoran/porchkit/porch/porchtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) (err error) {
	start := time.Now()
	fmt.Println("starting a local Porch (etcd, kube-apiserver, porch-server, function runner, git server) ...")
	env, err := porchtest.Start(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := env.Stop(); err == nil {
			err = stopErr
		}
	}()
	fmt.Printf("porch-server ready at %s (%s)\n", env.PorchConfig.Host, time.Since(start).Round(time.Millisecond))

	if _, err := env.RegisterRepository(ctx, "blueprints"); err != nil {
		return err
	}
	fmt.Printf("repository blueprints registered and Ready (git %s)\n", env.Git.RepositoryURL("blueprints"))

	cs, err := porchclient.NewForConfig(env.PorchConfig)
	if err != nil {
		return err
	}
	prs := cs.PorchV1alpha1().PackageRevisions(env.Namespace)
	draft, err := prs.Create(ctx, &porchapi.PackageRevision{
		ObjectMeta: metav1.ObjectMeta{Namespace: env.Namespace},
		Spec: porchapi.PackageRevisionSpec{
			RepositoryName: "blueprints",
			PackageName:    "hello",
			WorkspaceName:  "first",
			Tasks:          []porchapi.Task{{Type: porchapi.TaskTypeInit, Init: &porchapi.PackageInitTaskSpec{Description: "hello world"}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create package: %w", err)
	}
	fmt.Printf("created %s (%s)\n", draft.Name, draft.Spec.Lifecycle)

	res, err := cs.PorchV1alpha1().PackageRevisionResources(env.Namespace).Get(ctx, draft.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read resources: %w", err)
	}
	files := make([]string, 0, len(res.Spec.Resources))
	for f := range res.Spec.Resources {
		files = append(files, f)
	}
	sort.Strings(files)
	fmt.Printf("package files: %v\n", files)

	draft.Spec.Lifecycle = porchapi.PackageRevisionLifecycleProposed
	proposed, err := prs.Update(ctx, draft, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("propose: %w", err)
	}
	proposed.Spec.Lifecycle = porchapi.PackageRevisionLifecyclePublished
	if _, err := prs.UpdateApproval(ctx, proposed.Name, proposed, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	published, err := prs.Get(ctx, draft.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	fmt.Printf("published %s: lifecycle %s, revision %d, latest=%s\n", published.Name, published.Spec.Lifecycle,
		published.Spec.Revision, published.Labels[porchapi.LatestPackageRevisionKey])
	fmt.Printf("done in %s; stopping the stack\n", time.Since(start).Round(time.Millisecond))
	return nil
}
