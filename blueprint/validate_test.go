package blueprint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"reflect"
	"strings"
	"testing"
)

// nephioBlueprints are the real Nephio packages under testdata.
var nephioBlueprints = []string{"pkg-example-amf-bp", "pkg-example-smf-bp", "pkg-example-upf-bp", "pkg-example-cucp-bp", "pkg-example-cuup-bp"}

// readPackage reads a package directory of testdata/validation as Porch
// gives it.
func readPackage(t testing.TB, dir string) map[string]string {
	t.Helper()
	fsys := os.DirFS(path.Join("testdata", "validation", dir))
	files := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		files[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// lineOf returns the 1-based line and column of the first occurrence of
// needle in text.
func lineOf(t *testing.T, text, needle string) (int, int) {
	t.Helper()
	i := strings.Index(text, needle)
	if i < 0 {
		t.Fatalf("%q not in text", needle)
	}
	line := strings.Count(text[:i], "\n") + 1
	col := i - strings.LastIndex(text[:i], "\n")
	return line, col
}

// mustViolations returns the Violations err holds, failing otherwise.
func mustViolations(t *testing.T, err error) Violations {
	t.Helper()
	var vs Violations
	if !errors.As(err, &vs) {
		t.Fatalf("error %v (%T) is not Violations", err, err)
	}
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("error does not wrap ErrValidation")
	}
	return vs
}

func TestValidatePackageNephioDraftIsClean(t *testing.T) {
	for _, bp := range nephioBlueprints {
		rep, err := ValidatePackage(context.Background(), readPackage(t, "nephio/"+bp))
		if err != nil {
			t.Fatalf("%s: %v", bp, err)
		}
		for _, l := range []ValidationLayer{YAMLLayer, KRMLayer, OpenAPILayer, PolicyLayer} {
			if !rep.Layer(l).Ran {
				t.Errorf("%s: layer %s did not run", bp, l)
			}
		}
		if p := rep.Layer(PipelineLayer); p.Ran || len(p.Skipped) != 1 {
			t.Errorf("%s: pipeline layer: %+v, want skipped: no validators", bp, p)
		}
	}
}

func TestValidatePackageNephioPublishedDownstream(t *testing.T) {
	for _, bp := range nephioBlueprints {
		files := readPackage(t, "nephio/"+bp)
		_, err := ValidatePackage(context.Background(), files, WithLifecycle("Published"), AsDownstream())
		vs := mustViolations(t, err)
		if !errors.Is(err, ErrPolicyViolation) {
			t.Errorf("%s: error does not wrap ErrPolicyViolation", bp)
		}
		kf := files["Kptfile"]
		var latest []string
		for _, l := range strings.Split(kf, "\n") {
			if strings.Contains(l, "image:") && strings.HasSuffix(strings.TrimSpace(l), ":latest") {
				latest = append(latest, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "- image:")))
			}
		}
		if len(vs) != len(latest)+1 {
			t.Fatalf("%s: %d violations, want %d (:latest functions) + 1 (unfilled WorkloadCluster):\n%v", bp, len(vs), len(latest), err)
		}
		lines := strings.Split(kf, "\n")
		for i, v := range vs[:len(latest)] {
			if v.Rule != "no-latest-functions" || v.File != "Kptfile" || v.Value != latest[i] || !v.HasValue {
				t.Errorf("%s: violation %d: %+v", bp, i, v)
			}
			if !strings.HasPrefix(v.Path, "pipeline.mutators[") || !strings.HasSuffix(v.Path, "].image") {
				t.Errorf("%s: path %q", bp, v.Path)
			}
			if got := lines[v.Line-1][v.Column-1:]; got != latest[i] {
				t.Errorf("%s: %s:%d:%d points at %q, want %q", bp, v.File, v.Line, v.Column, got, latest[i])
			}
			if v.DeclaredAt != "blueprint/policies/nephio-nf.yaml#no-latest-functions" || v.Fix == nil {
				t.Errorf("%s: declared at %q, fix %+v", bp, v.DeclaredAt, v.Fix)
			}
		}
		inj := vs[len(vs)-1]
		if inj.Rule != "required-injection-filled" || inj.File != "workload-cluster.yaml" || inj.HasValue ||
			inj.Path != "metadata.annotations['kpt.dev/injected-resource']" || inj.Resource.Kind != "WorkloadCluster" {
			t.Errorf("%s: injection violation %+v", bp, inj)
		}
		// Deterministic: the same input gives the same list.
		_, err2 := ValidatePackage(context.Background(), files, WithLifecycle("Published"), AsDownstream())
		if !reflect.DeepEqual(vs, mustViolations(t, err2)) {
			t.Errorf("%s: second run differs", bp)
		}
	}
}

