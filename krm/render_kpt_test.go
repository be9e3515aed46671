//lint:file-ignore SA1019 the tests read the legacy path and index annotations kpt v1 sets beside the current ones

package krm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/krm/krmtest"
)

// The tests in this file check Render against kpt v1's `kpt fn render`
// (kptdev/kpt pkg/lib/kptops/render_executor.go, which Porch v1.5.3 copies
// as internal/kpt/util/render) and the kyaml package reader and writer it
// uses (kio.LocalPackageReader/LocalPackageReadWriter with MatchAllKRM,
// PreserveSeqIndent, WrapBareSeqNode, and unwrapping disabled). Each says
// which behaviour it follows.

const (
	touchImage = "example.com/touch:v1"
	failImage  = "example.com/fail:v1"
)

// kptfile is a Kptfile whose pipeline runs the given mutators (images).
func kptfile(name string, mutators ...string) string {
	s := "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: " + name + "\n"
	if len(mutators) > 0 {
		s += "pipeline:\n  mutators:\n"
		for _, m := range mutators {
			s += "  - image: " + m + "\n"
		}
	}
	return s
}

// touch annotates every resource it gets with touched: "yes".
func touch(_ context.Context, _ krm.Function, in *framework.ResourceList) (*krm.Output, error) {
	for _, n := range in.Items {
		if err := n.PipeE(yaml.SetAnnotation("touched", "yes")); err != nil {
			return nil, err
		}
	}
	return &krm.Output{Items: in.Items}, nil
}

// touching is a fake executor on which touchImage is touch.
func touching() *krmtest.Executor { return krmtest.NewExecutor().On(touchImage, touch) }

// seen lists, per call, the root-relative files of the items the function
// got, from the package-path and path annotations.
func seen(calls []krmtest.Call) []string {
	var out []string
	for _, c := range calls {
		for _, n := range c.Items {
			a := n.GetAnnotations()
			out = append(out, strings.TrimPrefix(strings.TrimSuffix(a["internal.config.kubernetes.io/package-path"], "/")+"/"+a[kioutil.PathAnnotation], "/"))
		}
	}
	return out
}

func render(t *testing.T, exec krm.Executor, files map[string]string) map[string]string {
	t.Helper()
	original := maps.Clone(files)
	out, _, err := krm.Render(context.Background(), exec, files)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(files, original) {
		t.Fatal("Render changed its input map")
	}
	return out
}

// kpt records a file as rendered only if it held resources
// (trackInputFiles) and prunes only those the output no longer has
// (pruneResources): an empty or comment-only file is left as it is, a file
// whose resources were all deleted goes.
func TestRenderKeepsFilesWithoutResources(t *testing.T) {
	files := map[string]string{
		"Kptfile":          kptfile("app", touchImage, "example.com/drop:v1"),
		"app.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
		"gone.yaml":        "# to be deleted\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n",
		"empty.yaml":       "",
		"blank.yml":        "\n  \n\n",
		"comments.yaml":    "# nothing here yet\n# but comments\n",
		"separators.yaml":  "---\n# first\n---\n\n---\n# last\n",
		"null.yaml":        "null\n",
		"json/empty.json":  "",
		"deeper/only.yaml": "# only a comment\n",
	}
	exec := touching().On("example.com/drop:v1", func(_ context.Context, _ krm.Function, in *framework.ResourceList) (*krm.Output, error) {
		var keep []*yaml.RNode
		for _, n := range in.Items {
			if n.GetName() != "gone" {
				keep = append(keep, n)
			}
		}
		return &krm.Output{Items: keep}, nil
	})
	out := render(t, exec, files)
	for _, p := range []string{"empty.yaml", "blank.yml", "comments.yaml", "separators.yaml", "null.yaml", "json/empty.json", "deeper/only.yaml"} {
		got, ok := out[p]
		if !ok || got != files[p] {
			t.Errorf("%s: kept %t, content %q, want it untouched", p, ok, got)
		}
	}
	if _, ok := out["gone.yaml"]; ok {
		t.Error("gone.yaml, whose only resource was deleted, is still there")
	}
	if !strings.Contains(out["app.yaml"], "touched: \"yes\"") && !strings.Contains(out["app.yaml"], "touched: 'yes'") {
		t.Errorf("app.yaml not rendered:\n%s", out["app.yaml"])
	}
	want := []string{"Kptfile", "app.yaml", "gone.yaml"}
	if got := seen(exec.Calls()[:1]); !slices.Equal(got, want) {
		t.Errorf("the first function got %v, want %v", got, want)
	}
}

