//lint:file-ignore SA1019 kyaml and functions written for kpt v1 still read and write the legacy path, index and id annotations, so Render sets and clears them too

package krm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// RenderResult aggregates the runs of one render, like kpt's
// FunctionResultList.
type RenderResult struct {
	// Runs has one entry per function run, in order.
	Runs []FunctionRun
}

// FunctionRun is one pipeline step's outcome.
type FunctionRun struct {
	// Package is the package path ("" for the root).
	Package string
	// Function is the image or executable.
	Function string
	// Validator is true for validators.
	Validator bool
	// Results are the structured results the function reported.
	Results framework.Results
	// Run describes the execution (runtime, duration, hashes).
	Run RunInfo
	// Err is the step's error, if it failed.
	Err error
}

// RenderError is returned when a pipeline step fails; it wraps the step's
// error. The input is unchanged.
type RenderError struct {
	// Package is the path of the package whose step failed ("" for the
	// root).
	Package string
	// Function is the failed step's image or executable.
	Function string
	// Err is the step's error.
	Err error
}

// Error implements error.
func (e *RenderError) Error() string {
	pkg := e.Package
	if pkg == "" {
		pkg = "."
	}
	return fmt.Sprintf("krm: render package %s: step %s: %v", pkg, e.Function, e.Err)
}

// Unwrap returns the step's error.
func (e *RenderError) Unwrap() error { return e.Err }

// kptfile is the part of a Kptfile rendering reads.
type kptfile struct {
	Pipeline struct {
		Mutators   []pipelineStep `yaml:"mutators,omitempty"`
		Validators []pipelineStep `yaml:"validators,omitempty"`
	} `yaml:"pipeline,omitempty"`
}

type pipelineStep struct {
	Image      string            `yaml:"image,omitempty"`
	Exec       string            `yaml:"exec,omitempty"`
	Name       string            `yaml:"name,omitempty"`
	ConfigPath string            `yaml:"configPath,omitempty"`
	ConfigMap  map[string]string `yaml:"configMap,omitempty"`
	Selectors  []selector        `yaml:"selectors,omitempty"`
	Exclude    []selector        `yaml:"exclude,omitempty"`
}

