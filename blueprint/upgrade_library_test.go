package blueprint_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/blueprint"
	"github.com/nephoran/porchkit/blueprint/library"
)

// generated is a shipped blueprint version generated with its defaults.
func generated(t *testing.T, name, version string) map[string]string {
	t.Helper()
	bp, err := library.Blueprint(name, version)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := blueprint.Generate(context.Background(), bp, nil, blueprint.Name(name+"-edge"))
	if err != nil {
		t.Fatalf("generate %s %s: %v", name, version, err)
	}
	return pkg.Files
}

// edit is one downstream change the test makes and expects kept.
type edit struct {
	key      blueprint.ResourceKey
	path     []string
	value    string // JSON
	conflict bool   // the new upstream changes the same field
}

func (e edit) String() string { return e.key.String() + " " + strings.Join(e.path, ".") }

func lookup(n *yaml.RNode, path []string) *yaml.RNode {
	v, err := n.Pipe(yaml.Lookup(path...))
	if err != nil {
		return nil
	}
	return v
}

func jsonOf(t *testing.T, n *yaml.RNode) string {
	t.Helper()
	var v any
	if err := n.YNode().Decode(&v); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func keyOfNode(n *yaml.RNode) blueprint.ResourceKey {
	group, _, ok := strings.Cut(n.GetApiVersion(), "/")
	if !ok {
		group = ""
	}
	return blueprint.ResourceKey{Group: group, Kind: n.GetKind(), Namespace: n.GetNamespace(), Name: n.GetName()}
}

// customise edits the generated v1 as an operator would, and returns the
// edits: a label on every resource, replicas on every workload, and, on
// every scalar field the new upstream changes, a value of its own (a
// conflict).
func customise(t *testing.T, files map[string]string, upstreamChanges map[string][]string) (map[string]string, []edit) {
	t.Helper()
	out := map[string]string{}
	var edits []edit
	for file, text := range files {
		if file == "Kptfile" || !(strings.HasSuffix(file, ".yaml") || strings.HasSuffix(file, ".yml")) {
			out[file] = text
			continue
		}
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(text), OmitReaderAnnotations: true}).Read()
		if err != nil {
			t.Fatal(err)
		}
		var docs []string
		for _, n := range nodes {
			k := keyOfNode(n)
			labels := n.GetLabels()
			labels["porchkit.dev/site"] = "edge-1"
			if err := n.SetLabels(labels); err != nil {
				t.Fatal(err)
			}
			edits = append(edits, edit{key: k, path: []string{"metadata", "labels", "porchkit.dev/site"}, value: `"edge-1"`})
			if r := lookup(n, []string{"spec", "replicas"}); r != nil && r.YNode().Kind == yaml.ScalarNode {
				r.YNode().Value = "4"
				edits = append(edits, edit{key: k, path: []string{"spec", "replicas"}, value: "4"})
			}
			for _, p := range upstreamChanges[k.String()] {
				path := strings.Split(p, ".")
				f := lookup(n, path)
				if f == nil || f.YNode().Kind != yaml.ScalarNode || f.YNode().Tag != "!!str" {
					continue
				}
				f.YNode().Value = "downstream-" + f.YNode().Value
				f.YNode().Style = yaml.DoubleQuotedStyle
				edits = append(edits, edit{key: k, path: path, value: jsonOf(t, f), conflict: true})
			}
			docs = append(docs, n.MustString())
		}
		out[file] = strings.Join(docs, "---\n")
	}
	return out, edits
}

// fieldIn reads a field of a resource of files, as JSON ("" when absent).
func fieldIn(t *testing.T, files map[string]string, key blueprint.ResourceKey, path []string) string {
	t.Helper()
	for file, text := range files {
		if !(file == "Kptfile" || strings.HasSuffix(file, ".yaml") || strings.HasSuffix(file, ".yml")) {
			continue
		}
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(text), OmitReaderAnnotations: true}).Read()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, n := range nodes {
			if keyOfNode(n) == key {
				if f := lookup(n, path); f != nil {
					return jsonOf(t, f)
				}
				return ""
			}
		}
	}
	return ""
}

