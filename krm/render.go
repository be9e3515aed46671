//lint:file-ignore SA1019 kyaml and functions written for kpt v1 still read and write the legacy path, index and id annotations, so Render sets and clears them too

package krm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
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

// RenderError is returned when a package fails to render: a pipeline step
// failed, or the package's resources are not all KRM resources. It wraps
// the cause. The input is unchanged.
type RenderError struct {
	// Package is the path of the package that failed ("" for the root).
	Package string
	// Function is the failed step's image or executable ("" when the
	// package has no pipeline).
	Function string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *RenderError) Error() string {
	if e.Function == "" {
		return fmt.Sprintf("krm: render package %s: %v", displayPackage(e.Package), e.Err)
	}
	return fmt.Sprintf("krm: render package %s: step %s: %v", displayPackage(e.Package), e.Function, e.Err)
}

// Unwrap returns the cause.
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

func (s selector) isEmpty() bool {
	return s.APIVersion == "" && s.Kind == "" && s.Name == "" && s.Namespace == "" && len(s.Labels) == 0 && len(s.Annotations) == 0
}

// matches is kpt's selector match: every field given must be equal, every
// label and annotation given present with that value.
func (s selector) matches(n *yaml.RNode) bool {
	if s.APIVersion != "" && n.GetApiVersion() != s.APIVersion || s.Kind != "" && n.GetKind() != s.Kind ||
		s.Name != "" && n.GetName() != s.Name || s.Namespace != "" && n.GetNamespace() != s.Namespace {
		return false
	}
	if len(s.Labels) > 0 {
		labels := n.GetLabels()
		for k, v := range s.Labels {
			if got, ok := labels[k]; !ok || got != v {
				return false
			}
		}
	}
	if len(s.Annotations) > 0 {
		annotations := n.GetAnnotations()
		for k, v := range s.Annotations {
			if got, ok := annotations[k]; !ok || got != v {
				return false
			}
		}
	}
	return true
}

