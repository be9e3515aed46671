package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nephoran/porchkit/krm/catalog"
)

func TestEnsureNameSubstringPrefix(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  prepend: prod-\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: the-map\n  namespace: ns\ndata:\n  k: v\n",
		`apiVersion: v1
kind: Pod
metadata:
  name: the-pod
  namespace: ns
spec:
  containers:
  - name: c
    env:
    - name: K
      valueFrom:
        configMapKeyRef:
          name: the-map
          key: k
    - name: OUTSIDE
      valueFrom:
        configMapKeyRef:
          name: not-in-package
          key: k
`,
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: with-prod-service\n  namespace: ns\n",
		"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: the-map\n  namespace: other\n")
	if err := catalog.EnsureNameSubstring(rl); err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, n := range rl.Items {
		names = append(names, n.GetNamespace()+"/"+n.GetName())
	}
	want := []string{"ns/prod-the-map", "ns/prod-the-pod", "ns/with-prod-service", "/ns", "other/prod-the-map"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("names %v, want %v", names, want)
	}
	pod := rl.Items[1].MustString()
	if !strings.Contains(pod, "name: prod-the-map") || !strings.Contains(pod, "name: not-in-package") {
		t.Fatalf("references: only the one to a renamed ConfigMap changes:\n%s", pod)
	}
	// Idempotent.
	again := rl.Items[1].MustString()
	if err := catalog.EnsureNameSubstring(rl); err != nil || rl.Items[1].MustString() != again {
		t.Fatalf("a second run changed the output: %v", err)
	}
}

func TestEnsureNameSubstringReferences(t *testing.T) {
	rl := list("apiVersion: fn.kpt.dev/v1alpha1\nkind: EnsureNameSubstring\nmetadata:\n  name: c\nsubstring: -prod\neditMode: append\nadditionalNameFields:\n- kind: MyResource\n  path: spec/name\n",
		`apiVersion: apps/v1
kind: Deployment
metadata:
  name: wordpress
  namespace: default
  annotations:
    config.kubernetes.io/depends-on: apps/namespaces/default/StatefulSet/mysql
spec:
  template:
    spec:
      serviceAccountName: runner
      volumes:
      - name: data
        persistentVolumeClaim:
          claimName: data
`,
		"apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: mysql\n  namespace: default\nspec:\n  serviceName: mysql\n",
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: mysql\n  namespace: default\n",
		"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n  namespace: default\n",
		"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: default\n",
		`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: read
  annotations:
    config.kubernetes.io/depends-on: rbac.authorization.k8s.io/ClusterRole/reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: reader
subjects:
- kind: ServiceAccount
  name: runner
  namespace: default
- kind: Group
  name: runner
`,
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n",
		"apiVersion: example.com/v1\nkind: MyResource\nmetadata:\n  name: foo\nspec:\n  name: foo\n",
		"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: myresources.example.com\n")
	if err := catalog.EnsureNameSubstring(rl); err != nil {
		t.Fatal(err)
	}
	all := ""
	for _, n := range rl.Items {
		all += n.MustString() + "---\n"
	}
	for _, w := range []string{
		"config.kubernetes.io/depends-on: apps/namespaces/default/StatefulSet/mysql-prod",
		"serviceAccountName: runner-prod", "claimName: data-prod", "serviceName: mysql-prod",
		"config.kubernetes.io/depends-on: rbac.authorization.k8s.io/ClusterRole/reader-prod",
		"  name: reader-prod\nsubjects", "- kind: ServiceAccount\n  name: runner-prod", "- kind: Group\n  name: runner\n",
		"spec:\n  name: foo-prod", "name: myresources.example.com\n",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if t.Failed() {
		t.Log(all)
	}

	for name, config := range map[string]string{
		"two entries":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  prepend: a\n  append: b\n",
		"unknown mode": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  insert: a\n",
		"v1 kind":      "apiVersion: v1\nkind: EnsureNameSubstring\nmetadata:\n  name: c\nsubstring: a\n",
		"empty":        "apiVersion: fn.kpt.dev/v1alpha1\nkind: EnsureNameSubstring\nmetadata:\n  name: c\nsubstring: \"\"\n",
	} {
		if err := catalog.EnsureNameSubstring(list(config, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestEnsureNameSubstringConfigErrors(t *testing.T) {
	for _, tc := range []struct{ config, field, reason string }{
		{"apiVersion: example.com/v1\nkind: Names\nmetadata:\n  name: c\n", "kind",
			"failed to load the `functionConfig`: function config must be either /v1, Kind=ConfigMap or " +
				"fn.kpt.dev/v1alpha1, Kind=EnsureNameSubstring, but we got: example.com/v1, Kind=Names"},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  insert: a\n", "data.insert",
			"failed to load the `functionConfig`: unknown editMode: insert, only prepend and append are allowed"},
		{"apiVersion: fn.kpt.dev/v1alpha1\nkind: EnsureNameSubstring\nmetadata:\n  name: c\nsubstring: a\n" +
			"fieldSpecs:\n- path: spec/a\nadditionalNameFields:\n- path: spec/b\n", "fieldSpecs",
			"failed to load the `functionConfig`: `fieldSpecs` has been deprecated, please rename it to `additionalNameFields`"},
	} {
		rl := list(tc.config, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
		err := catalog.EnsureNameSubstring(rl)
		var cerr *catalog.ConfigError
		if !errors.As(err, &cerr) || cerr.Field != tc.field || cerr.Reason != tc.reason {
			t.Errorf("%v, want a ConfigError on %s: %s", err, tc.field, tc.reason)
		}
		if rl.Items[0].GetName() != "x" {
			t.Errorf("renamed after a rejected config")
		}
	}
	// A renamed resource's depends-on names a resource of the input; the
	// annotation of a resource that keeps its name is left as it is.
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  prepend: p-\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    config.kubernetes.io/depends-on: /namespaces/ns/Secret/s\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: p-keep\n  annotations:\n    config.kubernetes.io/depends-on: /ConfigMap/a\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: ns\n")
	if err := catalog.EnsureNameSubstring(rl); err != nil {
		t.Fatal(err)
	}
	if got := rl.Items[0].GetAnnotations()["config.kubernetes.io/depends-on"]; got != "/namespaces/ns/Secret/p-s" {
		t.Errorf("renamed resource's depends-on = %q", got)
	}
	if got := rl.Items[1].GetAnnotations()["config.kubernetes.io/depends-on"]; got != "/ConfigMap/a" {
		t.Errorf("unrenamed resource's depends-on = %q", got)
	}
}
