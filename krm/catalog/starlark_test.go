package catalog_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm/catalog"
)

func starlarkRun(source string) string {
	var b strings.Builder
	b.WriteString("apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: run\nparams:\n  replicas: 5\n  tier: gold\nsource: |\n")
	for _, line := range strings.Split(source, "\n") {
		b.WriteString("  " + line + "\n")
	}
	return b.String()
}

func TestStarlark(t *testing.T) {
	program := `params = ctx.resource_list["functionConfig"]["params"]
for r in ctx.resource_list["items"]:
  if r["kind"] == "Deployment":
    r["spec"]["replicas"] = params["replicas"]
    r["metadata"].setdefault("labels", {})["tier"] = params["tier"]
print("done")`
	rl := list(starlarkRun(program), deployment, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\ndata:\n  enabled: \"true\"\n  n: \"007\"\n")
	s := &catalog.Starlark{}
	if err := s.Process(rl); err != nil {
		t.Fatal(err)
	}
	out := rl.Items[0].MustString()
	if !strings.Contains(out, "replicas: 5\n") || field(t, rl.Items[0], "metadata.labels.tier") != "gold" {
		t.Fatalf("program not applied:\n%s", out)
	}
	if !strings.Contains(out, "name: app # the app") || !strings.Contains(out, "# kpt-set: ${image}:${tag}") {
		t.Fatalf("comments lost:\n%s", out)
	}
	if got := rl.Items[1].MustString(); !strings.Contains(got, `enabled: "true"`) || !strings.Contains(got, `n: "007"`) {
		t.Fatalf("strings that look like other types must stay strings:\n%s", got)
	}
	if len(rl.Results) != 1 || rl.Results[0].Message != "done" {
		t.Fatalf("print must become an info result: %v", rl.Results)
	}

	// A program can replace the items list.
	rl = list(starlarkRun(`ctx.resource_list["items"] = [r for r in ctx.resource_list["items"] if r["kind"] != "ConfigMap"]`),
		deployment, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: drop\n")
	if err := s.Process(rl); err != nil || len(rl.Items) != 1 || rl.Items[0].GetKind() != "Deployment" {
		t.Fatalf("filtering: %v, %d items", err, len(rl.Items))
	}

	// The ConfigMap form.
	rl = list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  source: |\n    ctx.resource_list[\"items\"][0][\"metadata\"][\"name\"] = \"renamed\"\n", deployment)
	if err := s.Process(rl); err != nil || rl.Items[0].GetName() != "renamed" {
		t.Fatalf("ConfigMap source: %v", err)
	}
}

func TestStarlarkRefusesAndStops(t *testing.T) {
	cases := []struct {
		name, source, want string
		s                  *catalog.Starlark
		ctxTimeout         time.Duration
	}{
		{name: "syntax error", source: "for", want: "want primary expression"},
		{name: "runtime error", source: "x = 1 // 0", want: "floored division by zero"},
		{name: "load refused", source: `load("@stdlib//http.star", "http")`, want: "module not available"},
		{name: "endless loop stopped by steps", source: "while True:\n  pass", want: "too many steps", s: &catalog.Starlark{MaxSteps: 100000}},
		{name: "endless loop stopped by context", source: "while True:\n  pass", want: "context deadline exceeded", ctxTimeout: 50 * time.Millisecond},
		{name: "unbounded allocation stopped", source: "x = []\nwhile True:\n  x.append(\"a\" * 1000000)", want: "heap grew",
			s: &catalog.Starlark{MaxHeapGrowth: 64 << 20}},
		{name: "self-containing dict", source: `d = {}
d["d"] = d
ctx.resource_list["items"][0]["spec"] = d`, want: "nested deeper"},
		{name: "items not a list", source: `ctx.resource_list["items"] = 3`, want: "not a list"},
		{name: "item not a resource", source: `ctx.resource_list["items"] = ["x"]`, want: "not a resource"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			if s == nil {
				s = &catalog.Starlark{}
			}
			ctx := context.Background()
			if tc.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
				defer cancel()
			}
			rl := list(starlarkRun(tc.source), deployment)
			before := rl.Items[0].MustString()
			err := s.ProcessContext(ctx, rl)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if rl.Items[0].MustString() != before && tc.name != "self-containing dict" {
				t.Fatal("a failed program changed the input items")
			}
		})
	}
	if err := (&catalog.Starlark{}).Process(list("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n", deployment)); err == nil {
		t.Fatal("a functionConfig of another kind must be refused")
	}
}

// TestStarlarkCatalogContext checks what the catalog's starlark gives a
// program besides the resource list: ctx.open_api, ctx.environment and the
// in-process modules, and kpt's field order for what it writes.
func TestStarlarkCatalogContext(t *testing.T) {
	rl := list(starlarkRun(`load("encoding/json.star", "json")
load("math.star", "math")
load("krmfn.star", "krmfn")
d = ctx.open_api["definitions"]["io.k8s.api.apps.v1.Deployment"]
for r in ctx.resource_list["items"]:
  if krmfn.match_gvk(r, "apps/v1", "Deployment") and krmfn.match_name(r, "app"):
    r["spec"]["zeta"] = json.encode({"kind": d["x-kubernetes-group-version-kind"][0]["kind"]})
    r["spec"]["alpha"] = int(math.sqrt(16))
    r["spec"]["env"] = len(ctx.environment)
`), deployment)
	if err := (&catalog.Starlark{}).Process(rl); err != nil {
		t.Fatal(err)
	}
	out := rl.Items[0].MustString()
	if field(t, rl.Items[0], "spec.zeta") != `{"kind":"Deployment"}` || !strings.Contains(out, "  alpha: 4\n") ||
		!strings.Contains(out, "  env: 0\n") {
		t.Fatalf("output:\n%s", out)
	}
	// Fields that came in keep their place; new ones follow, sorted.
	spec, _ := rl.Items[0].Pipe(yaml.Lookup("spec"))
	keys, _ := spec.Fields()
	if strings.Join(keys, ",") != "selector,template,alpha,env,zeta" || !strings.Contains(out, "# the app") {
		t.Fatalf("spec fields %v, output:\n%s", keys, out)
	}
	if strings.Contains(out, "internal.config.kubernetes.io/id") || strings.Contains(out, "config.k8s.io/id") {
		t.Fatalf("the run's ids are left on the output:\n%s", out)
	}

	err := (&catalog.Starlark{}).Process(list(starlarkRun(`load("http.star", "http")`), deployment))
	if err == nil || !strings.Contains(err.Error(), `load("http.star"): `+catalog.ErrModuleRefused.Error()) {
		t.Fatalf("load of http.star: %v", err)
	}
}
