package gitops_test

import (
	"context"
	"fmt"
	"sort"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/gitops"
	"github.com/nephoran/porchkit/multicluster/memfleet"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// Roll two revisions of a package out to two clusters, each fed by its own
// Porch deployment repository (here on the in-memory fake Porch, with
// in-memory clusters standing in for the agent that applies what is
// published). The first delivery clones the published blueprint, the
// second edits the latest revision: each repository's history shows both.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := fake.NewClientBuilder().BuildServer()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := porch.New(srv.Config(), porch.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	prs := c.PackageRevisions("default")

	// A published blueprint that first deliveries are cloned from.
	if _, err := c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/blueprints.git"); err != nil {
		panic(err)
	}
	bp, err := prs.Init(ctx, "blueprints", "upf", "v1")
	if err != nil {
		panic(err)
	}
	if _, err := porch.NewLifecycleManager(prs, porch.LifecycleOptions{}).Promote(ctx, bp.Name, porchapi.PackageRevisionLifecyclePublished); err != nil {
		panic(err)
	}

	// Two clusters, each with its deployment repository.
	fleet := memfleet.New(memfleet.Config{})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: fleet})
	clusters := fleet.AddClusters("edge", 2, 1)
	for _, cl := range clusters {
		cl.Repository = "deploy-" + cl.Name
		if _, err := c.Repositories("default").Register(ctx, cl.Repository, "https://git.example.com/"+cl.Repository+".git", porch.AsDeployment); err != nil {
			panic(err)
		}
		if err := m.Register(ctx, cl); err != nil {
			panic(err)
		}
	}

	backend := gitops.New(c, gitops.Config{Sync: fleet, Upstream: map[string]string{"upf": bp.Name}})
	prop := multicluster.NewPropagator(m, backend, multicluster.PropagatorConfig{})
	defer prop.Close()
	for _, version := range []string{"v1", "v2"} {
		pkg := &multicluster.Package{Name: "upf", Revision: version, Resources: []*yaml.RNode{
			yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upf\n  namespace: default\ndata:\n  version: " + version + "\n")}}
		id, err := prop.Propagate(ctx, pkg, multicluster.Selector{}, multicluster.Strategy{
			Type: multicluster.StrategySequential, PollInterval: 10 * time.Millisecond, ProgressDeadline: 10 * time.Second})
		if err != nil {
			panic(err)
		}
		st, err := prop.Wait(ctx, id)
		if err != nil {
			panic(err)
		}
		fmt.Println(version, st.Phase)
	}

	for _, cl := range clusters {
		repo := "deploy-" + cl.Name
		list, err := prs.List(ctx, porch.InRepository(repo), porch.ForPackage("upf"), porch.InLifecycle(porchapi.PackageRevisionLifecyclePublished))
		if err != nil {
			panic(err)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Spec.Revision < list[j].Spec.Revision })
		fmt.Print(repo, ":")
		for _, pr := range list {
			if pr.Spec.Revision > 0 {
				fmt.Printf(" %d (%s)", pr.Spec.Revision, pr.Spec.Tasks[0].Type)
			}
		}
		fmt.Println()
	}
	// Output:
	// v1 Succeeded
	// v2 Succeeded
	// deploy-edge-0000: 1 (clone) 2 (edit)
	// deploy-edge-0001: 1 (clone) 2 (edit)
}

// From a published Porch package revision to a canary rollout: PullPackage
// names the package after its path, takes Porch's revision number, and
// leaves the Kptfile and other local-config resources behind.
func ExamplePullPackage() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := fake.NewClientBuilder().BuildServer()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := porch.New(srv.Config(), porch.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if _, err := c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/blueprints.git"); err != nil {
		panic(err)
	}
	prs := c.PackageRevisions("default")
	draft, err := prs.Init(ctx, "blueprints", "core/upf", "v1")
	if err != nil {
		panic(err)
	}
	contents, err := prs.Pull(ctx, draft.Name)
	if err != nil {
		panic(err)
	}
	contents.Resources["configmap.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upf\n  namespace: default\ndata:\n  mode: edge\n"
	if _, err := prs.Push(ctx, contents); err != nil {
		panic(err)
	}
	if _, err := porch.NewLifecycleManager(prs, porch.LifecycleOptions{}).Promote(ctx, draft.Name, porchapi.PackageRevisionLifecyclePublished); err != nil {
		panic(err)
	}

	pkg, err := gitops.PullPackage(ctx, prs, draft.Name)
	if err != nil {
		panic(err)
	}
	fmt.Println(pkg.Name, pkg.Revision, len(pkg.Resources), "resource")

	fleet := memfleet.New(memfleet.Config{})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: fleet})
	for _, cl := range fleet.AddClusters("edge", 4, 2) {
		if err := m.Register(ctx, cl); err != nil {
			panic(err)
		}
	}
	prop := multicluster.NewPropagator(m, fleet, multicluster.PropagatorConfig{})
	defer prop.Close()
	id, err := prop.Propagate(ctx, pkg, multicluster.Selector{}, multicluster.Strategy{Type: multicluster.StrategyCanary,
		Canary: multicluster.CanaryStrategy{FirstPercent: 25, StepPercent: 50}, PollInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	st, err := prop.Wait(ctx, id)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Phase, "in", st.Waves, "waves:", st.Counts[multicluster.ClusterSucceeded], "clusters run", fleet.Running("edge-0003", pkg.Name) != "")
	// Output:
	// core-upf v1 1 resource
	// Succeeded in 3 waves: 4 clusters run true
}
