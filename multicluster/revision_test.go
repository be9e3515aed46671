package multicluster_test

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
)

func TestRevisionIDsFollowContent(t *testing.T) {
	id := func(docs ...string) string {
		t.Helper()
		var nodes []*yaml.RNode
		for _, d := range docs {
			nodes = append(nodes, yaml.MustParse(d))
		}
		rev, err := multicluster.NewRevision("web", "v1", nodes)
		if err != nil {
			t.Fatal(err)
		}
		return rev.ID
	}
	base := id("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  replicas: \"2\"\n")
	same := map[string]string{
		"a comment":      "apiVersion: v1\nkind: ConfigMap # the config\nmetadata:\n  name: web\ndata:\n  replicas: \"2\"\n",
		"another quote":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  replicas: '2'\n",
		"a flow mapping": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {replicas: \"2\"}\n",
		"an old revision annotation": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  annotations:\n    porchkit.io/revision: v0-123\n" +
			"data:\n  replicas: \"2\"\n",
	}
	for name, doc := range same {
		if got := id(doc); got != base {
			t.Errorf("%s changed the ID: %s, want %s", name, got, base)
		}
	}
	differ := map[string][]string{
		"a value":              {"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  replicas: \"3\"\n"},
		"a tag (int, not str)": {"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  replicas: 2\n"},
		"a key":                {"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  replica: \"2\"\n"},
		"a second resource": {"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  replicas: \"2\"\n",
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\n"},
		"a value moved to another key": {"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  replicas2: \"\"\n"},
	}
	seen := map[string]string{base: "base"}
	for name, docs := range differ {
		got := id(docs...)
		if prev, ok := seen[got]; ok {
			t.Errorf("%s gives the ID of %s: %s", name, prev, got)
		}
		seen[got] = name
	}
}
