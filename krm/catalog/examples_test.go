//lint:file-ignore SA1019 kpt's writer still reads and clears the legacy path and index annotations, so the eval harness sets them too

package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
)

// The examples under testdata/examples are the kpt functions catalog's own
// end-to-end cases (see testdata/NOTICE). Each holds an input package and
// .expected/: config.yaml (how kpt's test harness runs it: `kpt fn render`
// by default, `kpt fn eval` with testType: eval, and the exit code),
// exec.sh (a script run instead), diff.patch (the change kpt makes) and
// results.yaml (the results kpt reports). TestCatalogExamples runs every
// example through porchkit the way kpt's harness (kptdev/kpt
// pkg/test/runner) runs it through kpt, and checks the same things.

const examplesDir = "testdata/examples"

// exampleConfig is .expected/config.yaml, as kpt's harness reads it
// (pkg/test/runner/config.go: TestCaseConfig with EvalTestCaseConfig
// inline).
type exampleConfig struct {
	TestType string            `yaml:"testType,omitempty"`
	ExitCode int               `yaml:"exitCode,omitempty"`
	Image    string            `yaml:"image,omitempty"`
	Tag      string            `yaml:"tag,omitempty"`
	Args     map[string]string `yaml:"args,omitempty"`
	FnConfig string            `yaml:"fnConfig,omitempty"`
}

// step is one kpt command of an example.
type step struct {
	// command is "render", "eval" or "pkg init".
	command string
	// image and args are `kpt fn eval --image IMAGE -- ARGS...`.
	image string
	args  []string
	// fnConfig is `--fn-config`, relative to the package.
	fnConfig string
}

// scripted translates each example's .expected/exec.sh into the kpt steps
// it runs. The test checks the script is still the one translated.
var scripted = map[string]struct {
	script string
	steps  func(pkg string) ([]step, error)
}{
	"search-replace-create-setters": {
		script: `kpt fn eval --image gcr.io/kpt-fn/search-replace:unstable --image-pull-policy never -- \
by-path='data.**' by-value-regex='(.*)nginx.com(.*)' put-comment='kpt-set: ${1}${host}${2}'`,
		steps: func(string) ([]step, error) {
			return []step{{command: "eval", image: "gcr.io/kpt-fn/search-replace:unstable",
				args: []string{"by-path=data.**", "by-value-regex=(.*)nginx.com(.*)", "put-comment=kpt-set: ${1}${host}${2}"}}}, nil
		},
	},
	"set-namespace-kpt-package-context": {
		script: "set -eo pipefail\n\nkpt pkg init\nkpt fn render",
		steps: func(string) ([]step, error) {
			return []step{{command: "pkg init"}, {command: "render"}}, nil
		},
	},
	"starlark-configmap-as-functionconfig": {
		script: `kpt fn eval --image gcr.io/kpt-fn/starlark:unstable --image-pull-policy never -- source="$(cat set-replicas.star)" replicas=5`,
		steps: func(pkg string) ([]step, error) {
			src, err := os.ReadFile(filepath.Join(pkg, "set-replicas.star"))
			if err != nil {
				return nil, err
			}
			// $(cat FILE) drops the trailing newlines.
			return []step{{command: "eval", image: "gcr.io/kpt-fn/starlark:unstable",
				args: []string{"source=" + strings.TrimRight(string(src), "\n"), "replicas=5"}}}, nil
		},
	},
}

// knownLimit is an example porchkit fails on purpose: check asserts it
// fails the documented way.
type knownLimit struct {
	reason string
	check  func(t *testing.T, err error)
}

// limits lists the examples that cannot pass by design, with the reason
// (also in the README's "Limits of krm"). None of the 31 is one today:
// starlark-load-library loads encoding/json.star, which in-process
// starlark serves; an example loading http.star would be listed here.
var limits = map[string]knownLimit{}