// kpt reads package files with kyaml's ByteReader and DisableUnwrapping:
// a List or a ResourceList in a package is one resource like any other,
// kept whole in its file, and like any other it must have a
// metadata.name (kptfile/v1 AreKRM).
func TestRenderKeepsListsWhole(t *testing.T) {
	list := `# a list of two
apiVersion: v1
kind: List
metadata:
  name: pair
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: a
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b
`
	resourceList := `apiVersion: config.kubernetes.io/v1
kind: ResourceList
metadata:
  name: saved
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: c
functionConfig:
  apiVersion: v1
  kind: ConfigMap
  metadata:
    name: fc
`
	files := map[string]string{"Kptfile": kptfile("app", touchImage), "list.yaml": list, "rl.yaml": resourceList}
	exec := touching()
	out := render(t, exec, files)
	if len(exec.Calls()) != 1 {
		t.Fatalf("%d calls", len(exec.Calls()))
	}
	var kinds []string
	for _, n := range exec.Calls()[0].Items {
		kinds = append(kinds, n.GetKind()+"/"+n.GetName())
	}
	if want := []string{"Kptfile/app", "List/pair", "ResourceList/saved"}; !slices.Equal(kinds, want) {
		t.Errorf("the function got %v, want %v (lists not unwrapped)", kinds, want)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(out)), slices.Sorted(maps.Keys(files))) {
		t.Errorf("files %v, want %v: a list's items must not become files", slices.Sorted(maps.Keys(out)), slices.Sorted(maps.Keys(files)))
	}
	for p, kind := range map[string]string{"list.yaml": "List", "rl.yaml": "ResourceList"} {
		docs, err := (&kio.ByteReader{Reader: strings.NewReader(out[p]), DisableUnwrapping: true, OmitReaderAnnotations: true}).Read()
		if err != nil || len(docs) != 1 || docs[0].GetKind() != kind || docs[0].GetAnnotations()["touched"] != "yes" {
			t.Fatalf("%s is not one touched %s: %v\n%s", p, kind, err, out[p])
		}
	}
	if items, _ := yaml.MustParse(out["list.yaml"]).Pipe(yaml.Lookup("items")); items == nil || len(items.YNode().Content) != 2 {
		t.Errorf("list.yaml lost its items:\n%s", out["list.yaml"])
	}
	if !strings.HasPrefix(out["list.yaml"], "# a list of two\n") {
		t.Errorf("list.yaml lost its comment:\n%s", out["list.yaml"])
	}

	// Without a pipeline nothing changes, the lists included.
	files["Kptfile"] = kptfile("app")
	if out := render(t, krmtest.NewExecutor(), files); !maps.Equal(out, files) {
		t.Error("a package without a pipeline changed")
	}

	// A List without a name, as kubectl writes one, is not a KRM resource.
	files["Kptfile"] = kptfile("app", touchImage)
	files["list.yaml"] = strings.Replace(list, "metadata:\n  name: pair\n", "", 1)
	original := maps.Clone(files)
	out, _, err := krm.Render(context.Background(), touching(), files)
	var re *krm.ResourceError
	if !errors.As(err, &re) || !errors.Is(err, krm.ErrBadInput) || re.Path != "list.yaml" || re.Field != "metadata.name" || out != nil {
		t.Fatalf("unnamed List: err %v, out %v", err, out != nil)
	}
	if !maps.Equal(files, original) {
		t.Fatal("a failed render changed its input")
	}
}

