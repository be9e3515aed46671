//lint:file-ignore SA1019 kpt's function runner sets and clears the legacy annotations too

package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/fn/runtime/runtimeutil"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/internal/testbin"
	"github.com/nephoran/porchkit/krm"
)

// TestPorchOracle runs porchkit's set-namespace, apply-replacements and
// starlark and the code Porch v1.5.3 runs for them (the catalog copies it
// vendors, built into testbin's porchfn) on the same input, and asserts the
// same items, resource by resource, the same results and the same
// failures. Porch's side runs as Porch's engine runs a builtin: through
// kyaml's runtimeutil.FunctionFilter, which marks the input with ids and
// afterwards copies comments and field order back. The inputs are the
// catalog examples of the three functions and the cases below.
//
// Porch's code is followed everywhere but where it breaks a resource; those
// cases are in oracleDifferences with what porchkit does instead.
func TestPorchOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("-short is the lane without built servers: the oracle needs porchfn, compiled from Porch v1.5.3's module (minutes on a cold cache); the README's test command builds and runs it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bin, err := testbin.New(testbin.Config{}).Path(ctx, testbin.PorchFn)
	if err != nil {
		t.Fatal(err)
	}
	cases := append(exampleOracleCases(t), oracleCases...)
	if len(cases) < len(oracleCases)+9 {
		t.Fatalf("%d cases: the examples of set-namespace, apply-replacements and starlark are missing", len(cases))
	}
	runner := krm.NewRunner(krm.RunnerConfig{MemoSize: -1})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items, config := c.parse(t)
			ours := runOurs(ctx, t, runner, c.function, config, items)
			theirs := runPorch(ctx, t, bin, c.function, config, items)
			if diff, ok := oracleDifferences[c.name]; ok {
				t.Logf("porchkit differs from Porch on purpose: %s", diff.why)
				diff.check(t, ours, theirs)
				return
			}
			compareOracle(t, ours, theirs)
		})
	}
}

// oracleCase is one input for both implementations.
type oracleCase struct {
	name     string
	function string // set-namespace, apply-replacements or starlark
	config   string
	items    []string
	// parsed overrides config and items (the examples).
	parsed func(t *testing.T) ([]*yaml.RNode, *yaml.RNode)
}

func (c oracleCase) parse(t *testing.T) ([]*yaml.RNode, *yaml.RNode) {
	t.Helper()
	if c.parsed != nil {
		return c.parsed(t)
	}
	var items []*yaml.RNode
	for i, s := range c.items {
		n, err := yaml.Parse(s)
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		p := fmt.Sprintf("item%d.yaml", i)
		for k, v := range map[string]string{kioutil.PathAnnotation: p, kioutil.LegacyPathAnnotation: p,
			kioutil.IndexAnnotation: "0", kioutil.LegacyIndexAnnotation: "0"} {
			if err := n.PipeE(yaml.SetAnnotation(k, v)); err != nil {
				t.Fatal(err)
			}
		}
		items = append(items, n)
	}
	var config *yaml.RNode
	if c.config != "" {
		var err error
		if config, err = yaml.Parse(c.config); err != nil {
			t.Fatalf("config: %v", err)
		}
	}
	return items, config
}

// oracleRun is one implementation's answer.
type oracleRun struct {
	failed  bool
	items   map[string]string
	results []string
	detail  string
}

func runOurs(ctx context.Context, t *testing.T, r *krm.Runner, function string, config *yaml.RNode, items []*yaml.RNode) oracleRun {
	t.Helper()
	in := &framework.ResourceList{}
	for _, n := range items {
		in.Items = append(in.Items, n.Copy())
	}
	fn := krm.Function{Image: "gcr.io/kpt-fn/" + oracleImages[function]}
	if config != nil {
		fn.Config = config.Copy()
	}
	out, err := r.Execute(ctx, fn, in)
	if err == nil {
		// New resources get a path from the orchestrator, as kyaml's
		// FunctionFilter gives them on Porch's side.
		err = kioutil.DefaultPathAnnotation("", out.Items)
	}
	if err != nil {
		var fe *krm.FunctionError
		if !errors.As(err, &fe) {
			t.Fatalf("porchkit: %v", err)
		}
		return oracleRun{failed: true, results: describeAll(fe.Results), detail: err.Error()}
	}
	return oracleRun{items: keyed(t, out.Items), results: describeAll(out.Results)}
}

