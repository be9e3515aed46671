package catalog_test

import (
	"errors"
	"testing"

	"github.com/nephoran/porchkit/krm/catalog"
)

func TestSetAnnotationsFieldsAndResults(t *testing.T) {
	rl := list(`apiVersion: fn.kpt.dev/v1alpha1
kind: SetAnnotations
metadata:
  name: c
annotations:
  fruit: apple
  color: orange
additionalAnnotationFields:
- kind: MyResource
  group: dev.example.com
  version: v1
  path: spec/selector/annotations
  create: true
`,
		kptfile,
		`apiVersion: dev.example.com/v1
kind: MyResource
metadata:
  name: the-service
  annotations:
    internal.config.kubernetes.io/path: app.yaml
    internal.config.kubernetes.io/index: "1"
spec:
  selector:
    annotations:
      foo: bar
`,
		`apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron
  annotations:
    internal.config.kubernetes.io/path: app.yaml
spec:
  jobTemplate:
    spec:
      template:
        spec: {}
`)
	if err := catalog.SetAnnotations(rl); err != nil {
		t.Fatal(err)
	}
	// The Kptfile is annotated too: the catalog's set-annotations keeps
	// local config.
	if got := field(t, rl.Items[0], "metadata.annotations.color"); got != "orange" {
		t.Errorf("Kptfile color = %q", got)
	}
	for _, p := range []string{"metadata.annotations.fruit", "spec.selector.annotations.fruit", "spec.selector.annotations.foo"} {
		if field(t, rl.Items[1], p) == "" {
			t.Errorf("MyResource lacks %s", p)
		}
	}
	for _, p := range []string{"spec.jobTemplate.metadata.annotations.color", "spec.jobTemplate.spec.template.metadata.annotations.color"} {
		if field(t, rl.Items[2], p) != "orange" {
			t.Errorf("CronJob lacks %s", p)
		}
	}
	wantResults(t, rl.Results, `- message: 'set annotations: {"color":"orange","fruit":"apple"}'
  field:
    path: metadata.annotations
  file: {}
- message: 'set annotations: {"color":"orange","fruit":"apple"}'
  field:
    path: metadata.annotations
  file:
    path: app.yaml
- message: 'set annotations: {"color":"orange","fruit":"apple"}'
  field:
    path: spec.jobTemplate.metadata.annotations
  file:
    path: app.yaml
- message: 'set annotations: {"color":"orange","fruit":"apple"}'
  field:
    path: spec.jobTemplate.spec.template.metadata.annotations
  file:
    path: app.yaml
- message: 'set annotations: {"color":"orange","fruit":"apple"}'
  field:
    path: metadata.annotations
  file:
    path: app.yaml
    index: 1
- message: 'set annotations: {"color":"orange","fruit":"apple"}'
  field:
    path: spec.selector.annotations
  file:
    path: app.yaml
    index: 1`)
}

func TestSetAnnotationsNoResources(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n")
	if err := catalog.SetAnnotations(rl); err != nil {
		t.Fatal(err)
	}
	wantResults(t, rl.Results, "- message: no annotations applied")
}

func TestSetAnnotationsRejects(t *testing.T) {
	svc := "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
	cases := []struct {
		name, config string
		items        []string
		field        string // the ConfigError's field; "" for a failed run
		message      string
	}{
		{name: "empty", config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n", items: []string{svc},
			field: "annotations", message: "failed to configure function: input annotation list cannot be empty"},
		{name: "no config", items: []string{svc},
			field: "kind", message: "failed to configure function: `functionConfig` must be a `ConfigMap` or `SetAnnotations`"},
		{name: "ConfigMap of another group", config: "apiVersion: example.com/v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n",
			items: []string{svc}, field: "kind", message: "failed to configure function: `functionConfig` must be a `ConfigMap` or `SetAnnotations`"},
		{name: "both field lists", config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: SetAnnotations\nmetadata:\n  name: c\nannotations:\n  a: b\n" +
			"fieldSpecs:\n- path: spec/a\nadditionalAnnotationFields:\n- path: spec/b\n", items: []string{svc},
			field: "fieldSpecs", message: "failed to configure function: `fieldSpecs` has been deprecated, please rename it to `additionalAnnotationFields`"},
		{name: "duplicate resources", config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n", items: []string{svc, svc}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rl := list(tc.config, tc.items...)
			before := output(t, rl)
			err := catalog.SetAnnotations(rl)
			if err == nil {
				t.Fatal("accepted")
			}
			var cerr *catalog.ConfigError
			if tc.field != "" {
				if !errors.As(err, &cerr) || cerr.Field != tc.field {
					t.Fatalf("error %v, want a ConfigError on %s", err, tc.field)
				}
				wantResults(t, rl.Results, "- message: '"+tc.message+"'\n  severity: error")
			} else if errors.As(err, &cerr) || len(rl.Results) != 1 || rl.Results[0].Severity != "error" {
				t.Fatalf("error %v, results %v: want a failed run with one error result", err, rl.Results)
			}
			if after := output(t, rl); after != before {
				t.Errorf("resources changed:\n%s", after)
			}
		})
	}
}
