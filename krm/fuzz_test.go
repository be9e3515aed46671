package krm_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/nephoran/porchkit/krm"
)

// FuzzDecodeResourceList: the reader never panics, and what it accepts
// survives a write and a second read.
func FuzzDecodeResourceList(f *testing.F) {
	f.Add([]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n"))
	f.Add([]byte("kind: ResourceList\nitems: []\nresults:\n- message: m\n  severity: warning\n"))
	f.Add([]byte("kind: ResourceList\nitems: {}\n"))
	f.Add([]byte("kind: ResourceList\nfunctionConfig: []\nitems:\n- 1\n"))
	f.Add([]byte("[1, 2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rl, err := krm.DecodeResourceList(data)
		if err != nil {
			return
		}
		out, err := krm.EncodeResourceList(rl)
		if err != nil {
			return // items that are not objects cannot be written back
		}
		again, err := krm.DecodeResourceList(out)
		if err != nil {
			t.Fatalf("re-reading our own output failed: %v\n%s", err, out)
		}
		if len(again.Items) != len(rl.Items) {
			t.Fatalf("%d items, then %d", len(rl.Items), len(again.Items))
		}
	})
}

// FuzzRender: Render never panics on any file content or .krmignore, and
// a package without a pipeline that renders comes back byte for byte (kpt
// would only check that it holds KRM resources).
func FuzzRender(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"), []byte(""))
	f.Add([]byte("# only a comment\n---\n---\n"), []byte("*.yml\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nmetadata:\n  name: l\nitems:\n- kind: ConfigMap\n"), []byte("/x/\n!a.yaml\n"))
	f.Add([]byte("- a\n- b\n"), []byte("a.yaml\n"))
	f.Add([]byte("a: [1, 2\n"), []byte("[\n"))
	f.Add([]byte("apiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: c, annotations: {config.kubernetes.io/index: x}}\r\n"), []byte("\\"))
	f.Fuzz(func(t *testing.T, content, ignore []byte) {
		files := map[string]string{
			"Kptfile":    "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: fuzz\n",
			"a.yaml":     string(content),
			"x/b.json":   string(content),
			".krmignore": string(ignore),
		}
		out, _, err := krm.Render(context.Background(), krm.NewRunner(krm.RunnerConfig{}), files)
		if err != nil {
			if !errors.Is(err, krm.ErrBadInput) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if !maps.Equal(out, files) {
			t.Fatalf("a package without a pipeline changed:\n%v", out)
		}
	})
}
