//lint:file-ignore SA1019 the upsert keeps the legacy path annotation kpt reads

package catalog_test

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm/catalog"
)

func withPath(t *testing.T, s, path string) *yaml.RNode {
	t.Helper()
	n := yaml.MustParse(s)
	for _, k := range []string{kioutil.PathAnnotation, kioutil.LegacyPathAnnotation} {
		if err := n.PipeE(yaml.SetAnnotation(k, path)); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestUpsertResource covers the catalog's rules: every match is replaced in
// its file, a List is unwrapped, target-path picks the file, a legacy
// function config is never replaced.
func TestUpsertResource(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: n\ndata:\n  v: old\n"
	rl := list(`apiVersion: v1
kind: List
metadata:
  name: upserts
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: c
    namespace: n
    annotations:
      z: last
      a: first
  data:
    v: new
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: c
    namespace: n
    annotations:
      config.kubernetes.io/target-path: other.yaml
  data:
    v: targeted
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: added
`)
	rl.Items = []*yaml.RNode{withPath(t, cm, "a.yaml"), withPath(t, cm, "b.yaml"),
		withPath(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: n\n  annotations:\n    config.kubernetes.io/function: |\n      container: {image: x}\n", "fn.yaml")}
	if err := catalog.UpsertResource(rl); err != nil {
		t.Fatal(err)
	}
	if len(rl.Items) != 5 {
		t.Fatalf("%d items, want 3 kept and 2 added", len(rl.Items))
	}
	for i, path := range []string{"a.yaml", "b.yaml"} {
		n := rl.Items[i]
		if field(t, n, "data.v") != "new" || n.GetAnnotations()[kioutil.PathAnnotation] != path {
			t.Fatalf("item %d: %s", i, n.MustString())
		}
		if keys, _ := n.Pipe(yaml.Lookup("metadata", "annotations")); keys == nil || keys.Content()[0].Value != "a" {
			t.Fatalf("annotations are written sorted: %s", n.MustString())
		}
	}
	if rl.Items[2].GetAnnotations()["config.kubernetes.io/function"] == "" {
		t.Fatal("a function config was replaced")
	}
	targeted := rl.Items[3]
	if field(t, targeted, "data.v") != "targeted" || targeted.GetAnnotations()[kioutil.PathAnnotation] != "other.yaml" ||
		targeted.GetAnnotations()["config.kubernetes.io/target-path"] != "" {
		t.Fatalf("target-path: %s", targeted.MustString())
	}
	if added := rl.Items[4]; added.GetKind() != "Deployment" || added.GetAnnotations()[kioutil.PathAnnotation] != "" {
		t.Fatalf("added: %s", added.MustString())
	}

	empty := list("apiVersion: v1\nkind: List\nmetadata:\n  name: none\n", cm)
	if err := catalog.UpsertResource(empty); err != nil || len(empty.Items) != 1 {
		t.Fatalf("a List without items: %v, %d items", err, len(empty.Items))
	}
}