// kyaml's package reader applies the .krmignore at the top of each package
// (gitignore patterns relative to that package) to that package's files
// only; the package walk that finds subpackages does not read it
// (kptdev/kpt pkg/lib/pkg Subpackages), so an ignored directory that is a
// subpackage still renders, and a .krmignore in a plain directory means
// nothing. Ignored files are neither read nor written.
func TestRenderHonoursKrmignore(t *testing.T) {
	files := map[string]string{
		"Kptfile":    kptfile("root", touchImage),
		".krmignore": "# kpt's own examples ignore their expectations\n.expected\nignored.yaml\nscratch/\n*.yml\n/anchored.yaml\nsubpkg/\n",
		// Not KRM resources: rendering fails should any of them be read.
		".expected/config.yaml": "testType: eval\n",
		"ignored.yaml":          "not: krm\n",
		"deep/ignored.yaml":     "not: krm either\n",
		"scratch/notes.yaml":    "- a bare\n- sequence\n",
		"x.yml":                 "k: v\n",
		"anchored.yaml":         "v: 1\n",
		// Read: the anchored pattern matches at the top only.
		"deep/anchored.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep-anchored\n",
		"app.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
		// A .krmignore outside a package's top directory is not read.
		"plain/.krmignore": "app2.yaml\n",
		"plain/app2.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app2\n",
		// A subpackage has its own .krmignore; the parent's does not apply.
		"db/Kptfile":       kptfile("db", touchImage),
		"db/.krmignore":    "non-krm.yaml\n",
		"db/non-krm.yaml":  "- op: replace\n  path: /spec\n",
		"db/ignored.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db-ignored\n",
		"db/x.yml":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db-x\n",
		"subpkg/Kptfile":   kptfile("subpkg"),
		"subpkg/sub.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\n",
		"db/README.md":     "# not YAML\n",
		"plain/notes.txt":  "not YAML\n",
		"db/.expected/x.y": "kept\n",
	}
	exec := touching()
	out := render(t, exec, files)
	for _, p := range []string{".krmignore", ".expected/config.yaml", "ignored.yaml", "deep/ignored.yaml", "scratch/notes.yaml", "x.yml",
		"anchored.yaml", "plain/.krmignore", "db/.krmignore", "db/non-krm.yaml", "db/README.md", "plain/notes.txt", "db/.expected/x.y"} {
		if out[p] != files[p] {
			t.Errorf("%s changed: %q", p, out[p])
		}
	}
	for _, p := range []string{"deep/anchored.yaml", "app.yaml", "plain/app2.yaml", "db/ignored.yaml", "db/x.yml", "subpkg/sub.yaml", "Kptfile", "db/Kptfile", "subpkg/Kptfile"} {
		if yaml.MustParse(out[p]).GetAnnotations()["touched"] != "yes" {
			t.Errorf("%s was not rendered:\n%s", p, out[p])
		}
	}
	calls := exec.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want db's and the root's", len(calls))
	}
	if got, want := seen(calls[:1]), []string{"db/Kptfile", "db/ignored.yaml", "db/x.yml"}; !slices.Equal(got, want) {
		t.Errorf("db's function got %v, want %v", got, want)
	}
	got := seen(calls[1:])
	sort.Strings(got)
	want := []string{"Kptfile", "app.yaml", "db/Kptfile", "db/ignored.yaml", "db/x.yml", "deep/anchored.yaml", "plain/app2.yaml", "subpkg/Kptfile", "subpkg/sub.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("the root's function got %v, want %v", got, want)
	}
}