// oracleImages are the versions Porch registers as builtins.
var oracleImages = map[string]string{
	"set-namespace":      "set-namespace:v0.4.1",
	"apply-replacements": "apply-replacements:v0.1.1",
	"starlark":           "starlark:v0.4.3",
}

func runPorch(ctx context.Context, t *testing.T, bin, function string, config *yaml.RNode, items []*yaml.RNode) oracleRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	filter := &runtimeutil.FunctionFilter{GlobalScope: true, DeferFailure: true,
		Run: func(r io.Reader, w io.Writer) error {
			cmd := exec.CommandContext(ctx, bin, function)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = r, io.MultiWriter(w, &stdout), &stderr
			return cmd.Run()
		}}
	if config != nil {
		filter.FunctionConfig = config.Copy()
	}
	var in []*yaml.RNode
	for _, n := range items {
		in = append(in, n.Copy())
	}
	out, err := filter.Filter(in)
	if err != nil {
		t.Fatalf("porch: %v\n%s", err, stderr.String())
	}
	var results framework.Results
	if stdout.Len() > 0 {
		rl, err := yaml.Parse(stdout.String())
		if err != nil {
			t.Fatalf("porch output: %v", err)
		}
		if f := rl.Field("results"); f != nil {
			if err := yaml.Unmarshal([]byte(f.Value.MustString()), &results); err != nil {
				t.Fatalf("porch results: %v", err)
			}
		}
	}
	run := oracleRun{results: describeAll(results), detail: stderr.String()}
	for _, r := range results {
		run.failed = run.failed || r.Severity == framework.Error
	}
	if filter.GetExit() != nil || run.failed {
		run.failed = true
		return run
	}
	run.items = keyed(t, out)
	return run
}

// keyed serialises each resource under its file and identity.
func keyed(t *testing.T, items []*yaml.RNode) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range items {
		p, _, _ := kioutil.GetFileAnnotations(n)
		k := fmt.Sprintf("%s %s %s/%s", p, n.GetKind(), n.GetNamespace(), n.GetName())
		if _, dup := out[k]; dup {
			k += fmt.Sprintf(" #%d", len(out))
		}
		out[k] = n.MustString()
	}
	return out
}

func describeAll(rs framework.Results) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, describeResult(r))
	}
	return out
}

func compareOracle(t *testing.T, ours, theirs oracleRun) {
	t.Helper()
	if ours.failed != theirs.failed {
		t.Fatalf("porchkit failed=%v (%s), Porch failed=%v (%s)\nporchkit results:\n%s\nPorch results:\n%s", ours.failed, ours.detail,
			theirs.failed, theirs.detail, strings.Join(ours.results, "\n"), strings.Join(theirs.results, "\n"))
	}
	if strings.Join(ours.results, "\n") != strings.Join(theirs.results, "\n") {
		t.Errorf("results differ:\nporchkit:\n  %s\nPorch:\n  %s", strings.Join(ours.results, "\n  "), strings.Join(theirs.results, "\n  "))
	}
	for _, k := range sortedPaths(theirs.items) {
		switch g, ok := ours.items[k]; {
		case !ok:
			t.Errorf("resource %s: Porch has it, porchkit not:\n%s", k, theirs.items[k])
		case g != theirs.items[k]:
			t.Errorf("resource %s differs (- Porch, + porchkit):\n%s", k, unifiedDiff(theirs.items[k], g))
		}
	}
	for _, k := range sortedPaths(ours.items) {
		if _, ok := theirs.items[k]; !ok {
			t.Errorf("resource %s: porchkit has it, Porch not:\n%s", k, ours.items[k])
		}
	}
}