type selector struct {
	APIVersion  string            `yaml:"apiVersion,omitempty"`
	Kind        string            `yaml:"kind,omitempty"`
	Name        string            `yaml:"name,omitempty"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

func (s selector) matches(n *yaml.RNode) bool {
	if s.APIVersion != "" && n.GetApiVersion() != s.APIVersion || s.Kind != "" && n.GetKind() != s.Kind ||
		s.Name != "" && n.GetName() != s.Name || s.Namespace != "" && n.GetNamespace() != s.Namespace {
		return false
	}
	labels, annotations := n.GetLabels(), n.GetAnnotations()
	for k, v := range s.Labels {
		if labels[k] != v {
			return false
		}
	}
	for k, v := range s.Annotations {
		if annotations[k] != v {
			return false
		}
	}
	return true
}

// Render renders a package given as Porch gives it (file path -> content),
// per its Kptfile, like `kpt fn render`: subpackages first (depth-first,
// post-order), each package's mutators in order and then its validators (on
// a copy), with selectors, exclusions, configPath and configMap. The
// returned files differ only where a resource changed; comments and
// formatting of untouched files are kept. On failure the error is a
// *RenderError and files is untouched.
func Render(ctx context.Context, exec Executor, files map[string]string) (map[string]string, *RenderResult, error) {
	if _, ok := files["Kptfile"]; !ok {
		return nil, nil, fmt.Errorf("%w: package has no Kptfile at its root", ErrBadInput)
	}
	byPkg, err := readPackages(files)
	if err != nil {
		return nil, nil, err
	}
	before, err := fileHashes(byPkg)
	if err != nil {
		return nil, nil, err
	}
	result := &RenderResult{}
	items, err := renderPackage(ctx, exec, files, byPkg, "", result)
	if err != nil {
		return nil, result, err
	}
	out, err := writeBack(files, items, before)
	return out, result, err
}

// RenderFS renders a package read from fsys (for example os.DirFS(dir)).
func RenderFS(ctx context.Context, exec Executor, fsys fs.FS) (map[string]string, *RenderResult, error) {
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
		return nil, nil, err
	}
	return Render(ctx, exec, files)
}

func isYAML(p string) bool {
	return path.Base(p) == "Kptfile" || strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")
}

// packageOf returns the nearest directory holding a Kptfile.
func packageOf(files map[string]string, p string) string {
	for dir := path.Dir(p); ; dir = path.Dir(dir) {
		d := dir
		if d == "." {
			d = ""
		}
		if _, ok := files[path.Join(d, "Kptfile")]; ok {
			return d
		}
		if d == "" {
			return ""
		}
	}
}

// readPackages parses every YAML file into nodes annotated with their path,
// grouped by the package that owns them.
func readPackages(files map[string]string) (map[string][]*yaml.RNode, error) {
	byPkg := map[string][]*yaml.RNode{}
	paths := make([]string, 0, len(files))
	for p := range files {
		if isYAML(p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(files[p]), PreserveSeqIndent: true,
			SetAnnotations: map[string]string{kioutil.PathAnnotation: p, kioutil.LegacyPathAnnotation: p}}).Read()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadInput, p, err)
		}
		pkg := packageOf(files, p)
		byPkg[pkg] = append(byPkg[pkg], nodes...)
	}
	return byPkg, nil
}

// subpackages lists the direct subpackages of pkg.
func subpackages(files map[string]string, pkg string) []string {
	var out []string
	for p := range files {
		if path.Base(p) != "Kptfile" || p == path.Join(pkg, "Kptfile") {
			continue
		}
		dir := path.Dir(p)
		if packageOf(files, path.Join(dir, "x")) == dir && parentPackage(files, dir) == pkg {
			out = append(out, dir)
		}
	}
	sort.Strings(out)
	return out
}

func parentPackage(files map[string]string, dir string) string {
	return packageOf(files, dir)
}

func renderPackage(ctx context.Context, exec Executor, files map[string]string, byPkg map[string][]*yaml.RNode, pkg string, result *RenderResult) ([]*yaml.RNode, error) {
	var items []*yaml.RNode
	for _, sub := range subpackages(files, pkg) {
		out, err := renderPackage(ctx, exec, files, byPkg, sub, result)
		if err != nil {
			return nil, err
		}
		items = append(items, out...)
	}
	items = append(byPkg[pkg], items...)
	var kf kptfile
	if err := yaml.Unmarshal([]byte(files[path.Join(pkg, "Kptfile")]), &kf); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadInput, path.Join(pkg, "Kptfile"), err)
	}
	for _, step := range kf.Pipeline.Mutators {
		out, err := runStep(ctx, exec, files, pkg, step, items, false, result)
		if err != nil {
			return nil, err
		}
		items = out
	}
	for _, step := range kf.Pipeline.Validators {
		if _, err := runStep(ctx, exec, files, pkg, step, items, true, result); err != nil {
			return nil, err
		}
	}
	return items, nil
}

func runStep(ctx context.Context, exec Executor, files map[string]string, pkg string, step pipelineStep, items []*yaml.RNode, validator bool, result *RenderResult) ([]*yaml.RNode, error) {
	fn := Function{Image: step.Image, Exec: step.Exec}
	fail := func(err error) ([]*yaml.RNode, error) {
		result.Runs = append(result.Runs, FunctionRun{Package: pkg, Function: fn.String(), Validator: validator, Err: err})
		return nil, &RenderError{Package: pkg, Function: fn.String(), Err: err}
	}
	if fn.Image == "" && fn.Exec == "" {
		return fail(fmt.Errorf("%w: pipeline step has neither image nor exec", ErrBadInput))
	}
	configPath := ""
	switch {
	case step.ConfigPath != "":
		configPath = path.Join(pkg, step.ConfigPath)
		for _, n := range items {
			if n.GetAnnotations()[kioutil.PathAnnotation] == configPath {
				fn.Config = n.Copy()
			}
		}
		if fn.Config == nil {
			return fail(fmt.Errorf("%w: configPath %s not found", ErrBadInput, configPath))
		}
	case step.ConfigMap != nil:
		cm := yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\n")
		data, err := yaml.FromMap(toAny(step.ConfigMap))
		if err != nil {
			return fail(err)
		}
		if err := cm.PipeE(yaml.SetField("data", data)); err != nil {
			return fail(err)
		}
		fn.Config = cm
	}
	var selected, passed []*yaml.RNode
	for _, n := range items {
		if n.GetAnnotations()[kioutil.PathAnnotation] == configPath && configPath != "" {
			passed = append(passed, n)
			continue
		}
		if chosen(step, n) {
			selected = append(selected, n)
		} else {
			passed = append(passed, n)
		}
	}
	in := &framework.ResourceList{Items: selected}
	if validator {
		in = copyList(in)
	}
	// Render owns these nodes (parsed from its input, never shown to the
	// caller), so a builtin may change them in place instead of copying.
	out, err := exec.Execute(withOwnedInput(ctx), fn, in)
	if err != nil {
		run := FunctionRun{Package: pkg, Function: fn.String(), Validator: validator, Err: err}
		var fe *FunctionError
		if errors.As(err, &fe) {
			run.Results = fe.Results
		}
		result.Runs = append(result.Runs, run)
		return nil, &RenderError{Package: pkg, Function: fn.String(), Err: err}
	}
	result.Runs = append(result.Runs, FunctionRun{Package: pkg, Function: fn.String(), Validator: validator, Results: out.Results, Run: out.Run})
	if validator {
		return items, nil
	}
	// New resources without a path go to a file named after them, in the
	// package's directory, as kpt does.
	for _, n := range out.Items {
		if n.GetAnnotations()[kioutil.PathAnnotation] == "" {
			p := path.Join(pkg, strings.ToLower(n.GetKind())+"_"+n.GetName()+".yaml")
			if err := n.PipeE(yaml.SetAnnotation(kioutil.PathAnnotation, p)); err != nil {
				return fail(err)
			}
		}
	}
	return append(passed, out.Items...), nil
}

func chosen(step pipelineStep, n *yaml.RNode) bool {
	if len(step.Selectors) > 0 {
		any := false
		for _, s := range step.Selectors {
			any = any || s.matches(n)
		}
		if !any {
			return false
		}
	}
	for _, s := range step.Exclude {
		if s.matches(n) {
			return false
		}
	}
	return true
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// writeBack regroups nodes into files. A file whose resources are all
// unchanged keeps its bytes; a YAML file left without resources is removed.
func writeBack(files map[string]string, items []*yaml.RNode, before map[string]string) (map[string]string, error) {
	byFile := groupByFile(items)
	after, err := hashesOf(byFile)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for p, content := range files {
		if !isYAML(p) {
			out[p] = content
		}
	}
	for p, nodes := range byFile {
		if orig, ok := files[p]; ok && before[p] == after[p] {
			out[p] = orig // unchanged: keep the bytes, formatting and all
			continue
		}
		sort.SliceStable(nodes, func(i, j int) bool { return index(nodes[i]) < index(nodes[j]) })
		var buf bytes.Buffer
		// ByteWriter copies the nodes before clearing the annotations.
		w := kio.ByteWriter{Writer: &buf, ClearAnnotations: []string{kioutil.PathAnnotation, kioutil.IndexAnnotation,
			kioutil.LegacyPathAnnotation, kioutil.LegacyIndexAnnotation, kioutil.IdAnnotation, kioutil.LegacyIdAnnotation,
			kioutil.SeqIndentAnnotation}}
		if err := w.Write(nodes); err != nil {
			return nil, err
		}
		out[p] = buf.String()
	}
	return out, nil
}

func index(n *yaml.RNode) string {
	v := n.GetAnnotations()[kioutil.IndexAnnotation]
	return fmt.Sprintf("%09s", v)
}

func groupByFile(items []*yaml.RNode) map[string][]*yaml.RNode {
	byFile := map[string][]*yaml.RNode{}
	for _, n := range items {
		p := n.GetAnnotations()[kioutil.PathAnnotation]
		byFile[p] = append(byFile[p], n)
	}
	return byFile
}

// fileHashes hashes each file's resources as read.
func fileHashes(byPkg map[string][]*yaml.RNode) (map[string]string, error) {
	var all []*yaml.RNode
	for _, nodes := range byPkg {
		all = append(all, nodes...)
	}
	return hashesOf(groupByFile(all))
}

func hashesOf(byFile map[string][]*yaml.RNode) (map[string]string, error) {
	out := make(map[string]string, len(byFile))
	for p, nodes := range byFile {
		sorted := append([]*yaml.RNode(nil), nodes...)
		sort.SliceStable(sorted, func(i, j int) bool { return index(sorted[i]) < index(sorted[j]) })
		h, err := hashList(&framework.ResourceList{Items: sorted}, nil)
		if err != nil {
			return nil, err
		}
		out[p] = h
	}
	return out, nil
}
