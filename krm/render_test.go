package krm_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
)

func pkgFiles() map[string]string {
	return map[string]string{
		"Kptfile": `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: root
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - image: gcr.io/kpt-fn/set-namespace:v0.4.1
    configMap:
      namespace: prod
    exclude:
    - kind: Kptfile
    - annotations:
        config.kubernetes.io/local-config: "true"
  - image: gcr.io/kpt-fn/set-labels:v0.2.0
    configPath: labels.yaml
    selectors:
    - kind: Deployment
  validators:
  - image: gcr.io/kpt-fn/validate-structure:v0.1.0
`,
		"labels.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: labels\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\ndata:\n  tier: web\n",
		"app.yaml": `# the application
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app # keep me
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
---
apiVersion: v1
kind: Service
metadata:
  name: app
`,
		"README.md": "# not YAML\n",
		"db/Kptfile": `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: db
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - image: gcr.io/kpt-fn/set-annotations:v0.1.4
    configMap:
      owner: dba
    selectors:
    - kind: StatefulSet
`,
		"db/db.yaml":           "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n",
		"untouched/notes.yaml": "# a comment\napiVersion: v1\nkind: ConfigMap\nmetadata:   {name: odd-format, annotations: {config.kubernetes.io/local-config: \"true\"}}\n",
	}
}

func TestRenderPipeline(t *testing.T) {
	in := pkgFiles()
	original := maps.Clone(in)
	out, result, err := krm.Render(context.Background(), krm.NewRunner(krm.RunnerConfig{}), in)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(in, original) {
		t.Fatal("Render modified its input")
	}
	app := out["app.yaml"]
	for _, want := range []string{"# the application", "name: app # keep me", "namespace: prod", "tier: web"} {
		if !strings.Contains(app, want) {
			t.Errorf("app.yaml lacks %q:\n%s", want, app)
		}
	}
	svc := strings.Split(app, "---")[1]
	if strings.Contains(svc, "tier: web") {
		t.Error("set-labels ran on a resource its selector excludes")
	}
	db := yaml.MustParse(out["db/db.yaml"])
	if db.GetAnnotations()["owner"] != "dba" || db.GetNamespace() != "prod" {
		t.Errorf("subpackage: %s", out["db/db.yaml"])
	}
	if out["untouched/notes.yaml"] != in["untouched/notes.yaml"] || out["README.md"] != in["README.md"] {
		t.Error("an untouched file was rewritten")
	}
	if yaml.MustParse(out["Kptfile"]).GetNamespace() != "" || out["labels.yaml"] != in["labels.yaml"] {
		t.Error("excluded local config was changed")
	}
	var order []string
	for _, r := range result.Runs {
		order = append(order, r.Package+":"+r.Function)
	}
	want := "[db:gcr.io/kpt-fn/set-annotations:v0.1.4 :gcr.io/kpt-fn/set-namespace:v0.4.1 :gcr.io/kpt-fn/set-labels:v0.2.0 :gcr.io/kpt-fn/validate-structure:v0.1.0]"
	if got := "[" + strings.Join(order, " ") + "]"; got != want {
		t.Errorf("run order %s, want %s (subpackage first)", got, want)
	}
}

func TestRenderFailingValidatorLeavesInput(t *testing.T) {
	in := pkgFiles()
	in["dup.yaml"] = "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\n"
	original := maps.Clone(in)
	out, result, err := krm.Render(context.Background(), krm.NewRunner(krm.RunnerConfig{}), in)
	var re *krm.RenderError
	if !errors.As(err, &re) || !errors.Is(err, krm.ErrFunctionFailed) || out != nil {
		t.Fatalf("err = %v, out %v", err, out != nil)
	}
	if !strings.Contains(err.Error(), "duplicate resource") || re.Function != "gcr.io/kpt-fn/validate-structure:v0.1.0" {
		t.Fatalf("error does not say what failed: %v", err)
	}
	if !maps.Equal(in, original) {
		t.Fatal("a failed render changed the input")
	}
	if last := result.Runs[len(result.Runs)-1]; last.Err == nil || len(last.Results) == 0 {
		t.Fatalf("failed step not in the results: %+v", last)
	}
}

func TestRenderBadInput(t *testing.T) {
	ctx := context.Background()
	r := krm.NewRunner(krm.RunnerConfig{})
	for name, files := range map[string]map[string]string{
		"no Kptfile":         {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"},
		"malformed YAML":     {"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n", "a.yaml": "kind: [unclosed\n"},
		"unknown function":   {"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\npipeline:\n  mutators:\n  - image: example.com/nope:v1\n"},
		"missing configPath": {"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\npipeline:\n  mutators:\n  - image: set-labels:v0.2.0\n    configPath: nope.yaml\n"},
		"unclean file name":  {"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n", "./a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"},
		"file outside":       {"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n", "../a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"},
		"bad .krmignore":     {"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n", ".krmignore": "!\n"},
		"bad separator":      {"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n", "a.yaml": "a: 1\n--- b: 2\nc: 3\n"},
	} {
		if _, _, err := krm.Render(ctx, r, files); err == nil {
			t.Errorf("%s: rendered", name)
		} else if !errors.Is(err, krm.ErrBadInput) && !errors.Is(err, krm.ErrUnknownFunction) {
			t.Errorf("%s: untyped error %v", name, err)
		}
	}
}