// kpt rewrites every file from the parsed resources; Render keeps the bytes
// of files whose resources did not change, and writes a changed file as
// kyaml's package writer does (annotations cleared, each document's own
// sequence indentation, comments kept, one resource in a .json file as
// JSON). The reference output here is kyaml's LocalPackageReadWriter with
// kpt's options, after the same change.
func TestRenderWritesLikeKpt(t *testing.T) {
	changed := map[string]string{
		"wide.yaml": `# head comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: wide # line comment
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx
          args: [a, b]
---
# second document, compact
apiVersion: v1
kind: ConfigMap
metadata:
  name: compact
  annotations: {keep: "me"}
data:
  list: |
    - not a sequence
  items: "x"
---
apiVersion: v1
kind: Service
metadata: {name: flow}
spec:
  ports:
  - port: 80
`,
		"crlf.yaml":   "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: crlf\r\ndata:\r\n  k: v\r\n",
		"deploy.json": "{\n  \"apiVersion\": \"apps/v1\",\n  \"kind\": \"Deployment\",\n  \"metadata\": {\"name\": \"json\"}\n}\n",
	}
	untouched := map[string]string{
		"odd.yaml":     "# keep\napiVersion: v1\nkind: Secret\nmetadata:   {name: odd,   annotations: {a: 'b'}}\n\n\n---\n# trailing comment document\n",
		"config.json":  "{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"cfg\"}}",
		"crlf-2.yaml":  "apiVersion: v1\r\nkind: Secret\r\nmetadata:\r\n  name: crlf2\r\n",
		"indexed.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: idx\n  annotations:\n    config.kubernetes.io/index: '7'\n",
	}
	kf := "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\npipeline:\n  mutators:\n  - image: " + touchImage + "\n    exclude:\n    - kind: Secret\n    - kind: Kptfile\n"
	files := map[string]string{"Kptfile": kf}
	maps.Copy(files, changed)
	maps.Copy(files, untouched)
	out := render(t, touching(), files)
	for p, content := range untouched {
		if out[p] != content {
			t.Errorf("%s was rewritten:\n%q\nwant\n%q", p, out[p], content)
		}
	}
	if out["Kptfile"] != kf {
		t.Error("the Kptfile, excluded, was rewritten")
	}
	want := kptWrite(t, files, func(n *yaml.RNode) bool { return n.GetKind() != "Secret" && n.GetKind() != "Kptfile" })
	for p := range changed {
		if out[p] != want[p] {
			t.Errorf("%s:\n%s\nkyaml's writer gives\n%s", p, out[p], want[p])
		}
	}
	if !json.Valid([]byte(out["deploy.json"])) || !strings.Contains(out["deploy.json"], `"touched": "yes"`) {
		t.Errorf("deploy.json is not the touched resource as JSON:\n%s", out["deploy.json"])
	}
	if !strings.Contains(out["wide.yaml"], "        - name: app") || !strings.Contains(out["wide.yaml"], "name: wide # line comment") {
		t.Errorf("wide.yaml lost its indentation or comments:\n%s", out["wide.yaml"])
	}
}