func TestValidatePackageYAMLSyntax(t *testing.T) {
	files := map[string]string{
		"Kptfile":    "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
		"flow.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: [a, b\n",
		"indent.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n data: 1\n",
		"good.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n",
		"notes.txt":  "not: [yaml",
	}
	rep, err := ValidatePackage(context.Background(), files)
	vs := mustViolations(t, err)
	if !errors.Is(err, ErrNotKRM) {
		t.Error("YAML errors do not wrap ErrNotKRM")
	}
	y := rep.Layer(YAMLLayer).Violations
	if len(y) != 2 {
		t.Fatalf("yaml layer: %v", y)
	}
	want := []struct {
		file      string
		line, col int
		value     string
	}{{"flow.yaml", 5, 11, "  labels: [a, b"}, {"indent.yml", 5, 2, " data: 1"}}
	for i, w := range want {
		v := y[i]
		if v.File != w.file || v.Line != w.line || v.Column != w.col || v.Value != w.value || v.Rule != "yaml.syntax" || v.Path == "" {
			t.Errorf("violation %d = %+v, want %s:%d:%d value %q", i, v, w.file, w.line, w.col, w.value)
		}
	}
	// The file that parsed is still checked by the later layers, in the same pass.
	k := rep.Layer(KRMLayer).Violations
	if len(k) != 1 || k[0].File != "good.yaml" || k[0].Rule != "krm.name-format" || k[0].Fix == nil || k[0].Fix.Value != "bad-name" {
		t.Errorf("krm layer: %v", k)
	}
	if len(vs) != 3 {
		t.Errorf("%d violations, want 3: %v", len(vs), err)
	}
	if p := rep.Layer(PipelineLayer); p.Ran {
		t.Error("pipeline ran on a package that is not KRM")
	}
}

func TestValidatePackageKRMStructure(t *testing.T) {
	a := "kind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nmetadata:\n  name: b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {x: y}\n---\n- just\n- a list\n---\napiVersion: apps/v1/extra\nkind: Deployment\nmetadata:\n  name: amf\n"
	b := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n"
	files := map[string]string{"a.yaml": a, "b.yaml": b,
		"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n"}
	rep, err := ValidatePackage(context.Background(), files)
	mustViolations(t, err)
	got := rep.Layer(KRMLayer).Violations
	type want struct {
		file, path, rule string
		line             int
		hasValue         bool
		value            any
	}
	wants := []want{
		{"a.yaml", "apiVersion", "krm.apiVersion-required", 1, false, nil},
		{"a.yaml", "kind", "krm.kind-required", 5, false, nil},
		{"a.yaml", "metadata.name", "krm.name-required", 12, false, nil},
		{"a.yaml", ".", "krm.object", 14, true, []any{"just", "a list"}},
		{"a.yaml", "apiVersion", "krm.apiVersion-format", 17, true, "apps/v1/extra"},
		{"b.yaml", "metadata.name", "krm.unique-identity", 9, true, "dup"},
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d violations, want %d:\n%v", len(got), len(wants), got)
	}
	for i, w := range wants {
		v := got[i]
		if v.File != w.file || v.Path != w.path || v.Rule != w.rule || v.Line != w.line || v.HasValue != w.hasValue || !reflect.DeepEqual(v.Value, w.value) {
			t.Errorf("violation %d = %s (line %d), want %+v", i, v, v.Line, w)
		}
		if v.DeclaredAt == "" || v.Message == "" {
			t.Errorf("violation %d lacks rule source or message", i)
		}
	}
	if !strings.Contains(got[5].Message, "also declared at b.yaml:1") {
		t.Errorf("duplicate does not name the first declaration: %s", got[5].Message)
	}
}

const badDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: amf
spec:
  replicas: "3"
  replica: 3
  selector:
    matchLabels: {app: amf}
  template:
    metadata:
      labels: {app: amf}
    spec:
      containers:
      - name: amf
        image: 5
        ports:
        - containerPort: "80"
