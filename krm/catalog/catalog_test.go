package catalog_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm/catalog"
)

func list(config string, items ...string) *framework.ResourceList {
	rl := &framework.ResourceList{}
	if config != "" {
		rl.FunctionConfig = yaml.MustParse(config)
	}
	for _, it := range items {
		rl.Items = append(rl.Items, yaml.MustParse(it))
	}
	return rl
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app # the app
spec:
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
      - name: app
        image: nginx:1.25 # kpt-set: ${image}:${tag}
      initContainers:
      - name: init
        image: busybox
`

func field(t *testing.T, n *yaml.RNode, path string) string {
	t.Helper()
	v, err := n.GetString(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func TestSetNamespace(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  namespace: prod\n",
		deployment,
		"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: old\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\n  namespace: old\nsubjects:\n- kind: ServiceAccount\n  name: default\n  namespace: old\n- kind: ServiceAccount\n  name: other\n  namespace: old\n")
	if err := catalog.SetNamespace(rl); err != nil {
		t.Fatal(err)
	}
	if rl.Items[0].GetNamespace() != "prod" || rl.Items[1].GetName() != "prod" || rl.Items[2].GetNamespace() != "" {
		t.Fatalf("namespaces: %q %q %q", rl.Items[0].GetNamespace(), rl.Items[1].GetName(), rl.Items[2].GetNamespace())
	}
	if got := field(t, rl.Items[3], "subjects.[name=default].namespace"); got != "old" || rl.Items[3].GetNamespace() != "prod" {
		t.Fatalf("binding: namespace %q, subject %q (Porch's set-namespace v0.4.1 leaves subjects)", rl.Items[3].GetNamespace(), got)
	}
	if !strings.Contains(rl.Items[0].MustString(), "# the app") {
		t.Fatal("comment lost")
	}
	if err := catalog.SetNamespace(list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n", deployment)); err == nil {
		t.Fatal("no namespace accepted")
	}
}

func TestSetLabelsAndAnnotations(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  team: blue\n", deployment,
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  selector:\n    app: app\n")
	if err := catalog.SetLabels(rl); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"metadata.labels.team", "spec.selector.matchLabels.team", "spec.template.metadata.labels.team"} {
		if field(t, rl.Items[0], p) != "blue" {
			t.Errorf("deployment %s not set", p)
		}
	}
	if field(t, rl.Items[1], "spec.selector.team") != "blue" {
		t.Error("service selector not set")
	}
	rl = list("apiVersion: fn.kpt.dev/v1alpha1\nkind: SetAnnotations\nmetadata:\n  name: c\nannotations:\n  owner: ops\n", deployment)
	if err := catalog.SetAnnotations(rl); err != nil {
		t.Fatal(err)
	}
	if field(t, rl.Items[0], "metadata.annotations.owner") != "ops" || field(t, rl.Items[0], "spec.template.metadata.annotations.owner") != "ops" {
		t.Fatal("annotations not set")
	}
}

func TestSetImage(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  name: nginx\n  newName: registry.example.com/nginx\n  newTag: \"1.27\"\n", deployment)
	if err := catalog.SetImage(rl); err != nil {
		t.Fatal(err)
	}
	if got := field(t, rl.Items[0], "spec.template.spec.containers.[name=app].image"); got != "registry.example.com/nginx:1.27" {
		t.Fatalf("image = %q", got)
	}
	if got := field(t, rl.Items[0], "spec.template.spec.initContainers.[name=init].image"); got != "busybox" {
		t.Fatalf("other image changed: %q", got)
	}
}

func TestApplySetters(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  image: redis\n  tag: \"7\"\n", deployment)
	if err := catalog.ApplySetters(rl); err != nil {
		t.Fatal(err)
	}
	out := rl.Items[0].MustString()
	if !strings.Contains(out, "image: redis:7 # kpt-set: ${image}:${tag}") {
		t.Fatalf("setter not applied (comment must stay):\n%s", out)
	}
	rl = list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  image: redis\n", deployment)
	if err := catalog.ApplySetters(rl); err != nil {
		t.Fatal(err)
	}
	// Like the catalog, a setter the config lacks keeps the value it has in
	// the field, read back through the pattern.
	if !strings.Contains(rl.Items[0].MustString(), "image: redis:1.25 # kpt-set: ${image}:${tag}") {
		t.Fatalf("the missing setter's current value was not kept:\n%s", rl.Items[0].MustString())
	}
}

func TestUpsertAndValidate(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  new: \"1\"\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations:\n    internal.config.kubernetes.io/path: cm.yaml\ndata:\n  old: \"1\"\n")
	if err := catalog.UpsertResource(rl); err != nil {
		t.Fatal(err)
	}
	if len(rl.Items) != 1 || field(t, rl.Items[0], "data.new") != "1" || rl.Items[0].GetAnnotations()["internal.config.kubernetes.io/path"] != "cm.yaml" {
		t.Fatalf("upsert: %s", rl.Items[0].MustString())
	}
	rl.FunctionConfig = yaml.MustParse("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n")
	if err := catalog.UpsertResource(rl); err != nil || len(rl.Items) != 2 {
		t.Fatalf("insert: %v, %d items", err, len(rl.Items))
	}

	bad := list("", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n",
		"kind: ConfigMap\nmetadata:\n  name: noversion\n", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n  namespace: x\n")
	if err := catalog.ValidateStructure(bad); err != nil {
		t.Fatal(err)
	}
	if len(bad.Results) != 3 {
		t.Fatalf("%d results, want 3 (duplicate, missing apiVersion, namespaced Namespace): %v", len(bad.Results), bad.Results)
	}
}
