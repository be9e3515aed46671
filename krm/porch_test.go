package krm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
	"github.com/nephoran/porchkit/porch/porchenv"
)

// TestRenderMatchesRealPorch renders the same package with krm and with the
// real Porch (which runs the kpt catalog's own set-namespace v0.4.1,
// apply-replacements v0.1.1 and starlark v0.4.3 in its builtin runtime when
// the package is pushed) and compares the resources.
func TestRenderMatchesRealPorch(t *testing.T) {
	env := porchenv.Setup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := env.RegisterRepository(ctx, "blueprints"); err != nil {
		t.Fatal(err)
	}
	c, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	prs := c.PackageRevisions("default")
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	input := map[string]string{
		"Kptfile": `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: app
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - image: gcr.io/kpt-fn/set-namespace:v0.4.1
    configMap:
      namespace: prod
  - image: gcr.io/kpt-fn/apply-replacements:v0.1.1
    configPath: replacements.yaml
  - image: gcr.io/kpt-fn/starlark:v0.4.3
    configPath: starlark.yaml
`,
		"replacements.yaml": `apiVersion: fn.kpt.dev/v1alpha1
kind: ApplyReplacements
metadata:
  name: replacements
  annotations:
    config.kubernetes.io/local-config: "true"
replacements:
- source:
    kind: ConfigMap
    name: settings
    fieldPath: data.image
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.spec.containers.[name=app].image
`,
		"starlark.yaml": `apiVersion: fn.kpt.dev/v1alpha1
kind: StarlarkRun
metadata:
  name: scale
  annotations:
    config.kubernetes.io/local-config: "true"
params:
  replicas: 5
source: |
  for r in ctx.resource_list["items"]:
    if r["kind"] == "Deployment":
      r["spec"]["replicas"] = ctx.resource_list["functionConfig"]["params"]["replicas"]
      r["metadata"]["labels"]["tier"] = "gold"
`,
		"settings.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  image: registry.example.com/app:2.0 # the release
`,
		"deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app # the app
  namespace: old
  labels:
    app: app
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: app
        image: app:1.0 # replaced
---
apiVersion: v1
kind: Service
metadata:
  name: app
`,
		"rbac.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read
  namespace: old
subjects:
- kind: ServiceAccount
  name: app
  namespace: old
- kind: ServiceAccount
  name: default
  namespace: old
roleRef:
  kind: ClusterRole
  name: reader
  apiGroup: rbac.authorization.k8s.io
`,
		"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: old\n",
	}
	if _, err := prs.UpdateResources(ctx, d.Name, func(p *porch.Package) error {
		for k := range p.Resources {
			delete(p.Resources, k)
		}
		for k, v := range input {
			p.Resources[k] = v
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fromPorch, err := prs.Pull(ctx, d.Name)
	if err != nil {
		t.Fatal(err)
	}
	fromKRM, _, err := krm.Render(ctx, krm.NewRunner(krm.RunnerConfig{}), input)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"deploy.yaml", "rbac.yaml", "ns.yaml", "settings.yaml"} {
		want, got := normalise(t, fromPorch.Resources[f]), normalise(t, fromKRM[f])
		if want != got {
			t.Errorf("%s differs\n--- Porch:\n%s\n--- krm:\n%s", f, want, got)
		}
	}
}

// normalise re-serialises a file's resources without reader annotations,
// so formatting choices of the two writers do not count.
func normalise(t *testing.T, s string) string {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: strings.NewReader(s), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, s)
	}
	var out []string
	for _, n := range nodes {
		out = append(out, n.MustString())
	}
	return strings.Join(out, "---\n")
}

// fakePipelineKptfile is a Kptfile whose pipeline runs one function (%s)
// that sets namespace "rendered".
const fakePipelineKptfile = `apiVersion: kpt.dev/v1
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

const fakeConfigMapYAML = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n"

// TestFakeRendersThroughKRM: the fake Porch renders the Kptfile pipeline
// with a krm executor through NewPorchRenderer, like Porch does on push.
func TestFakeRendersThroughKRM(t *testing.T) {
	c, _ := fake.NewClientBuilder().WithRenderer(krm.NewPorchRenderer(krm.NewRunner(krm.RunnerConfig{}))).Build(t)
	ctx := context.Background()
	if _, err := c.Repositories("default").Register(ctx, "blueprints", "http://git.invalid/blueprints.git"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Repositories("default").WaitReady(ctx, "blueprints"); err != nil {
		t.Fatal(err)
	}
	prs := c.PackageRevisions("default")
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	status, err := prs.UpdateResources(ctx, d.Name, func(p *porch.Package) error {
		p.Resources["Kptfile"] = strings.Replace(fakePipelineKptfile, "%s", "gcr.io/kpt-fn/set-namespace:v0.4.1", 1)
		p.Resources["cm.yaml"] = fakeConfigMapYAML
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(status.Result.Items) != 1 || !strings.Contains(status.Result.Items[0].Image, "set-namespace") {
		t.Fatalf("render status %+v", status)
	}
	pkg, _ := prs.Pull(ctx, d.Name)
	if !strings.Contains(pkg.Resources["cm.yaml"], "namespace: rendered") {
		t.Fatalf("cm.yaml:\n%s", pkg.Resources["cm.yaml"])
	}
	_, err = prs.UpdateResources(ctx, d.Name, func(p *porch.Package) error {
		p.Resources["Kptfile"] = strings.Replace(fakePipelineKptfile, "%s", "example.com/no-such-function:v1", 1)
		return nil
	})
	if !errors.Is(err, porch.ErrRenderFailed) {
		t.Fatalf("unknown function: %v", err)
	}
}