// TestUpgradeShippedBlueprintsKeepsCustomizations upgrades every shipped
// blueprint v1.0.0 -> v2.0.0 under downstream edits (a label on every
// resource, replicas, and a value of its own on every string field the new
// upstream changes) and checks the bar: 0 customisations lost, every
// conflicting field reported before anything is created, every upstream
// change taken where the downstream left the field alone.
func TestUpgradeShippedBlueprintsKeepsCustomizations(t *testing.T) {
	for _, name := range library.Names() {
		t.Run(name, func(t *testing.T) {
			v1 := generated(t, name, "v1.0.0")
			v2 := generated(t, name, "v2.0.0")
			// What the new upstream changes, from the preview of an
			// untouched downstream.
			plain, err := blueprint.PreviewUpgrade(v1, v2, v1, blueprint.PreviewOptions{})
			if err != nil {
				t.Fatal(err)
			}
			changes := map[string][]string{}
			upstreamOnly := 0
			for _, r := range plain.Resources {
				for _, f := range r.Fields {
					if f.UpstreamChanged() {
						changes[r.Key.String()] = append(changes[r.Key.String()], f.Path)
					}
				}
			}
			local, edits := customise(t, v1, changes)
			conflicts := 0
			for _, e := range edits {
				if e.conflict {
					conflicts++
				}
			}
			if conflicts == 0 {
				t.Fatalf("v2 of %s changes no string field the test can edit; the test proves nothing", name)
			}

			p, err := blueprint.PreviewUpgrade(v1, v2, local, blueprint.PreviewOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Lost) != 0 {
				t.Errorf("lost %v", p.Lost)
			}
			for _, e := range edits {
				if got := fieldIn(t, p.Merged, e.key, e.path); got != e.value {
					t.Errorf("customisation %s lost: merged %s, downstream %s", e, got, e.value)
				}
			}
			reported := map[string]bool{}
			for _, c := range p.Conflicts {
				reported[c.Resource.String()+" "+c.Path] = true
			}
			for _, e := range edits {
				if e.conflict && !reported[e.String()] {
					t.Errorf("conflict on %s not reported", e)
				}
			}
			if len(p.Conflicts) != conflicts {
				t.Errorf("%d conflicts reported, %d made", len(p.Conflicts), conflicts)
			}
			// Upstream changes to fields the downstream left alone arrive.
			edited := map[string]bool{}
			for _, e := range edits {
				edited[e.String()] = true
			}
			for _, r := range plain.Resources {
				for _, f := range r.Fields {
					path := strings.Split(f.Path, ".")
					if !f.UpstreamChanged() || edited[r.Key.String()+" "+f.Path] || !f.NewUpstream.Present {
						continue
					}
					if got := fieldIn(t, p.Merged, r.Key, path); got != "" && got != f.NewUpstream.JSON {
						t.Errorf("upstream change %s %s not taken: %s, want %s", r.Key, f.Path, got, f.NewUpstream.JSON)
					}
					upstreamOnly++
				}
			}

			// FailOnConflict names every conflicting field, before anything
			// exists.
			_, err = blueprint.PreviewUpgrade(v1, v2, local, blueprint.PreviewOptions{Policy: blueprint.FailOnConflict})
			var ce *blueprint.ConflictError
			if !errors.As(err, &ce) || len(ce.Conflicts) != conflicts {
				t.Errorf("FailOnConflict: %v", err)
			}
			t.Logf("%s v1.0.0 -> v2.0.0: %d customisations kept (%d conflicting, all reported), %d upstream changes taken, %d resources",
				name, len(edits), conflicts, upstreamOnly, len(p.Resources))
		})
	}
}

// BenchmarkPreviewUpgradeUPF measures the upgrade preview of the largest
// shipped blueprint (UPF, about 50 resources) under the test's downstream
// edits.
func BenchmarkPreviewUpgradeUPF(b *testing.B) {
	t := &testing.T{}
	v1 := generated(t, "upf", "v1.0.0")
	v2 := generated(t, "upf", "v2.0.0")
	plain, err := blueprint.PreviewUpgrade(v1, v2, v1, blueprint.PreviewOptions{})
	if err != nil {
		b.Fatal(err)
	}
	changes := map[string][]string{}
	for _, r := range plain.Resources {
		for _, f := range r.Fields {
			if f.UpstreamChanged() {
				changes[r.Key.String()] = append(changes[r.Key.String()], f.Path)
			}
		}
	}
	local, _ := customise(t, v1, changes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := blueprint.PreviewUpgrade(v1, v2, local, blueprint.PreviewOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(plain.Resources)), "resources")
}