// exampleOracleCases are the catalog examples of the three functions,
// with the functionConfig their Kptfile or kpt fn eval arguments give.
func exampleOracleCases(t *testing.T) []oracleCase {
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []oracleCase
	for _, e := range entries {
		name := e.Name()
		function := ""
		for f := range oracleImages {
			if strings.HasPrefix(name, f+"-") {
				function = f
			}
		}
		if function == "" {
			continue
		}
		cases = append(cases, oracleCase{name: "example/" + name, function: function,
			parsed: func(t *testing.T) ([]*yaml.RNode, *yaml.RNode) { return exampleInput(t, name) }})
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases
}

// exampleInput reads an example package as kpt does and picks the
// functionConfig of its one step; the config file is not an input item.
func exampleInput(t *testing.T, name string) ([]*yaml.RNode, *yaml.RNode) {
	t.Helper()
	src := filepath.Join(examplesDir, name)
	pkg := filepath.Join(t.TempDir(), name)
	if err := copyTree(src, pkg); err != nil {
		t.Fatal(err)
	}
	cfg, err := readExampleConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := exampleSteps(src, pkg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var config *yaml.RNode
	configPath := ""
	for _, s := range steps {
		switch s.command {
		case "pkg init":
			if _, err := runStep(context.Background(), nil, pkg, s); err != nil {
				t.Fatal(err)
			}
		case "eval":
			if s.fnConfig != "" {
				configPath = s.fnConfig
			} else if config, err = cliFunctionConfig(s.args); err != nil {
				t.Fatal(err)
			}
		case "render":
			kf, err := yaml.ReadFile(filepath.Join(pkg, "Kptfile"))
			if err != nil {
				t.Fatal(err)
			}
			var p struct {
				Pipeline struct {
					Mutators, Validators []struct {
						ConfigPath string            `yaml:"configPath"`
						ConfigMap  map[string]string `yaml:"configMap"`
					}
				}
			}
			if err := yaml.Unmarshal([]byte(kf.MustString()), &p); err != nil {
				t.Fatal(err)
			}
			fns := append(p.Pipeline.Mutators, p.Pipeline.Validators...)
			if len(fns) != 1 {
				t.Fatalf("%d pipeline steps, want 1", len(fns))
			}
			configPath = fns[0].ConfigPath
			if fns[0].ConfigMap != nil {
				var args []string
				for _, k := range sortedKeys(fns[0].ConfigMap) {
					args = append(args, k+"="+fns[0].ConfigMap[k])
				}
				if config, err = cliFunctionConfig(args); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	nodes, err := (&kio.LocalPackageReader{PackagePath: pkg, MatchFilesGlob: append([]string{"Kptfile"}, kio.MatchAll...),
		PreserveSeqIndent: true, PackageFileName: "Kptfile", IncludeSubpackages: true, WrapBareSeqNode: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	var items []*yaml.RNode
	for _, n := range nodes {
		if p, _, _ := kioutil.GetFileAnnotations(n); configPath != "" && p == configPath {
			config = n
			continue
		}
		items = append(items, n)
	}
	if config == nil {
		t.Fatalf("no functionConfig (configPath %q)", configPath)
	}
	return items, config
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const (
	oracleDeployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web # the web\n  namespace: old\nspec:\n  replicas: 1\n"
	oracleService    = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: old\nspec:\n  ports:\n  - port: 80\n"
)

func nsConfig(data string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\ndata:\n" + data
}

var oracleCases = []oracleCase{
	{name: "set-namespace/binding-subjects", function: "set-namespace", config: nsConfig("  namespace: prod\n"), items: []string{
		oracleDeployment,
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: crb\nroleRef:\n  kind: ClusterRole\n  name: r\nsubjects:\n- kind: ServiceAccount\n  name: a\n  namespace: old\n- kind: ServiceAccount\n  name: b\n  namespace: other\n- kind: User\n  name: c\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\n  namespace: old\nsubjects:\n- kind: ServiceAccount\n  name: a\n  namespace: old\n",
	}},
	{name: "set-namespace/depends-on", function: "set-namespace", config: nsConfig("  namespace: prod\n"), items: []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  namespace: old\n  annotations:\n    config.kubernetes.io/depends-on: apps/namespaces/old/StatefulSet/db\n",
		"apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: old\n",
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    config.kubernetes.io/depends-on: /namespaces/default/ConfigMap/cm\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: old\n  annotations:\n    config.kubernetes.io/depends-on: apps/namespaces/old/StatefulSet/elsewhere\n",
	}},
	{name: "set-namespace/namespace-matcher", function: "set-namespace", config: nsConfig("  namespace: prod\n  namespaceMatcher: a\n"), items: []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: in-a\n  namespace: a\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: in-b\n  namespace: b\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-a\n  namespace: c\n  annotations:\n    internal.kpt.dev/upstream-identifier: '|ConfigMap|a|from-a'\n",
		"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
		"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dep\n  namespace: b\n  annotations:\n    config.kubernetes.io/depends-on: /namespaces/a/ConfigMap/in-a\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: no-namespace\n",
	}},
	{name: "set-namespace/set-namespace-kind", function: "set-namespace",
		config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: SetNamespace\nmetadata:\n  name: s\nnamespace: prod\nnamespaceMatcher: old\n",
		items:  []string{oracleDeployment, oracleService, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: keep\n"}},
	{name: "set-namespace/local-config", function: "set-namespace", config: nsConfig("  namespace: prod\n"), items: []string{
		oracleDeployment,
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n  namespace: old\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-local\n  namespace: old\n  annotations:\n    config.kubernetes.io/local-config: \"false\"\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local-yes\n  namespace: old\n  annotations:\n    config.kubernetes.io/local-config: \"yes\"\n",
		"apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
	}},
	{name: "set-namespace/package-context", function: "set-namespace",
		config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\ndata:\n  name: my-pkg\n",
		items:  []string{oracleDeployment, oracleService}},
	{name: "set-namespace/already-there", function: "set-namespace", config: nsConfig("  namespace: old\n"), items: []string{oracleDeployment}},
	{name: "set-namespace/custom-resources", function: "set-namespace", config: nsConfig("  namespace: prod\n"), items: []string{
		"apiVersion: foo.io/v1\nkind: Bar\nmetadata:\n  name: namespaced\n  namespace: old\n",
		"apiVersion: foo.io/v1\nkind: Bar\nmetadata:\n  name: unscoped\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: implicit-default\n",
	}},
	{name: "set-namespace/error-no-config", function: "set-namespace", items: []string{oracleDeployment}},
	{name: "set-namespace/error-empty-namespace", function: "set-namespace", config: nsConfig("  other: x\n"), items: []string{oracleDeployment}},
	{name: "set-namespace/error-package-context-without-name", function: "set-namespace",
		config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\ndata:\n  other: x\n", items: []string{oracleDeployment}},
	{name: "set-namespace/error-set-namespace-without-namespace", function: "set-namespace",
		config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: SetNamespace\nmetadata:\n  name: s\n", items: []string{oracleDeployment}},
	{name: "set-namespace/error-unknown-kind", function: "set-namespace",
		config: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n", items: []string{oracleDeployment}},
	{name: "set-namespace/crd-and-apiservice-without-service", function: "set-namespace", config: nsConfig("  namespace: prod\n"), items: []string{
		"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: bars.foo.io\nspec:\n  group: foo.io\n",
		"apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: v1.\nspec:\n  version: v1\n",
		oracleDeployment,
	}},

	{name: "apply-replacements/source-value", function: "apply-replacements",
		config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: ApplyReplacements\nmetadata:\n  name: r\nreplacements:\n- source:\n    kind: Service\n    name: web\n    fieldPath: spec.ports.0.port\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - spec.replicas\n",
		items:  []string{oracleDeployment, oracleService}},
	{name: "apply-replacements/empty-list", function: "apply-replacements",
		config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: ApplyReplacements\nmetadata:\n  name: r\n", items: []string{oracleDeployment}},
	{name: "apply-replacements/error-wrong-kind", function: "apply-replacements",
		config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: r\n", items: []string{oracleDeployment}},
	{name: "apply-replacements/error-wrong-api-version", function: "apply-replacements",
		config: "apiVersion: fn.kpt.dev/v1\nkind: ApplyReplacements\nmetadata:\n  name: r\n", items: []string{oracleDeployment}},
	{name: "apply-replacements/error-no-config", function: "apply-replacements", items: []string{oracleDeployment}},
	{name: "apply-replacements/error-missing-source", function: "apply-replacements",
		config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: ApplyReplacements\nmetadata:\n  name: r\nreplacements:\n- source:\n    kind: Secret\n    name: none\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - spec.replicas\n",
		items:  []string{oracleDeployment}},

	{name: "starlark/params-and-new-fields", function: "starlark",
		config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: p\nparams:\n  replicas: 3\nsource: |\n  for r in ctx.resource_list[\"items\"]:\n    if r[\"kind\"] == \"Deployment\":\n      r[\"spec\"][\"replicas\"] = ctx.resource_list[\"functionConfig\"][\"params\"][\"replicas\"]\n      r[\"spec\"][\"zeta\"] = \"z\"\n      r[\"spec\"][\"alpha\"] = {\"b\": 1, \"a\": 2}\n",
		items:  []string{oracleDeployment, oracleService}},
	{name: "starlark/add-remove-rename", function: "starlark",
		config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  suffix: -x\n  source: |\n    items = [r for r in ctx.resource_list[\"items\"] if r[\"kind\"] != \"Service\"]\n    for r in items:\n      r[\"metadata\"][\"name\"] += ctx.resource_list[\"functionConfig\"][\"data\"][\"suffix\"]\n    items.append({\"kind\": \"ConfigMap\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"new\"}, \"data\": {\"k\": \"v\"}})\n    ctx.resource_list[\"items\"] = items\n",
		items:  []string{oracleDeployment, oracleService}},
	{name: "starlark/load-json-and-krmfn", function: "starlark",
		config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: j\nsource: |\n  load(\"encoding/json.star\", \"json\")\n  load(\"krmfn.star\", \"krmfn\")\n  for r in ctx.resource_list[\"items\"]:\n    if krmfn.match_gvk(r, \"apps/v1\", \"Deployment\") and krmfn.match_namespace(r, \"old\"):\n      r[\"metadata\"][\"annotations\"] = {\"spec\": json.encode(r[\"spec\"])}\n",
		items:  []string{oracleDeployment, oracleService}},
	{name: "starlark/open-api", function: "starlark",
		config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: o\nsource: |\n  d = ctx.open_api[\"definitions\"][\"io.k8s.api.apps.v1.Deployment\"]\n  for r in ctx.resource_list[\"items\"]:\n    r[\"metadata\"][\"labels\"] = {\"kind-in-schema\": d[\"x-kubernetes-group-version-kind\"][0][\"kind\"]}\n",
		items:  []string{oracleDeployment}},
	{name: "starlark/fail", function: "starlark",
		config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: f\nsource: |\n  fail(\"no\")\n", items: []string{oracleDeployment}},
	{name: "starlark/syntax-error", function: "starlark",
		config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: s\nsource: |\n  for\n", items: []string{oracleDeployment}},
	{name: "starlark/error-no-source", function: "starlark",
		config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  other: x\n", items: []string{oracleDeployment}},
	{name: "starlark/error-wrong-kind", function: "starlark",
		config: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: c\n", items: []string{oracleDeployment}},
	{name: "starlark/error-no-config", function: "starlark", items: []string{oracleDeployment}},
}

// oracleDifference is a case where porchkit does not follow Porch, on
// purpose.
type oracleDifference struct {
	why   string
	check func(t *testing.T, ours, theirs oracleRun)
}

// noConfig is Porch's failure on a ResourceList without functionConfig:
// the SDK cannot read it ("expected exactly one object, got 0") and
// reports no result; porchkit fails with the catalog's message for a
// missing config.
var noConfig = oracleDifference{
	why: "the kpt functions SDK in Porch cannot read a ResourceList without functionConfig and fails without a result; " +
		"porchkit fails with the catalog's \"FunctionConfig is missing\" result",
	check: func(t *testing.T, ours, theirs oracleRun) {
		if !ours.failed || !theirs.failed || len(theirs.results) != 0 || !strings.Contains(theirs.detail, "expected exactly one object") {
			t.Fatalf("porchkit failed=%v, Porch failed=%v (%s, %v)", ours.failed, theirs.failed, theirs.detail, theirs.results)
		}
		if len(ours.results) != 1 || !strings.Contains(ours.results[0], "FunctionConfig is missing") {
			t.Errorf("porchkit results %v", ours.results)
		}
	},
}

var oracleDifferences = map[string]oracleDifference{
	"set-namespace/error-no-config":      noConfig,
	"apply-replacements/error-no-config": noConfig,
	"starlark/error-no-config":           noConfig,
	"starlark/syntax-error": {
		why: "go.starlark.net places a syntax error at the end of the input differently: Porch's 2023 parser on the next line, " +
			"porchkit's at the end of the last token; the message is the same",
		check: func(t *testing.T, ours, theirs oracleRun) {
			if !ours.failed || !theirs.failed || len(ours.results) != 1 || len(theirs.results) != 1 {
				t.Fatalf("porchkit %v %v, Porch %v %v", ours.failed, ours.results, theirs.failed, theirs.results)
			}
			msg := func(r string) string { return r[strings.LastIndex(r, ": ")+2:] }
			if msg(ours.results[0]) != msg(theirs.results[0]) || !strings.Contains(ours.results[0], `message="s:1:`) {
				t.Errorf("porchkit %s, Porch %s", ours.results[0], theirs.results[0])
			}
		},
	},
	"set-namespace/crd-and-apiservice-without-service": {
		why: "Porch adds spec.conversion.webhook.clientConfig.service.namespace to a CRD without a conversion webhook, " +
			"and spec.service.namespace to a local APIService, which the API server rejects or misroutes; porchkit leaves them absent",
		check: func(t *testing.T, ours, theirs oracleRun) {
			if ours.failed || theirs.failed {
				t.Fatalf("failed: porchkit %v, Porch %v", ours.failed, theirs.failed)
			}
			for k, theirsYAML := range theirs.items {
				oursYAML := ours.items[k]
				switch {
				case strings.Contains(k, "CustomResourceDefinition"), strings.Contains(k, "APIService"):
					if !strings.Contains(theirsYAML, "namespace: prod") || strings.Contains(oursYAML, "namespace:") {
						t.Errorf("%s: Porch\n%s\nporchkit\n%s", k, theirsYAML, oursYAML)
					}
				case oursYAML != theirsYAML:
					t.Errorf("%s differs:\n%s", k, unifiedDiff(theirsYAML, oursYAML))
				}
			}
			if len(ours.results) == 0 || !strings.Contains(ours.results[0], `1 value(s) changed`) {
				t.Errorf("porchkit counts only the Deployment: %v", ours.results)
			}
		},
	},
}
