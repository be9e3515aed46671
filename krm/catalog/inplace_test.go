package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/hasher"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm/catalog"
)

// The functions here change the resources in place instead of copying
// them; these tests check what that must not change: a failure leaves
// every resource as it was, and the results are the catalog's.

const annotateOwner = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  owner: ops\n  team: blue\n"

func TestSetAnnotationsFailureChangesNothing(t *testing.T) {
	cases := []struct {
		name, config, message string
		items                 []string
	}{
		{name: "a pod template that is a string", config: annotateOwner,
			items:   []string{deployment, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\nspec:\n  template: none\n"},
			message: "considering field 'spec/template/metadata/annotations' of object Deployment.v1.apps/bad.[noNs]: expected sequence or mapping node"},
		{name: "annotations that are a list", config: annotateOwner,
			items:   []string{deployment, "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations: [a]\n"},
			message: "wrong node kind: expected MappingNode but got SequenceNode"},
		{name: "a field under an annotation being set", items: []string{deployment},
			config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: SetAnnotations\nmetadata:\n  name: c\nannotations:\n  owner: ops\n  team: blue\n" +
				"additionalAnnotationFields:\n- path: metadata/annotations/owner/x\n  create: true\n",
			message: "considering field 'metadata/annotations/owner/x' of object Deployment.v1.apps/app.[noNs]: expected sequence or mapping node"},
		{name: "no name", config: annotateOwner, items: []string{deployment, "apiVersion: v1\nkind: Service\nmetadata:\n  labels: {a: b}\n"},
			message: "missing metadata.name in object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rl := list(tc.config, tc.items...)
			before := make([]string, len(rl.Items))
			for i, n := range rl.Items {
				before[i] = n.MustString()
			}
			err := catalog.SetAnnotations(rl)
			var cerr *catalog.ConfigError
			if err == nil || errors.As(err, &cerr) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %v, want a failed run: %s", err, tc.message)
			}
			if len(rl.Results) != 1 || rl.Results[0].Severity != "error" || rl.Results[0].Message != err.Error() {
				t.Errorf("results %v, want the error alone", rl.Results)
			}
			for i, n := range rl.Items {
				if got := n.MustString(); got != before[i] {
					t.Errorf("resource %d changed:\n%s", i, got)
				}
			}
		})
	}
}

// TestSetAnnotationsDuplicatesAsKustomize: two resources with the same
// identity fail the run with the error of kustomize's resource map, which
// the catalog builds.
func TestSetAnnotationsDuplicatesAsKustomize(t *testing.T) {
	cm := func(name, ns string) string {
		s := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
		if ns != "" {
			s += "  namespace: " + ns + "\n"
		}
		return s
	}
	role := func(ns string) string {
		return "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n  namespace: " + ns + "\n"
	}
	cases := []struct {
		name  string
		items []string
		dup   bool
	}{
		{name: "unset and default namespace", items: []string{cm("a", ""), cm("b", ""), cm("a", "default")}, dup: true},
		{name: "other namespaces", items: []string{cm("a", "x"), cm("a", "y"), cm("a", "")}},
		{name: "cluster-scoped kind in two namespaces", items: []string{role("x"), cm("a", ""), role("y")}, dup: true},
		{name: "other group", items: []string{cm("a", ""), strings.Replace(cm("a", ""), "apiVersion: v1", "apiVersion: example.com/v1", 1)}},
		{name: "the same twice", items: []string{deployment, deployment}, dup: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rl := list(annotateOwner, tc.items...)
			var nodes []*yaml.RNode
			for _, n := range rl.Items {
				nodes = append(nodes, n.Copy())
			}
			_, want := resmap.NewFactory(resource.NewFactory(&hasher.Hasher{})).NewResMapFromRNodeSlice(nodes)
			if (want != nil) != tc.dup {
				t.Fatalf("kustomize's resource map says %v", want)
			}
			err := catalog.SetAnnotations(rl)
			switch {
			case !tc.dup && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.dup && (err == nil || err.Error() != "failed to run function: "+want.Error()):
				t.Fatalf("error %v, want kustomize's %v", err, want)
			}
		})
	}
}

// TestSetAnnotationsOwnValues: each field set gets a value node of its own,
// so a later change to one of them (here in place, as a function run in
// process may do) leaves the others alone.
func TestSetAnnotationsOwnValues(t *testing.T) {
	rl := list(annotateOwner, deployment)
	if err := catalog.SetAnnotations(rl); err != nil {
		t.Fatal(err)
	}
	n := rl.Items[0]
	v, err := n.Pipe(yaml.Lookup("metadata", "annotations", "owner"))
	if err != nil || v == nil {
		t.Fatalf("metadata.annotations.owner: %v", err)
	}
	v.YNode().Value = "changed"
	if got := field(t, n, "spec.template.metadata.annotations.owner"); got != "ops" {
		t.Errorf("the pod template's annotation changed with the resource's: %q", got)
	}
}

func TestApplySettersFailureChangesNothing(t *testing.T) {
	good := "apiVersion: v1\nkind: K\nmetadata:\n  name: a\nspec:\n  replicas: 1 # kpt-set: ${replicas}\n  list: # kpt-set: ${list}\n  - x\n"
	bad := "apiVersion: v1\nkind: K\nmetadata:\n  name: b\nspec:\n  image: nginx # kpt-set: ${image}:${tag}\n"
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  replicas: \"3\"\n  list: '[y, z]'\n  image: redis\n", good, bad)
	err := catalog.ApplySetters(rl)
	var cerr *catalog.ConfigError
	if !errors.As(err, &cerr) || cerr.Field != "data.tag" {
		t.Fatalf("error %v, want a ConfigError on data.tag", err)
	}
	if got := rl.Items[0].MustString(); got != good {
		t.Errorf("the first resource changed:\n%s", got)
	}
	if got := rl.Items[1].MustString(); got != bad {
		t.Errorf("the failing resource changed:\n%s", got)
	}
}

// TestApplySettersIntoListValues: a list setter's value is itself walked,
// so setters in it are applied too, as the catalog does.
func TestApplySettersIntoListValues(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  tag: \"2\"\n  images: |-\n    - nginx:1 # kpt-set: nginx:${tag}\n    - redis\n",
		"apiVersion: v1\nkind: K\nmetadata:\n  name: a\nimages: # kpt-set: ${images}\n- old\n")
	if err := catalog.ApplySetters(rl); err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: v1\nkind: K\nmetadata:\n  name: a\nimages: # kpt-set: ${images}\n- nginx:2 # kpt-set: nginx:${tag}\n- redis\n"
	if got := rl.Items[0].MustString(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	wantResults(t, rl.Results, `- message: 'set field value to "- nginx:1 # kpt-set: nginx:${tag}\n- redis"'
  field:
    path: images
  file: {}
- message: set field value to "nginx:2"
  field:
    path: images[0]
  file: {}`)
}

// TestSetNamespaceValueStyle: a namespace set where there was none is
// quoted when YAML 1.1 would read it as another type; one replaced keeps
// the old value's quoting and loses its comment, as kyaml sets it.
func TestSetNamespaceValueStyle(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  namespace: \"yes\"\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: 'old' # was here\n")
	if err := catalog.SetNamespace(rl); err != nil {
		t.Fatal(err)
	}
	if got, want := output(t, rl), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: \"yes\"\n---\n"+
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: 'yes'\n"; got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