// Render renders a package given as Porch gives it (file path -> content),
// per its Kptfile, like `kpt fn render` (kpt v1, as Porch runs it):
//
//   - Packages render depth-first, post-order: each subpackage (in path
//     order) before its parent, whose functions then see the subpackages'
//     output after its own resources. Each package runs its mutators in
//     order, then its validators on a copy, with selectors, exclusions,
//     configPath and configMap.
//   - A package's resources come from its Kptfile and its *.yaml, *.yml and
//     *.json files outside its subpackages and outside what its .krmignore
//     ignores (gitignore patterns relative to the package, for that package
//     only). Files without resources, ignored files and other files are
//     returned as given.
//   - Every document is one resource: a List or ResourceList stays one
//     resource in its file, and a file of empty or comment-only documents
//     has none.
//   - Functions see kpt's annotations: the file path relative to the
//     resource's package, the index in the file, the package
//     (internal.config.kubernetes.io/package-path, "/" or "/db"), legacy
//     twins of path and index. A new resource without a path goes to
//     [namespace/]kind_name.yaml in the package of the function that made
//     it.
//   - As in kpt, every function's input and output must be KRM resources
//     (apiVersion, kind, metadata.name; kustomizations exempt), as must the
//     resources of a package without a pipeline, and a function must not
//     place a resource outside its package or on another's path and index:
//     such a resource fails the render with a *ResourceError.
//
// A file whose resources are unchanged keeps its bytes; a changed one is
// written as kpt's package writer writes it; a file whose resources are all
// gone is removed. On failure the error is a *RenderError (or, for input
// that is not a package, an error wrapping ErrBadInput), no files are
// returned and files is untouched.
func Render(ctx context.Context, exec Executor, files map[string]string) (map[string]string, *RenderResult, error) {
	if err := validatePaths(files); err != nil {
		return nil, nil, err
	}
	root, err := packageTree(files)
	if err != nil {
		return nil, nil, err
	}
	r := &renderer{exec: exec, files: files, result: &RenderResult{}}
	if err := r.readAll(ctx, root); err != nil {
		return nil, nil, err
	}
	items, err := r.hydrate(ctx, root)
	if err != nil {
		return nil, r.result, err
	}
	out, err := r.writeBack(ctx, items)
	if err != nil {
		return nil, r.result, err
	}
	return out, r.result, nil
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

// renderer is one render's state. It owns the nodes it parses: functions
// run in process change them in place, and nothing is copied except for
// validators.
type renderer struct {
	exec   Executor
	files  map[string]string
	result *RenderResult
	// parsed holds each resource file's resources as read.
	parsed map[string][]*yaml.RNode
	// before holds, for each file that had resources, the hash of its
	// resources as read.
	before map[string][sha256.Size]byte
}

// hashResources is the SHA-256 of the canonical encoding of nodes, Render's
// own annotations left out.
func hashResources(nodes []*yaml.RNode) [sha256.Size]byte {
	h := sha256.New()
	var buf []byte
	for _, n := range nodes {
		buf = append(appendTop(buf[:0], n.YNode()), 0xff)
		h.Write(buf)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// parallel runs task(0) ... task(n-1) on up to GOMAXPROCS goroutines, all
// of which have returned when it does; it stops starting tasks once ctx
// ends. The files of a package are parsed and written this way: each
// file's nodes are its own.
func parallel(ctx context.Context, n int, task func(i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := 0; i < n && gctx.Err() == nil; i++ {
		g.Go(func() error { return task(i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// readAll parses every package's resource files and hashes each. The
// first failing file, in package order, is the error.
func (r *renderer) readAll(ctx context.Context, root *kptPackage) error {
	type job struct{ pkg, file string }
	var jobs []job
	var walk func(*kptPackage)
	walk = func(p *kptPackage) {
		for _, f := range p.files {
			jobs = append(jobs, job{p.dir, f})
		}
		for _, s := range p.subs {
			walk(s)
		}
	}
	walk(root)
	nodes := make([][]*yaml.RNode, len(jobs))
	hashes := make([][sha256.Size]byte, len(jobs))
	errs := make([]error, len(jobs))
	err := parallel(ctx, len(jobs), func(i int) error {
		nodes[i], errs[i] = readResources(jobs[i].pkg, jobs[i].file, r.files[jobs[i].file])
		if errs[i] == nil && len(nodes[i]) > 0 {
			hashes[i] = hashResources(nodes[i])
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.parsed = make(map[string][]*yaml.RNode, len(jobs))
	r.before = make(map[string][sha256.Size]byte, len(jobs))
	for i, j := range jobs {
		if errs[i] != nil {
			return errs[i]
		}
		r.parsed[j.file] = nodes[i]
		if len(nodes[i]) > 0 {
			r.before[j.file] = hashes[i]
		}
	}
	return nil
}

// hydrate renders pkg and its subpackages and returns the resources of all
// of them.
func (r *renderer) hydrate(ctx context.Context, pkg *kptPackage) ([]*yaml.RNode, error) {
	kfPath := path.Join(pkg.dir, "Kptfile")
	var kf kptfile
	if err := yaml.Unmarshal([]byte(r.files[kfPath]), &kf); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadInput, kfPath, err)
	}
	var local []*yaml.RNode
	for _, f := range pkg.files {
		local = append(local, r.parsed[f]...)
	}
	configs, err := stepConfigs(pkg, kf, local)
	if err != nil {
		return nil, err
	}
	items := local
	for _, sub := range pkg.subs {
		out, err := r.hydrate(ctx, sub)
		if err != nil {
			return nil, err
		}
		items = append(items, out...)
	}
	if len(kf.Pipeline.Mutators) == 0 && len(kf.Pipeline.Validators) == 0 {
		if err := checkKRM(items, "input", ErrBadInput); err != nil {
			return nil, &RenderError{Package: pkg.dir, Err: err}
		}
		return items, nil
	}
	for i, step := range kf.Pipeline.Mutators {
		if items, err = r.runStep(ctx, pkg, step, configs[i], items, false); err != nil {
			return nil, err
		}
	}
	for i, step := range kf.Pipeline.Validators {
		if _, err = r.runStep(ctx, pkg, step, configs[len(kf.Pipeline.Mutators)+i], items, true); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// stepConfig is what a step's functionConfig comes from.
type stepConfig struct {
	// path is the cleaned configPath, relative to the package.
	path string
	// read is the configPath resource as read, used should the pipeline
	// remove it (kpt reads it from disk before running).
	read *yaml.RNode
	// configMap is the ConfigMap built from the step's configMap.
	configMap *yaml.RNode
}

// stepConfigs resolves each step's functionConfig source, mutators first,
// as kpt validates a pipeline before running it: a configPath must name a
// file of the package's own holding exactly one resource.
func stepConfigs(pkg *kptPackage, kf kptfile, local []*yaml.RNode) ([]stepConfig, error) {
	steps := append(append([]pipelineStep(nil), kf.Pipeline.Mutators...), kf.Pipeline.Validators...)
	out := make([]stepConfig, len(steps))
	for i, step := range steps {
		fail := func(format string, args ...any) ([]stepConfig, error) {
			return nil, &RenderError{Package: pkg.dir, Function: Function{Image: step.Image, Exec: step.Exec}.String(),
				Err: fmt.Errorf("%w: %s", ErrBadInput, fmt.Sprintf(format, args...))}
		}
		switch {
		case step.Image == "" && step.Exec == "":
			return fail("pipeline step has neither image nor exec")
		case step.ConfigPath != "":
			clean := path.Clean(step.ConfigPath)
			if path.IsAbs(step.ConfigPath) || clean == ".." || strings.HasPrefix(clean, "../") {
				return fail("configPath %s must be a path inside the package", step.ConfigPath)
			}
			var found []*yaml.RNode
			for _, n := range local {
				if p, _ := filePath(annotationsNode(n, false)); p == clean {
					found = append(found, n)
				}
			}
			switch len(found) {
			case 0:
				return fail("configPath %s not found", path.Join(pkg.dir, clean))
			case 1:
				out[i] = stepConfig{path: clean, read: found[0].Copy()}
			default:
				return fail("configPath %s must hold one resource, it holds %d", path.Join(pkg.dir, clean), len(found))
			}
		case step.ConfigMap != nil:
			cm, err := configMap(step.ConfigMap)
			if err != nil {
				return fail("configMap: %v", err)
			}
			out[i] = stepConfig{configMap: cm}
		}
	}
	return out, nil
}

// configMap is kpt's functionConfig for a step's configMap: a ConfigMap
// named function-input whose data values are all strings.
func configMap(data map[string]string) (*yaml.RNode, error) {
	cm := yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\n")
	values := yaml.NewMapRNode(&data)
	for i := 1; i < len(values.YNode().Content); i += 2 {
		values.YNode().Content[i].Tag = yaml.NodeTagString
	}
	return cm, cm.PipeE(yaml.SetField("data", values))
}

// runStep runs one mutator (returning the package's new resources) or
// validator (on a copy; returning items as they were).
func (r *renderer) runStep(ctx context.Context, pkg *kptPackage, step pipelineStep, cfg stepConfig, items []*yaml.RNode, validator bool) ([]*yaml.RNode, error) {
	fn := Function{Image: step.Image, Exec: step.Exec, Config: cfg.configMap}
	fail := func(err error) ([]*yaml.RNode, error) {
		run := FunctionRun{Package: pkg.dir, Function: fn.String(), Validator: validator, Err: err}
		var fe *FunctionError
		if errors.As(err, &fe) {
			run.Results = fe.Results
		}
		r.result.Runs = append(r.result.Runs, run)
		return nil, &RenderError{Package: pkg.dir, Function: fn.String(), Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if cfg.path != "" {
		// The configPath resource as the pipeline has changed it so far.
		fn.Config = cfg.read
		for _, n := range items {
			a := annotationsNode(n, false)
			if p, _ := filePath(a); p == cfg.path && packageDir(a) == pkg.dir {
				fn.Config = n
				break
			}
		}
	}
	selective := !validator && (len(step.Selectors) > 0 || len(step.Exclude) > 0)
	if selective {
		for i, n := range items {
			setAnnotations(n, resourceIDAnnotation, strconv.Itoa(i))
		}
	}
	selected := selectInput(items, step)
	if validator {
		for i, n := range selected {
			selected[i] = n.Copy()
		}
	}
	if err := checkKRM(selected, "input", ErrBadInput); err != nil {
		return fail(err)
	}
	before := placesOf(selected)
	// Render owns these nodes (parsed from its input, never shown to the
	// caller), so a builtin may change them in place instead of copying.
	out, err := r.exec.Execute(withOwnedInput(ctx), fn, &framework.ResourceList{Items: selected})
	if err != nil {
		return fail(err)
	}
	if err := settleOutput(pkg.dir, out.Items, before); err != nil {
		return fail(err)
	}
	if err := checkPaths(out.Items); err != nil {
		return fail(err)
	}
	if err := checkKRM(out.Items, "output", ErrBadOutput); err != nil {
		return fail(err)
	}
	r.result.Runs = append(r.result.Runs, FunctionRun{Package: pkg.dir, Function: fn.String(), Validator: validator, Results: out.Results, Run: out.Run})
	if validator {
		return items, nil
	}
	if !selective {
		return out.Items, nil
	}
	merged := mergeWithInput(out.Items, selected, items)
	dropAnnotation(merged, resourceIDAnnotation)
	return merged, nil
}

// selectInput is the resources a step runs on: those matching any of its
// selectors (all, without selectors) and none of its non-empty exclusions.
func selectInput(items []*yaml.RNode, step pipelineStep) []*yaml.RNode {
	if len(step.Selectors) == 0 && len(step.Exclude) == 0 {
		return append([]*yaml.RNode(nil), items...)
	}
	var out []*yaml.RNode
	for _, n := range items {
		chosen := len(step.Selectors) == 0
		for _, s := range step.Selectors {
			chosen = chosen || s.matches(n)
		}
		for _, s := range step.Exclude {
			chosen = chosen && (s.isEmpty() || !s.matches(n))
		}
		if chosen {
			out = append(out, n)
		}
	}
	return out
}

// mergeWithInput puts a selective step's output back among the resources
// it did not select, as kpt does: an output resource takes its input's
// place, a selected resource missing from the output is deleted, and new
// resources come last.
func mergeWithInput(output, selected, items []*yaml.RNode) []*yaml.RNode {
	byID := make(map[string]*yaml.RNode, len(output))
	var created []*yaml.RNode
	for _, n := range output {
		id, ok := annotation(n, resourceIDAnnotation)
		if !ok {
			created = append(created, n)
		} else if byID[id] == nil {
			byID[id] = n
		}
	}
	chosen := make(map[string]bool, len(selected))
	for _, n := range selected {
		id, _ := annotation(n, resourceIDAnnotation)
		chosen[id] = true
	}
	merged := make([]*yaml.RNode, 0, len(items)+len(created))
	for _, n := range items {
		id, _ := annotation(n, resourceIDAnnotation)
		switch {
		case !chosen[id]:
			merged = append(merged, n)
		case byID[id] != nil:
			merged = append(merged, byID[id])
		}
	}
	return append(merged, created...)
}

func dropAnnotation(nodes []*yaml.RNode, key string) {
	for _, n := range nodes {
		if a := annotationsNode(n, false); a != nil {
			removeField(a, key)
		}
	}
}

// place is a resource's path and index annotations before a function ran.
type place struct{ path, index string }

// placesOf records where each resource was, keyed by node, so a function
// that changes only the legacy or only the current annotation can be told
// apart from one that set both.
func placesOf(nodes []*yaml.RNode) map[*yaml.Node]place {
	out := make(map[*yaml.Node]place, len(nodes))
	for _, n := range nodes {
		a := annotationsNode(n, false)
		p, _ := lookup(a, kioutil.PathAnnotation)
		i, _ := lookup(a, kioutil.IndexAnnotation)
		out[n.YNode()] = place{p, i}
	}
	return out
}

// settleOutput completes a function's output as kpt's runner does: the
// legacy and current path and index annotations agree again (the one the
// function changed wins), a resource without a path goes to
// [namespace/]kind_name.yaml, and one without a package belongs to pkg.
func settleOutput(pkg string, nodes []*yaml.RNode, before map[*yaml.Node]place) error {
	for _, n := range nodes {
		if n == nil || n.YNode() == nil {
			return fmt.Errorf("%w: function output holds an empty item", ErrBadOutput)
		}
		a := annotationsNode(n, true)
		if a == nil {
			continue // not a mapping: the KRM check refuses it
		}
		prev, known := before[n.YNode()]
		reconcile(a, kioutil.PathAnnotation, kioutil.LegacyPathAnnotation, prev.path, known)
		reconcile(a, kioutil.IndexAnnotation, kioutil.LegacyIndexAnnotation, prev.index, known)
		if _, ok := lookup(a, kioutil.PathAnnotation); !ok {
			p := kioutil.CreatePathAnnotationValue("", yaml.ResourceMeta{TypeMeta: yaml.TypeMeta{Kind: n.GetKind()},
				ObjectMeta: yaml.ObjectMeta{NameMeta: yaml.NameMeta{Name: n.GetName(), Namespace: n.GetNamespace()}}})
			setIn(a, kioutil.PathAnnotation, p, kioutil.LegacyPathAnnotation, p)
		}
		if _, ok := lookup(a, packagePathAnnotation); !ok {
			setIn(a, packagePathAnnotation, "/"+pkg)
		}
	}
	return nil
}

// reconcile makes the current annotation key and its legacy twin agree:
// one alone is copied to the other; of two that differ, the one the
// function changed from prev wins (the current one when the resource is
// new to Render or both changed).
func reconcile(a *yaml.Node, key, legacy, prev string, known bool) {
	v, ok := lookup(a, key)
	lv, lok := lookup(a, legacy)
	switch {
	case ok && !lok:
		setIn(a, legacy, v)
	case lok && !ok:
		setIn(a, key, lv)
	case ok && lok && v != lv:
		if known && v == prev {
			setIn(a, key, lv)
		} else {
			setIn(a, legacy, v)
		}
	}
}

// writeBack turns the rendered resources into files: each resource goes to
// its package's directory joined with its path; a file whose resources
// hash as they did when read keeps its bytes, any other is encoded; a file
// that had resources and has none left is removed. Every other file is
// returned as given.
func (r *renderer) writeBack(ctx context.Context, items []*yaml.RNode) (map[string]string, error) {
	byFile := map[string][]*yaml.RNode{}
	var order []string
	for _, n := range items {
		a := annotationsNode(n, false)
		p, _ := filePath(a)
		clean := path.Clean(p)
		if path.IsAbs(p) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, &ResourceError{Path: p, Field: kioutil.PathAnnotation, Kind: ErrBadOutput,
				Reason: "resource must be written under its package"}
		}
		file := path.Join(packageDir(a), clean)
		if _, ok := byFile[file]; !ok {
			order = append(order, file)
		}
		byFile[file] = append(byFile[file], n)
	}
	out := make(map[string]string, len(r.files)+len(order))
	for p, content := range r.files {
		if _, had := r.before[p]; !had || byFile[p] != nil {
			out[p] = content
		}
	}
	files := make([][]*yaml.RNode, len(order))
	for i, file := range order {
		nodes, err := orderFile(byFile[file])
		if err != nil {
			return nil, &ResourceError{Path: file, Field: kioutil.IndexAnnotation, Kind: ErrBadOutput, Reason: err.Error()}
		}
		if _, had := r.before[file]; !had && r.isDir(file) {
			return nil, &ResourceError{Path: file, Field: kioutil.PathAnnotation, Kind: ErrBadOutput, Reason: "resource path is a directory"}
		}
		files[i] = nodes
	}
	encoded := make([]string, len(order))
	changed := make([]bool, len(order))
	err := parallel(ctx, len(order), func(i int) error {
		if h, had := r.before[order[i]]; had && h == hashResources(files[i]) {
			return nil // unchanged: the bytes as given, formatting and all
		}
		var err error
		if encoded[i], err = encodeFile(order[i], files[i]); err != nil {
			return fmt.Errorf("krm: write %s: %w", order[i], err)
		}
		changed[i] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, file := range order {
		if changed[i] {
			out[file] = encoded[i]
		}
	}
	return out, nil
}

// isDir reports whether some input file lies under p.
func (r *renderer) isDir(p string) bool {
	if _, ok := r.files[p]; ok {
		return false
	}
	for f := range r.files {
		if strings.HasPrefix(f, p+"/") {
			return true
		}
	}
	return false
}