// kptWrite is what kpt writes for files after touching the resources sel
// picks: kyaml's package reader and writer, with kpt's options, on an
// in-memory copy of the package.
func kptWrite(t *testing.T, files map[string]string, sel func(*yaml.RNode) bool) map[string]string {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	for p, c := range files {
		if err := fsys.WriteFile("/pkg/"+p, []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	rw := &kio.LocalPackageReadWriter{PackagePath: "/pkg", PreserveSeqIndent: true, PackageFileName: "Kptfile", IncludeSubpackages: true,
		WrapBareSeqNode: true, MatchFilesGlob: append([]string{"Kptfile"}, kio.MatchAll...), FileSystem: filesys.FileSystemOrOnDisk{FileSystem: fsys}}
	err := kio.Pipeline{Inputs: []kio.Reader{rw}, Outputs: []kio.Writer{rw}, Filters: []kio.Filter{kio.FilterAll(yaml.FilterFunc(func(n *yaml.RNode) (*yaml.RNode, error) {
		if sel(n) {
			return n, n.PipeE(yaml.SetAnnotation("touched", "yes"))
		}
		return n, nil
	}))}}.Execute()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for p := range files {
		data, err := fsys.ReadFile("/pkg/" + p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = string(data)
	}
	return out
}

// kpt gives each function the path annotation relative to the resource's
// own package and the package in internal.config.kubernetes.io/package-path
// (Porch roots it at "/"); it joins the two only when writing
// (adjustRelPath). A resource a function adds without a path goes to
// [namespace/]kind_name.yaml in the function's package (kyaml's
// DefaultPathAnnotation, kpt's setPkgPathAnnotationIfNotExist); a path
// into a subdirectory is kept (e2e path-index-descendent).
func TestRenderPathsAreRelativeToThePackage(t *testing.T) {
	files := map[string]string{
		"Kptfile":           kptfile("root", "example.com/gen-root:v1"),
		"app.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
		"db/Kptfile":        kptfile("db", "example.com/gen-db:v1"),
		"db/resources.yaml": "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n",
	}
	add := func(docs ...string) krmtest.Script {
		return func(_ context.Context, _ krm.Function, in *framework.ResourceList) (*krm.Output, error) {
			items := in.Items
			for _, d := range docs {
				items = append(items, yaml.MustParse(d))
			}
			return &krm.Output{Items: items}, nil
		}
	}
	exec := krmtest.NewExecutor().
		On("example.com/gen-db:v1", add("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gen\n  namespace: prod\n")).
		On("example.com/gen-root:v1", add("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: placed\n  annotations:\n    internal.config.kubernetes.io/path: ./db/extra/placed.yaml\n"))
	out := render(t, exec, files)
	calls := exec.Calls()
	annotationsOf := func(c krmtest.Call) []string {
		var s []string
		for _, n := range c.Items {
			a := n.GetAnnotations()
			s = append(s, fmt.Sprintf("%s %s %s %s", n.GetName(), a["internal.config.kubernetes.io/package-path"], a[kioutil.PathAnnotation], a[kioutil.LegacyPathAnnotation]))
		}
		return s
	}
	if got, want := annotationsOf(calls[0]), []string{"db /db Kptfile Kptfile", "db /db resources.yaml resources.yaml"}; !slices.Equal(got, want) {
		t.Errorf("db's function got %v, want %v", got, want)
	}
	want := []string{"root / Kptfile Kptfile", "app / app.yaml app.yaml", "db /db Kptfile Kptfile", "db /db resources.yaml resources.yaml",
		"gen /db prod/configmap_gen.yaml prod/configmap_gen.yaml"}
	if got := annotationsOf(calls[1]); !slices.Equal(got, want) {
		t.Errorf("the root's function got %v, want %v", got, want)
	}
	for p, name := range map[string]string{"db/prod/configmap_gen.yaml": "gen", "db/extra/placed.yaml": "placed"} {
		n, err := yaml.Parse(out[p])
		if err != nil || n.GetName() != name || len(n.GetAnnotations()) != 0 {
			t.Errorf("%s: %v\n%s", p, err, out[p])
		}
	}
	if len(out) != len(files)+2 {
		t.Errorf("%d files, want %d: %v", len(out), len(files)+2, slices.Sorted(maps.Keys(out)))
	}
}

// kpt's function runner refuses output that leaves the package
// (enforcePathInvariants; e2e path-index-ancestor, path-index-outofpackage)
// or puts two resources at one path and index (path-index-duplicate), and
// output that is not KRM; the render then fails and writes nothing.
func TestRenderRefusesMisplacedOutput(t *testing.T) {
	files := map[string]string{
		"Kptfile":           kptfile("root"),
		"app.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
		"db/Kptfile":        kptfile("db", touchImage, "example.com/bad:v1"),
		"db/resources.yaml": "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n",
	}
	for name, tc := range map[string]struct {
		annotations string
		doc         string
		field       string
		reason      string
	}{
		"parent":    {annotations: "internal.config.kubernetes.io/path: ../deployment.yaml", field: kioutil.PathAnnotation, reason: "outside of package"},
		"elsewhere": {annotations: "internal.config.kubernetes.io/path: ../notpkg/x.yaml", field: kioutil.PathAnnotation, reason: "outside of package"},
		"absolute":  {annotations: "internal.config.kubernetes.io/path: /etc/x.yaml", field: kioutil.PathAnnotation, reason: "outside of package"},
		"duplicate": {annotations: "internal.config.kubernetes.io/path: resources.yaml\n    internal.config.kubernetes.io/index: '0'", field: kioutil.IndexAnnotation, reason: "already exists"},
		"no name":   {doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n", field: "metadata.name", reason: "output resource list"},
	} {
		t.Run(name, func(t *testing.T) {
			doc := tc.doc
			if doc == "" {
				doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gen\n  annotations:\n    " + tc.annotations + "\n"
			}
			exec := touching().On("example.com/bad:v1", func(_ context.Context, _ krm.Function, in *framework.ResourceList) (*krm.Output, error) {
				return &krm.Output{Items: append(in.Items, yaml.MustParse(doc))}, nil
			})
			original := maps.Clone(files)
			out, result, err := krm.Render(context.Background(), exec, files)
			var re *krm.ResourceError
			var rerr *krm.RenderError
			if !errors.As(err, &re) || !errors.As(err, &rerr) || !errors.Is(err, krm.ErrBadOutput) || out != nil {
				t.Fatalf("err %v, out %v", err, out != nil)
			}
			if re.Field != tc.field || !strings.Contains(err.Error(), tc.reason) || rerr.Package != "db" || rerr.Function != "example.com/bad:v1" {
				t.Errorf("error %v names field %q, package %q, function %q", err, re.Field, rerr.Package, rerr.Function)
			}
			if !maps.Equal(files, original) {
				t.Error("a failed render changed its input")
			}
			if last := result.Runs[len(result.Runs)-1]; last.Err == nil || last.Function != "example.com/bad:v1" {
				t.Errorf("the failed run is not recorded: %+v", last)
			}
		})
	}
}

// kpt checks that every function's input holds only KRM resources
// (kustomization files exempt), and a package without a pipeline too
// (e2e non-krm-resource, non-krm-resource-no-pipeline,
// krm-check-exclude-kustomize).
func TestRenderRefusesNonKRMInput(t *testing.T) {
	nonKRM := "# a patch\nNon-krm-resource: true\n"
	for name, tc := range map[string]struct {
		files    map[string]string
		path     string
		field    string
		function string
	}{
		"with a pipeline": {files: map[string]string{"Kptfile": kptfile("app", touchImage), "non-krm.yaml": nonKRM}, path: "non-krm.yaml", field: "apiVersion", function: touchImage},
		"no pipeline":     {files: map[string]string{"Kptfile": kptfile("app"), "non-krm.yaml": nonKRM}, path: "non-krm.yaml", field: "apiVersion"},
		"no kind":         {files: map[string]string{"Kptfile": kptfile("app", touchImage), "sub/x.yaml": "apiVersion: v1\nmetadata:\n  name: x\n"}, path: "sub/x.yaml", field: "kind", function: touchImage},
		"in a subpackage": {files: map[string]string{"Kptfile": kptfile("app", touchImage), "db/Kptfile": kptfile("db"), "db/seq.yaml": "- a\n- b\n"}, path: "db/seq.yaml", field: "apiVersion"},
	} {
		t.Run(name, func(t *testing.T) {
			out, _, err := krm.Render(context.Background(), touching(), tc.files)
			var re *krm.ResourceError
			var rerr *krm.RenderError
			if !errors.As(err, &re) || !errors.Is(err, krm.ErrBadInput) || !errors.As(err, &rerr) || out != nil {
				t.Fatalf("err %v", err)
			}
			if re.Path != tc.path || re.Field != tc.field || rerr.Function != tc.function || !strings.Contains(err.Error(), "must contain only KRM resources") {
				t.Errorf("%v: path %q field %q function %q", err, re.Path, re.Field, rerr.Function)
			}
		})
	}
	// Kustomizations need no metadata.
	files := map[string]string{
		"Kptfile":            kptfile("app", touchImage),
		"kustomization.yaml": "resources:\n- app.yaml\n",
		"extra/custom.yaml":  "kind: Kustomization\nresources: []\n",
		"app.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
	}
	out := render(t, touching(), files)
	if !strings.Contains(out["kustomization.yaml"], "touched") || !strings.Contains(out["app.yaml"], "touched") {
		t.Errorf("kustomization not rendered:\n%s", out["kustomization.yaml"])
	}
}

// kpt gives a step with selectors only the resources they choose and puts
// the step's output back in place (fnruntime.MergeWithInput): a changed
// resource keeps its position, a deleted one goes, new ones come last.
// Empty exclusions exclude nothing.
func TestRenderSelectiveStepMergesInPlace(t *testing.T) {
	kf := `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: app
pipeline:
  mutators:
  - image: example.com/swap:v1
    selectors:
    - kind: ConfigMap
      labels:
        pick: "yes"
    exclude:
    - {}
    - name: d
  - image: example.com/record:v1
`
	cm := func(name, labels string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  labels: {" + labels + "}\n---\n"
	}
	files := map[string]string{"Kptfile": kf, "cms.yaml": cm("a", "") + cm("b", "pick: 'yes'") + cm("c", "pick: 'no'") + cm("d", "pick: 'yes'") + cm("e", "pick: 'yes'")}
	exec := krmtest.NewExecutor().On("example.com/swap:v1", func(_ context.Context, _ krm.Function, in *framework.ResourceList) (*krm.Output, error) {
		// Rename b, delete e, add f.
		var out []*yaml.RNode
		for _, n := range in.Items {
			switch n.GetName() {
			case "b":
				if err := n.SetName("b2"); err != nil {
					return nil, err
				}
				out = append(out, n)
			case "e":
			default:
				out = append(out, n)
			}
		}
		return &krm.Output{Items: append(out, yaml.MustParse(cm("f", "")))}, nil
	})
	out := render(t, exec, files)
	calls := exec.Calls()
	names := func(c krmtest.Call) []string {
		var s []string
		for _, n := range c.Items {
			s = append(s, n.GetName())
		}
		return s
	}
	if got := names(calls[0]); !slices.Equal(got, []string{"b", "e"}) {
		t.Errorf("the selective step got %v, want [b e]", got)
	}
	if got := names(calls[1]); !slices.Equal(got, []string{"app", "a", "b2", "c", "d", "f"}) {
		t.Errorf("the next step got %v, want [app a b2 c d f]", got)
	}
	for _, n := range calls[1].Items {
		if _, ok := n.GetAnnotations()["internal.config.kubernetes.io/kpt-resource-id"]; ok {
			t.Errorf("%s still carries the selection id", n.GetName())
		}
	}
	if !strings.Contains(out["cms.yaml"], "name: b2") || strings.Contains(out["cms.yaml"], "name: e\n") || !strings.Contains(out["configmap_f.yaml"], "name: f") {
		t.Errorf("cms.yaml:\n%s\nconfigmap_f.yaml:\n%s", out["cms.yaml"], out["configmap_f.yaml"])
	}
}

// kpt passes the configPath resource to its function as an item too, and
// refreshes the functionConfig from what earlier steps made of it (e2e
// fnconfig, fnconfig-updated-in-render); a configPath must hold one
// resource of the package's own.
func TestRenderConfigPathResourceIsAnItem(t *testing.T) {
	kf := `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: app
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - image: gcr.io/kpt-fn/set-namespace:v0.4.1
    configMap:
      namespace: staging
  - image: gcr.io/kpt-fn/set-labels:v0.2.0
    configPath: labelconfig.yaml
`
	files := map[string]string{
		"Kptfile":          kf,
		"labelconfig.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: label-config\ndata:\n  tier: db\n",
		"resources.yaml":   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\n",
	}
	out := render(t, krm.NewRunner(krm.RunnerConfig{}), files)
	cfg := yaml.MustParse(out["labelconfig.yaml"])
	if cfg.GetLabels()["tier"] != "db" || cfg.GetNamespace() != "staging" {
		t.Errorf("labelconfig.yaml was not rendered as an item:\n%s", out["labelconfig.yaml"])
	}
	if d := yaml.MustParse(out["resources.yaml"]); d.GetLabels()["tier"] != "db" {
		t.Errorf("resources.yaml:\n%s", out["resources.yaml"])
	}

	for name, tc := range map[string]struct{ configPath, extra string }{
		"two resources":   {"labelconfig.yaml", "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n"},
		"outside":         {"../labelconfig.yaml", ""},
		"in a subpackage": {"db/cfg.yaml", ""},
	} {
		t.Run(name, func(t *testing.T) {
			bad := maps.Clone(files)
			bad["Kptfile"] = strings.Replace(kf, "configPath: labelconfig.yaml", "configPath: "+tc.configPath, 1)
			bad["labelconfig.yaml"] += tc.extra
			bad["db/Kptfile"] = kptfile("db")
			bad["db/cfg.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\n"
			_, _, err := krm.Render(context.Background(), krm.NewRunner(krm.RunnerConfig{}), bad)
			var rerr *krm.RenderError
			if !errors.Is(err, krm.ErrBadInput) || !errors.As(err, &rerr) || !strings.Contains(err.Error(), "configPath") {
				t.Fatalf("err %v", err)
			}
		})
	}
}

// A failing step after one that changed resources in place leaves the
// input as it was and returns no files (kpt writes nothing when the
// pipeline fails).
func TestRenderFailureAfterInPlaceChanges(t *testing.T) {
	files := map[string]string{
		"Kptfile":  kptfile("app", touchImage, failImage),
		"app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
	}
	original := maps.Clone(files)
	boom := errors.New("boom")
	exec := touching().Fail(failImage, boom)
	out, result, err := krm.Render(context.Background(), exec, files)
	var rerr *krm.RenderError
	if !errors.Is(err, boom) || !errors.As(err, &rerr) || rerr.Function != failImage || out != nil {
		t.Fatalf("err %v, out %v", err, out != nil)
	}
	if !maps.Equal(files, original) {
		t.Fatal("the input changed")
	}
	if len(result.Runs) != 2 || result.Runs[0].Err != nil || result.Runs[1].Err == nil {
		t.Fatalf("runs %+v", result.Runs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := krm.Render(ctx, touching(), files); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled render: %v", err)
	}
}
