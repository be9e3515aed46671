package catalog_test

import (
	"errors"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"strings"
	"testing"

	"github.com/nephoran/porchkit/krm/catalog"
)

func TestSchemaValidator(t *testing.T) {
	bad := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\nspec:\n  replicas: three\n  template:\n    spec:\n      containers:\n      - name: x\n        imag: y\n"
	custom := "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
	kptfile := "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n"
	cases := []struct {
		name   string
		config string
		items  []string
		want   []string // substrings of the error results, in order
	}{
		{name: "valid", items: []string{deployment, kptfile}},
		{name: "wrong type", items: []string{bad}, want: []string{"expected numeric"}},
		{name: "strict finds unknown field", config: "strict: \"true\"", items: []string{bad},
			want: []string{"expected numeric", "field not declared in schema"}},
		{name: "missing schema", items: []string{custom}, want: []string{"no schema for example.com/v1, Kind=Widget"}},
		{name: "ignore missing schema", config: "ignore_missing_schemas: \"true\"", items: []string{custom}},
		{name: "skip kinds", config: "skip_kinds: Deployment,Widget", items: []string{bad, custom}},
		{name: "string data must be strings", items: []string{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  port: 80\n"},
			want: []string{"expected string"}},
		{name: "remote schemas refused", config: "schema_location: https://example.com/{{.ResourceKind}}.json", items: []string{deployment},
			want: []string{"not supported"}},
	}
	v := catalog.NewSchemaValidator()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			config := ""
			if tc.config != "" {
				config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  " + tc.config + "\n"
			}
			rl := list(config, tc.items...)
			if err := v.Process(rl); err != nil {
				rl.Results = append(rl.Results, resultsOf(t, err)...)
			}
			var got []string
			for _, r := range rl.Results {
				got = append(got, r.Message)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("results %q, want %d matching %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("result %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
	rl := list("", bad)
	if err := v.Process(rl); err != nil {
		t.Fatal(err)
	}
	if r := rl.Results[0]; r.ResourceRef == nil || r.ResourceRef.Name != "bad" || r.Field == nil || r.Field.Path != ".spec.replicas" {
		t.Fatalf("result must name the resource and the field: %+v", r)
	}
}

// resultsOf returns the results a function returned as its error.
func resultsOf(t *testing.T, err error) framework.Results {
	t.Helper()
	var results framework.Results
	if !errors.As(err, &results) {
		t.Fatalf("error %v is not framework.Results", err)
	}
	return results
}
