package krm_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
)

// protocolCorpus is resources to send to functions: every YAML file of the
// catalog's examples, and the shapes kio's writer and reader treat apart
// (comments, empty annotations or metadata, flow style, aliases, long and
// block strings, nodes that are not objects).
func protocolCorpus(t *testing.T) []*yaml.RNode {
	t.Helper()
	texts := []string{
		"# head\napiVersion: v1 # line\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {}\n# foot\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: ~\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: ~\n  annotations: {x: y}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  annotations:\n    x: y\n  # trailing comment\n\n\n# foot of doc\n",
		"a: &x {b: c}\nd: *x\n",
		"- 1\n- 2\n",
		"scalar\n",
		"~\n",
		"{apiVersion: v1, kind: ConfigMap, metadata: {name: f}}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: long\ndata:\n  k: " + strings.Repeat("word ", 60) + "\n  l: |\n    line1\n    line2\n  m: >-\n    folded\n    text\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: seq\ndata:\n  s:\n    - a\n    - b\n",
		"apiVersion: v1\n\nkind: ConfigMap\n\n# between\nmetadata:\n  name: blank\n",
	}
	err := filepath.WalkDir("catalog/testdata/examples", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || d.Name() == "Kptfile") {
			return err
		}
		b, err := os.ReadFile(p)
		texts = append(texts, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*yaml.RNode
	for _, s := range texts {
		if read, err := (&kio.ByteReader{Reader: strings.NewReader(s), OmitReaderAnnotations: true}).Read(); err == nil {
			nodes = append(nodes, read...)
		}
		if n, err := yaml.Parse(s); err == nil {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) < 200 {
		t.Fatalf("only %d resources", len(nodes))
	}
	return nodes
}

// TestEncodeResourceListAsKio: what a process function reads is byte for
// byte what kio's ByteWriter writes for the same list (keeping the reader
// annotations, as kpt does), and writing it leaves the resources as they
// were; a list kio cannot write is refused the same way.
func TestEncodeResourceListAsKio(t *testing.T) {
	nodes := protocolCorpus(t)
	configs := []*yaml.RNode{nil, yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c # x\n# head\ndata:\n  a: b\n# foot\n")}
	check := func(items []*yaml.RNode, fc *yaml.RNode) {
		t.Helper()
		rl := &framework.ResourceList{Items: items, FunctionConfig: fc}
		var before []string
		for _, n := range items {
			before = append(before, n.MustString())
		}
		var want bytes.Buffer
		werr := kio.ByteWriter{Writer: &want, WrappingKind: kio.ResourceListKind, WrappingAPIVersion: kio.ResourceListAPIVersion,
			FunctionConfig: fc, KeepReaderAnnotations: true}.Write(items)
		got, err := krm.EncodeResourceList(rl)
		switch {
		case werr != nil:
			if err == nil || err.Error() != fmt.Sprintf("%v: %v", krm.ErrBadInput, werr) {
				t.Errorf("kio fails with %v; EncodeResourceList with %v", werr, err)
			}
		case err != nil:
			t.Errorf("kio writes the list; EncodeResourceList fails: %v", err)
		case !bytes.Equal(got, want.Bytes()):
			t.Errorf("EncodeResourceList:\n%s\nkio:\n%s", got, want.Bytes())
		}
		for i, n := range items {
			if n.MustString() != before[i] {
				t.Errorf("writing changed item %d:\n%s", i, n.MustString())
			}
		}
	}
	check(nil, nil)
	check(nil, configs[1])
	for i, n := range nodes {
		check([]*yaml.RNode{n}, configs[i%2])
		check([]*yaml.RNode{nodes[(i*7)%len(nodes)], n}, configs[(i+1)%2])
	}
	check(nodes, configs[1])
}

// TestDecodeResourceListAsKio: the items read back from a function are
// those kio's ByteReader reads, for one document or several, Windows line
// ends, and lists without items.
func TestDecodeResourceListAsKio(t *testing.T) {
	var outputs []string
	for _, n := range protocolCorpus(t) {
		b, err := krm.EncodeResourceList(&framework.ResourceList{Items: []*yaml.RNode{n}})
		if err != nil {
			continue
		}
		outputs = append(outputs, string(b), string(b)+"results:\n- message: m\n  severity: info\n",
			string(b)+"---\napiVersion: v1\nkind: X\n", strings.ReplaceAll(string(b), "\n", "\r\n"))
	}
	outputs = append(outputs, "kind: ResourceList\n", "kind: ResourceList\nitems: {a: b}\n", "kind: ResourceList\nitems: x\n",
		"kind: ResourceList\nfunctionConfig: {a: b}\n", "---\nkind: ResourceList\nitems: [{a: 1}]\n", "kind: ResourceList\nitems: [{a: 1}]\n---\n")
	for _, out := range outputs {
		rl, err := krm.DecodeResourceList([]byte(out))
		if err != nil {
			t.Errorf("%q: %v", out, err)
			continue
		}
		want, err := (&kio.ByteReader{Reader: strings.NewReader(out), OmitReaderAnnotations: true}).Read()
		if err != nil {
			t.Fatalf("kio: %v", err)
		}
		if got, exp := nodeDump(rl.Items), nodeDump(want); got != exp {
			t.Errorf("%q:\nitems\n%s\nkio reads\n%s", out, got, exp)
		}
	}
}

// nodeDump is every field of the nodes, comments and positions included.
func nodeDump(items []*yaml.RNode) string {
	var b strings.Builder
	var dump func(n *yaml.Node, depth int)
	dump = func(n *yaml.Node, depth int) {
		fmt.Fprintf(&b, "%*s%d %q %d %q %q %q %q %q %d:%d\n", depth, "", n.Kind, n.Tag, n.Style, n.Value, n.Anchor,
			n.HeadComment, n.LineComment, n.FootComment, n.Line, n.Column)
		for _, c := range n.Content {
			dump(c, depth+1)
		}
	}
	for _, n := range items {
		dump(n.YNode(), 0)
		b.WriteString("--\n")
	}
	return b.String()
}