`

func TestValidatePackageOpenAPI(t *testing.T) {
	nf := "apiVersion: workload.nephio.org/v1alpha1\nkind: NFDeployment\nmetadata:\n  name: amf\nspec:\n  provider: amf.free5gc.io\n  anything: [1, 2]\n"
	files := map[string]string{"deploy.yaml": badDeployment, "nf.yaml": nf}
	rep, err := ValidatePackage(context.Background(), files)
	mustViolations(t, err)
	if !errors.Is(err, ErrSchemaViolation) {
		t.Error("does not wrap ErrSchemaViolation")
	}
	got := rep.Layer(OpenAPILayer).Violations
	type want struct {
		path, rule string
		value      any
		fix        any
		remove     bool
	}
	wants := []want{
		{"spec.replicas", "openapi.type", "3", int64(3), false},
		{"spec.replica", "openapi.unknown-field", 3, nil, true},
		{"spec.template.spec.containers[0].image", "openapi.type", 5, "5", false},
		{"spec.template.spec.containers[0].ports[0].containerPort", "openapi.type", "80", int64(80), false},
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d, want %d:\n%v", len(got), len(wants), got)
	}
	for i, w := range wants {
		v := got[i]
		if v.Path != w.path || v.Rule != w.rule || !reflect.DeepEqual(v.Value, w.value) || !v.HasValue || v.File != "deploy.yaml" {
			t.Errorf("violation %d = %s, want %+v", i, v, w)
		}
		if v.Fix == nil || !reflect.DeepEqual(v.Fix.Value, w.fix) || v.Fix.Remove != w.remove {
			t.Errorf("violation %d fix = %+v, want value %v remove %v", i, v.Fix, w.fix, w.remove)
		}
		if !strings.Contains(v.DeclaredAt, "apps/v1 Deployment") {
			t.Errorf("declared at %q", v.DeclaredAt)
		}
	}
	if l, c := lineOf(t, badDeployment, `"3"`); got[0].Line != l || got[0].Column != c {
		t.Errorf("replicas at %d:%d, want %d:%d", got[0].Line, got[0].Column, l, c)
	}
	rep, err = ValidatePackage(context.Background(), files, WithLenientSchemas())
	mustViolations(t, err)
	for _, v := range rep.Layer(OpenAPILayer).Violations {
		if v.Rule == "openapi.unknown-field" {
			t.Errorf("lenient schemas still report %s", v)
		}
	}
	if len(rep.Layer(OpenAPILayer).Violations) != 3 {
		t.Errorf("lenient: %v", rep.Layer(OpenAPILayer).Violations)
	}
}

func TestValidatePackagePipelineValidators(t *testing.T) {
	kf := "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\npipeline:\n  mutators:\n  - image: gcr.io/kpt-fn/set-namespace:v0.4.1\n    configMap:\n      namespace: should-not-run\n  validators:\n  - image: gcr.io/kpt-fn/kubeconform:v0.1.1\n    configMap:\n      ignore_missing_schemas: \"true\"\n  - image: docker.io/example/policy-checker:v1\n"
	deploy := strings.Replace(badDeployment, "  replica: 3\n", "", 1)
	files := map[string]string{"Kptfile": kf, "deploy.yaml": deploy}
	rep, err := ValidatePackage(context.Background(), files)
	mustViolations(t, err)
	if !errors.Is(err, ErrValidatorFailed) {
		t.Error("does not wrap ErrValidatorFailed")
	}
	p := rep.Layer(PipelineLayer)
	if !p.Ran || len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0], "docker.io/example/policy-checker:v1") {
		t.Fatalf("pipeline layer: ran %v skipped %v", p.Ran, p.Skipped)
	}
	if len(p.Violations) != len(rep.Layer(OpenAPILayer).Violations) || len(p.Violations) != 3 {
		t.Fatalf("pipeline violations %v; openapi %v", p.Violations, rep.Layer(OpenAPILayer).Violations)
	}
	v := p.Violations[0]
	kl, _ := lineOf(t, kf, "- image: gcr.io/kpt-fn/kubeconform")
	if v.Rule != "gcr.io/kpt-fn/kubeconform:v0.1.1" || v.DeclaredAt != fmt.Sprintf("Kptfile:%d pipeline.validators[0]", kl) ||
		v.Path != "spec.replicas" || v.Value != "3" || v.File != "deploy.yaml" || v.Line != 6 {
		t.Errorf("pipeline violation %s (declared at %s)", v, v.DeclaredAt)
	}
	// The mutators did not run: the files are validated as they are.
	for _, v := range p.Violations {
		if v.Resource != nil && v.Resource.Namespace == "should-not-run" {
			t.Errorf("mutator ran: %s", v)
		}
	}
	if _, err := ValidatePackage(context.Background(), files, WithoutPipelineValidators()); errors.Is(err, ErrValidatorFailed) {
		t.Error("WithoutPipelineValidators still ran the validators")
	}
}

func TestValidatePackageCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ValidatePackage(ctx, readPackage(t, "nephio/pkg-example-amf-bp"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var vs Violations
	if errors.As(err, &vs) {
		t.Fatal("a canceled validation returned violations")
	}
}
