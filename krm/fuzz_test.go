package krm_test

import (
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