// abstractPkgContext is what `kpt pkg init` writes to package-context.yaml
// (kptdev/kpt pkg/lib/builtins AbstractPkgContext).
const abstractPkgContext = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kptfile.kpt.dev
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  name: example
`

func TestCatalogExamples(t *testing.T) {
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) != 31 {
		t.Fatalf("%d examples under %s, want the catalog's 31", len(names), examplesDir)
	}
	for name := range limits {
		if _, err := os.Stat(filepath.Join(examplesDir, name)); err != nil {
			t.Errorf("limits names example %s, which is not there", name)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) { runExample(t, name) })
	}
}

func runExample(t *testing.T, name string) {
	src := filepath.Join(examplesDir, name)
	cfg, err := readExampleConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(t.TempDir(), name)
	if err := copyTree(src, pkg); err != nil {
		t.Fatal(err)
	}
	expected := filepath.Join(t.TempDir(), name)
	if err := copyTree(src, expected); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(src, ".expected", "diff.patch")); err == nil {
		if err := gitApply(expected, filepath.Join(src, ".expected", "diff.patch")); err != nil {
			t.Fatal(err)
		}
	}

	steps, err := exampleSteps(src, pkg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exec := unstableAsNewest{krm.NewRunner(krm.RunnerConfig{})}
	var runs []krm.FunctionRun
	var runErr error
	for _, s := range steps {
		var got []krm.FunctionRun
		got, runErr = runStep(ctx, exec, pkg, s)
		runs = append(runs, got...)
		if runErr != nil {
			break
		}
	}

	if limit, ok := limits[name]; ok {
		t.Logf("known limit: %s", limit.reason)
		limit.check(t, runErr)
		return
	}
	if got := exitCode(runErr); got != cfg.ExitCode {
		t.Fatalf("exit code %d, want %d (error: %v)", got, cfg.ExitCode, runErr)
	}
	compareFiles(t, expected, pkg)
	compareResources(t, expected, pkg)
	if data, err := os.ReadFile(filepath.Join(src, ".expected", "results.yaml")); err == nil {
		compareResults(t, data, runs)
	}
}

func readExampleConfig(dir string) (exampleConfig, error) {
	cfg := exampleConfig{TestType: "render"}
	data, err := os.ReadFile(filepath.Join(dir, ".expected", "config.yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, err
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return cfg, fmt.Errorf("config.yaml: %w", err)
	}
	if cfg.TestType == "" {
		cfg.TestType = "render"
	}
	return cfg, nil
}

// exampleSteps returns what kpt's harness runs for the example: exec.sh
// when there is one, else `kpt fn render`, or `kpt fn eval` built from
// config.yaml (pkg/test/runner/runner.go runFnEval: --image, --fn-config
// resolved against .expected/, and `-- k=v` for args).
func exampleSteps(src, pkg string, cfg exampleConfig) ([]step, error) {
	script, err := os.ReadFile(filepath.Join(src, ".expected", "exec.sh"))
	if err == nil {
		s, ok := scripted[filepath.Base(src)]
		if !ok {
			return nil, fmt.Errorf("exec.sh has no translation in scripted")
		}
		body := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(string(script), "#! /bin/bash"), "\n"))
		body = strings.TrimSpace(strings.ReplaceAll(body, "# shellcheck disable=SC2016\n", ""))
		if body != s.script {
			return nil, fmt.Errorf("exec.sh is\n%s\nbut the translation is of\n%s", body, s.script)
		}
		return s.steps(pkg)
	}
	if cfg.TestType == "render" {
		return []step{{command: "render"}}, nil
	}
	if cfg.TestType != "eval" {
		return nil, fmt.Errorf("testType %q", cfg.TestType)
	}
	s := step{command: "eval", image: cfg.Image}
	if cfg.FnConfig != "" {
		s.fnConfig = path.Clean(path.Join(".expected", cfg.FnConfig))
	}
	// The harness ranges over a map, so kpt sees the args in any order; the
	// test sorts them.
	keys := make([]string, 0, len(cfg.Args))
	for k := range cfg.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.args = append(s.args, k+"="+cfg.Args[k])
	}
	return []step{s}, nil
}

// unstableAsNewest runs an image tagged "unstable" (the tag the catalog's
// harness gives the images it builds from the catalog's own tree) as the
// newest version porchkit registers: kpt would pull that literal tag
// (pkg/fn/runtime/tag_resolution.go: a tag that is neither a version nor
// a constraint is used as given), and the builtins are those functions.
type unstableAsNewest struct{ krm.Executor }

func (u unstableAsNewest) Execute(ctx context.Context, fn krm.Function, in *framework.ResourceList) (*krm.Output, error) {
	if ref, err := krm.ParseImage(fn.Image); err == nil && ref.Tag == "unstable" && ref.Digest == "" {
		fn.Image = ref.Name
	}
	return u.Executor.Execute(ctx, fn, in)
}

func runStep(ctx context.Context, exec krm.Executor, pkg string, s step) ([]krm.FunctionRun, error) {
	switch s.command {
	case "pkg init":
		// kpt pkg init leaves an existing Kptfile (and README.md) alone and
		// adds the abstract package context.
		p := filepath.Join(pkg, "package-context.yaml")
		if _, err := os.Stat(p); err == nil {
			return nil, nil
		}
		return nil, os.WriteFile(p, []byte(abstractPkgContext), 0o644)
	case "render":
		return renderDir(ctx, exec, pkg)
	case "eval":
		run, err := evalDir(ctx, exec, pkg, s)
		return []krm.FunctionRun{run}, err
	}
	return nil, fmt.Errorf("step %q", s.command)
}

// renderDir renders the package in dir with krm.Render and writes the
// result back, as `kpt fn render` does in place.
func renderDir(ctx context.Context, exec krm.Executor, dir string) ([]krm.FunctionRun, error) {
	files, err := readTree(dir)
	if err != nil {
		return nil, err
	}
	out, result, err := krm.Render(ctx, exec, files)
	var runs []krm.FunctionRun
	if result != nil {
		runs = result.Runs
	}
	if err != nil {
		return runs, err
	}
	return runs, writeTree(dir, files, out)
}

// evalDir runs one function over the package in dir with a krm.Runner, as
// `kpt fn eval DIR --image IMAGE [--fn-config FILE] [-- k=v...]` does
// (kptdev/kpt thirdparty/cmdconfig/commands/cmdeval and
// thirdparty/kyaml/runfn):
//   - the image is resolved like RunnerOptions.ResolveToImage: a name
//     without a slash gets the catalog prefix (gcr.io/kpt-fn/, kpt's prefix
//     when the examples were written);
//   - the functionConfig is the --fn-config file, or else
//     getCLIFunctionConfig's ConfigMap named function-input whose data are
//     the k=v arguments, as strings (a first argument without "=" is the
//     kind);
//   - the package is read and written with kio.LocalPackageReadWriter and
//     the same options as runfn (Kptfile, *.yaml, *.yml, subpackages,
//     sequence indent kept, .krmignore honoured);
//   - an --fn-config file inside the package is left out of the input and
//     written back unchanged;
//   - resources the function adds without a path go where the kyaml
//     FunctionFilter puts them (kioutil.DefaultPathAnnotation:
//     NAMESPACE/KIND_NAME.yaml);
//   - on failure nothing is written.
func evalDir(ctx context.Context, exec krm.Executor, dir string, s step) (krm.FunctionRun, error) {
	image := s.image
	if !strings.Contains(image, "/") {
		image = "gcr.io/kpt-fn/" + image
	}
	run := krm.FunctionRun{Function: image}
	rw := &kio.LocalPackageReadWriter{PackagePath: dir, MatchFilesGlob: append([]string{"Kptfile"}, kio.MatchAll...),
		PreserveSeqIndent: true, PackageFileName: "Kptfile", IncludeSubpackages: true, WrapBareSeqNode: true}
	nodes, err := rw.Read()
	if err != nil {
		return run, err
	}
	var config, configNode *yaml.RNode
	if s.fnConfig != "" {
		if len(s.args) > 0 {
			return run, fmt.Errorf("function arguments can only be specified without function config file")
		}
		var kept []*yaml.RNode
		for _, n := range nodes {
			if p, _, _ := kioutil.GetFileAnnotations(n); p == s.fnConfig {
				configNode = n
				continue
			}
			kept = append(kept, n)
		}
		nodes = kept
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(s.fnConfig)))
		if err != nil {
			return run, fmt.Errorf("missing function config file: %w", err)
		}
		if config, err = yaml.Parse(string(data)); err != nil {
			return run, err
		}
	} else if config, err = cliFunctionConfig(s.args); err != nil {
		return run, err
	}
	out, err := exec.Execute(ctx, krm.Function{Image: image, Config: config}, &framework.ResourceList{Items: nodes})
	if err != nil {
		var fe *krm.FunctionError
		if errors.As(err, &fe) {
			run.Results = fe.Results
		}
		run.Err = err
		return run, err
	}
	run.Results = out.Results
	items := out.Items
	if err := kioutil.DefaultPathAnnotation("", items); err != nil {
		return run, err
	}
	if configNode != nil {
		items = append(items, configNode)
	}
	return run, rw.Write(items)
}

// cliFunctionConfig builds the functionConfig of `kpt fn eval -- ARGS` as
// getCLIFunctionConfig does: metadata.name function-input, data with each
// k=v as a string, then kind and apiVersion.
func cliFunctionConfig(args []string) (*yaml.RNode, error) {
	rc, err := yaml.Parse("metadata:\n  name: function-input\ndata: {}\n")
	if err != nil {
		return nil, err
	}
	kind := "ConfigMap"
	data := rc.Field("data").Value
	for i, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok && i == 0 {
			kind = a
			continue
		}
		if !ok {
			return nil, fmt.Errorf("args must have keys and values separated by =")
		}
		if err := data.PipeE(yaml.SetField(k, yaml.NewStringRNode(v))); err != nil {
			return nil, err
		}
	}
	if err := rc.PipeE(yaml.SetField("kind", yaml.NewScalarRNode(kind))); err != nil {
		return nil, err
	}
	return rc, rc.PipeE(yaml.SetField("apiVersion", yaml.NewScalarRNode("v1")))
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	return 1
}

// compareFiles checks that every file is byte-identical to the expected
// package and that no file is missing or extra.
func compareFiles(t *testing.T, expectedDir, actualDir string) {
	t.Helper()
	want, err := readTree(expectedDir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readTree(actualDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range sortedPaths(want) {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("file %s: missing, want\n%s", p, want[p])
		case g != want[p]:
			t.Errorf("file %s differs from the expected package:\n%s", p, unifiedDiff(want[p], g))
		}
	}
	for _, p := range sortedPaths(got) {
		if _, ok := want[p]; !ok {
			t.Errorf("file %s: not expected, got\n%s", p, got[p])
		}
	}
}

// compareResources checks the packages resource by resource (file,
// position, kind, namespace and name), so a difference names the
// resource.
func compareResources(t *testing.T, expectedDir, actualDir string) {
	t.Helper()
	want, err := resourcesOf(expectedDir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := resourcesOf(actualDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range sortedPaths(want) {
		switch g, ok := got[k]; {
		case !ok:
			t.Errorf("resource %s: missing", k)
		case g != want[k]:
			t.Errorf("resource %s differs from the expected one:\n%s", k, unifiedDiff(want[k], g))
		}
	}
	for _, k := range sortedPaths(got) {
		if _, ok := want[k]; !ok {
			t.Errorf("resource %s: not expected:\n%s", k, got[k])
		}
	}
}

// resourcesOf reads the package's resources as kpt does (.krmignore
// honoured), keyed by file, index, kind, namespace and name.
func resourcesOf(dir string) (map[string]string, error) {
	nodes, err := (&kio.LocalPackageReader{PackagePath: dir, MatchFilesGlob: append([]string{"Kptfile"}, kio.MatchAll...),
		PreserveSeqIndent: true, PackageFileName: "Kptfile", IncludeSubpackages: true, WrapBareSeqNode: true}).Read()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, n := range nodes {
		p, i, _ := kioutil.GetFileAnnotations(n)
		k := fmt.Sprintf("%s#%s %s %s/%s", p, i, n.GetKind(), n.GetNamespace(), n.GetName())
		c := n.Copy()
		for _, a := range []string{kioutil.PathAnnotation, kioutil.IndexAnnotation, kioutil.LegacyPathAnnotation,
			kioutil.LegacyIndexAnnotation, kioutil.SeqIndentAnnotation} {
			if err := c.PipeE(yaml.ClearAnnotation(a)); err != nil {
				return nil, err
			}
		}
		if err := yaml.ClearEmptyAnnotations(c); err != nil {
			return nil, err
		}
		out[k] = c.MustString()
	}
	return out, nil
}

// fnResultList is kpt's results.yaml (kptdev/kpt api/fnresult/v1).
type fnResultList struct {
	ExitCode int `yaml:"exitCode"`
	Items    []struct {
		Image    string              `yaml:"image"`
		ExitCode int                 `yaml:"exitCode"`
		Results  []*framework.Result `yaml:"results"`
	} `yaml:"items"`
}

// compareResults checks each function's results: severity, message,
// resource reference and field path, in order.
func compareResults(t *testing.T, data []byte, runs []krm.FunctionRun) {
	t.Helper()
	var want fnResultList
	if err := yaml.Unmarshal(data, &want); err != nil {
		t.Fatalf("results.yaml: %v", err)
	}
	if len(runs) != len(want.Items) {
		t.Fatalf("%d function runs, results.yaml has %d", len(runs), len(want.Items))
	}
	for i, w := range want.Items {
		r := runs[i]
		if r.Function != w.Image {
			t.Errorf("run %d: function %s, want %s", i, r.Function, w.Image)
		}
		if got := exitCode(r.Err); got != w.ExitCode {
			t.Errorf("run %d (%s): exit code %d, want %d", i, w.Image, got, w.ExitCode)
		}
		if len(r.Results) != len(w.Results) {
			t.Errorf("run %d (%s): %d results, want %d:\n%s", i, w.Image, len(r.Results), len(w.Results), describeResults(r.Results))
			continue
		}
		for j, wr := range w.Results {
			if got, want := describeResult(r.Results[j]), describeResult(wr); got != want {
				t.Errorf("run %d (%s) result %d:\n got %s\nwant %s", i, w.Image, j, got, want)
			}
		}
	}
}

func describeResult(r *framework.Result) string {
	s := fmt.Sprintf("severity=%q message=%q", r.Severity, r.Message)
	if r.ResourceRef != nil {
		s += fmt.Sprintf(" resource=%s/%s %s/%s", r.ResourceRef.APIVersion, r.ResourceRef.Kind, r.ResourceRef.Namespace, r.ResourceRef.Name)
	}
	if r.Field != nil {
		s += fmt.Sprintf(" field=%q", r.Field.Path)
	}
	return s
}

func describeResults(rs framework.Results) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("  " + describeResult(r) + "\n")
	}
	return b.String()
}

// gitApply applies a git patch in dir. kpt's harness stores the patch
// trimmed (pkg/test/runner: the diff is compared without its trailing
// newline), so a last line without one gets it back.
func gitApply(dir, patch string) error {
	data, err := os.ReadFile(patch)
	if err != nil {
		return err
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		data = append(data, '\n')
	}
	cmd := exec.Command("git", "apply", "--whitespace=nowarn", "-")
	cmd.Dir = dir
	// The temp dir is in no repository, so git apply works on plain files.
	cmd.Env = append(os.Environ(), "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git apply %s: %w: %s", patch, err, stderr.String())
	}
	return nil
}

func readTree(dir string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	return files, err
}

// writeTree makes dir hold out: changed and new files written, files no
// longer in out removed.
func writeTree(dir string, before, out map[string]string) error {
	for p := range before {
		if _, ok := out[p]; !ok {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
				return err
			}
		}
	}
	for p, content := range out {
		if old, ok := before[p]; ok && old == content {
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// unifiedDiff shows what porchkit wrote (+) against what kpt writes (-).
func unifiedDiff(want, got string) string {
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(want), B: difflib.SplitLines(got),
		FromFile: "kpt", ToFile: "porchkit", Context: 2})
	if err != nil {
		return fmt.Sprintf("--- kpt\n%s\n--- porchkit\n%s", want, got)
	}
	return d
}

func sortedPaths(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
