package porch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

const pipelineKptfile = `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: app
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - image: %s
    configMap:
      namespace: rendered
`

const configMapYAML = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n"

// TestRenderResultsOnRealPorch: Porch renders the Kptfile pipeline on push
// and reports the function results only in that response; Push returns them.
// A failing pipeline is ErrRenderFailed and saves nothing.
func TestRenderResultsOnRealPorch(t *testing.T) {
	_, c := realClient(t, porch.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prs := c.PackageRevisions("default")
	d, err := prs.Init(ctx, "repo", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	status, err := prs.UpdateResources(ctx, d.Name, func(p *porch.Package) error {
		p.Resources["Kptfile"] = strings.Replace(pipelineKptfile, "%s", "gcr.io/kpt-fn/set-namespace:v0.4.1", 1)
		p.Resources["cm.yaml"] = configMapYAML
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if status == nil || len(status.Result.Items) == 0 || !strings.Contains(status.Result.Items[0].Image, "set-namespace") {
		t.Fatalf("render status = %+v, want the set-namespace result", status)
	}
	pkg, err := prs.Pull(ctx, d.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pkg.Resources["cm.yaml"], "namespace: rendered") {
		t.Fatalf("cm.yaml not rendered:\n%s", pkg.Resources["cm.yaml"])
	}

	bad := pkg.DeepCopy()
	bad.Resources["Kptfile"] = strings.Replace(pipelineKptfile, "%s", "example.com/no-such-function:v1", 1)
	bad.Resources["other.yaml"] = strings.Replace(configMapYAML, "name: cm", "name: other", 1)
	_, err = prs.Push(ctx, bad)
	if !errors.Is(err, porch.ErrRenderFailed) {
		t.Fatalf("push with a failing pipeline: %v, want ErrRenderFailed", err)
	}
	after, err := prs.Pull(ctx, d.Name)
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != pkg.ResourceVersion || after.Resources["other.yaml"] != "" {
		t.Fatal("a failed render changed the draft")
	}
}

// TestFakeRendererHook: the fake renders through the given function and its
// results reach the caller of Push, like Porch's.
func TestFakeRendererHook(t *testing.T) {
	renderer := func(_ context.Context, in map[string]string) (map[string]string, *porchapi.RenderStatus, error) {
		if strings.Contains(in["Kptfile"], "fail-me") {
			return nil, nil, errors.New("pipeline step 0 failed")
		}
		out := map[string]string{}
		for k, v := range in {
			out[k] = strings.ReplaceAll(v, "name: cm", "name: cm-rendered")
		}
		return out, &porchapi.RenderStatus{Result: porchapi.ResultList{Items: []*porchapi.Result{{Image: "renamer", ExitCode: 0}}}}, nil
	}
	prs, _ := newFakeRepoOn(t, fake.NewClientBuilder().WithRenderer(fake.RendererFunc(renderer)))
	ctx := context.Background()
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	status, err := prs.UpdateResources(ctx, d.Name, func(p *porch.Package) error {
		p.Resources["cm.yaml"] = configMapYAML
		return nil
	})
	if err != nil || len(status.Result.Items) != 1 || status.Result.Items[0].Image != "renamer" {
		t.Fatalf("status %+v err %v", status, err)
	}
	pkg, _ := prs.Pull(ctx, d.Name)
	if !strings.Contains(pkg.Resources["cm.yaml"], "cm-rendered") {
		t.Fatal("render output not stored")
	}
	_, err = prs.UpdateResources(ctx, d.Name, func(p *porch.Package) error {
		p.Resources["Kptfile"] += "# fail-me\n"
		return nil
	})
	if !errors.Is(err, porch.ErrRenderFailed) {
		t.Fatalf("failing renderer: %v", err)
	}
}
