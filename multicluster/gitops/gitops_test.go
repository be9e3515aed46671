package gitops_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/gitops"
	"github.com/nephoran/porchkit/multicluster/memfleet"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
	"github.com/nephoran/porchkit/porch/porchenv"
)

func web(version string) *multicluster.Package {
	p := &multicluster.Package{Name: "web", Revision: version}
	for _, d := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: web:" + version + "\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: default\ndata:\n  version: " + version + "\n",
	} {
		p.Resources = append(p.Resources, yaml.MustParse(d))
	}
	return p
}

// target is a Porch to run the flows on, and how to add a repository.
type target struct {
	client  porch.Client
	newRepo func(ctx context.Context, name string, deployment bool) error
}

func TestGitOpsFlows(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		c, _ := fake.NewClientBuilder().Build(t)
		run(t, target{client: c, newRepo: func(ctx context.Context, name string, deployment bool) error {
			var opts []porch.RegisterOption
			if deployment {
				opts = append(opts, porch.AsDeployment)
			}
			_, err := c.Repositories("default").Register(ctx, name, "https://git.example.com/"+name+".git", opts...)
			return err
		}})
	})
	t.Run("real", func(t *testing.T) {
		env := porchenv.Setup(t, nil)
		c, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		run(t, target{client: c, newRepo: func(ctx context.Context, name string, deployment bool) error {
			_, err := env.RegisterRepository(ctx, name, &porch.RegisterOptions{Deployment: deployment})
			return err
		}})
	})
}

// history returns the published revisions of web in repo, oldest first,
// as "revision:version:task".
func history(t *testing.T, c porch.Client, repo string) []string {
	t.Helper()
	ctx := context.Background()
	prs := c.PackageRevisions("default")
	list, err := prs.List(ctx, porch.InRepository(repo), porch.ForPackage("web"), porch.InLifecycle(porchapi.PackageRevisionLifecyclePublished))
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Spec.Revision < list[j].Spec.Revision })
	var out []string
	for _, pr := range list {
		if pr.Spec.Revision < 1 {
			continue
		}
		p, err := prs.Pull(ctx, pr.Name)
		if err != nil {
			t.Fatal(err)
		}
		version := ""
		for path, content := range p.Resources {
			if strings.HasPrefix(path, "default/configmap-web") {
				n := yaml.MustParse(content)
				version, _ = n.GetString("data.version")
			}
		}
		task := ""
		if len(pr.Spec.Tasks) > 0 {
			task = string(pr.Spec.Tasks[0].Type)
		}
		out = append(out, fmt.Sprintf("%d:%s:%s", pr.Spec.Revision, version, task))
	}
	return out
}

func run(t *testing.T, tg target) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	prs := tg.client.PackageRevisions("default")

	// A published blueprint to clone from.
	if err := tg.newRepo(ctx, "blueprints", false); err != nil {
		t.Fatal(err)
	}
	bp, err := prs.Init(ctx, "blueprints", "web", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := porch.NewLifecycleManager(prs, porch.LifecycleOptions{}).Promote(ctx, bp.Name, porchapi.PackageRevisionLifecyclePublished); err != nil {
		t.Fatal(err)
	}

	mem := memfleet.New(memfleet.Config{})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: mem})
	clusters := mem.AddClusters("edge", 3, 1)
	for i := range clusters {
		clusters[i].Repository = "deploy-" + clusters[i].Name
		if err := tg.newRepo(ctx, clusters[i].Repository, true); err != nil {
			t.Fatal(err)
		}
		if err := m.Register(ctx, clusters[i]); err != nil {
			t.Fatal(err)
		}
	}
	backend := gitops.New(tg.client, gitops.Config{Sync: mem, Upstream: map[string]string{"web": bp.Name}})
	prop := multicluster.NewPropagator(m, backend, multicluster.PropagatorConfig{})
	defer prop.Close()
	rollout := func(p *multicluster.Package, s multicluster.Strategy) *multicluster.Status {
		t.Helper()
		s.PollInterval = 100 * time.Millisecond
		id, err := prop.Propagate(ctx, p, multicluster.Selector{}, s)
		if err != nil {
			t.Fatal(err)
		}
		st, err := prop.Wait(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	st := rollout(web("v1"), multicluster.Strategy{Type: multicluster.StrategyParallel, ProgressDeadline: time.Minute})
	if st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("v1: %s %s %+v", st.Phase, st.Reason, st.Failures)
	}
	for _, c := range clusters {
		if got := history(t, tg.client, c.Repository); strings.Join(got, " ") != "1:v1:clone" {
			t.Fatalf("%s holds %v, want v1 published as revision 1, cloned from the blueprint", c.Repository, got)
		}
	}

	// Canary v2; the second wave's cluster never becomes ready: the first
	// two clusters roll back, which publishes v1's content again.
	mem.SetNeverReady(clusters[1].Name, true)
	st = rollout(web("v2"), multicluster.Strategy{Type: multicluster.StrategyCanary, ProgressDeadline: 3 * time.Second,
		Canary: multicluster.CanaryStrategy{MandatoryClusters: []string{clusters[0].Name}, StepPercent: 34}})
	if st.Phase != multicluster.PhaseRolledBack {
		t.Fatalf("v2: %s %s %+v", st.Phase, st.Reason, st.Failures)
	}
	want := map[string]string{
		clusters[0].Repository: "1:v1:clone 2:v2:edit 3:v1:edit",
		clusters[1].Repository: "1:v1:clone 2:v2:edit 3:v1:edit",
		clusters[2].Repository: "1:v1:clone",
	}
	for repo, w := range want {
		if got := strings.Join(history(t, tg.client, repo), " "); got != w {
			t.Errorf("%s holds %s, want %s", repo, got, w)
		}
	}
	// What each cluster runs is v1's content, and Current reads it back.
	v1 := mem.Running(clusters[2].Name, "web")
	for _, c := range clusters {
		cur, err := backend.Current(ctx, &c, "web")
		if err != nil {
			t.Fatal(err)
		}
		if cur.ID != v1 || mem.Running(c.Name, "web") != v1 {
			t.Errorf("%s: published %s, runs %s; want v1's %s", c.Name, cur.ID, mem.Running(c.Name, "web"), v1)
		}
	}
}
