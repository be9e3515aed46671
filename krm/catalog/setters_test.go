package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nephoran/porchkit/krm/catalog"
)

const settersInput = `apiVersion: v1
kind: MyKind
metadata:
  name: foo
  annotations:
    internal.config.kubernetes.io/path: app.yaml
spec:
  replicas: 4 # kpt-set: ${replicas}
  image: "nginx:1.16.1" # kpt-set: ${image}:${tag}
  envs: # kpt-set: ${envs}
  - dev
  zones: [a, b] # kpt-set: ${zones}
`

func TestApplySettersCatalog(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  replicas: \"3\"\n  tag: 1.17.0\n  envs: |-\n    - prod\n    - dev\n  zones: \"\"\n",
		settersInput)
	if err := catalog.ApplySetters(rl); err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: v1
kind: MyKind
metadata:
  name: foo
  annotations:
    internal.config.kubernetes.io/path: app.yaml
spec:
  replicas: 3 # kpt-set: ${replicas}
  image: "nginx:1.17.0" # kpt-set: ${image}:${tag}
  envs: # kpt-set: ${envs}
  - prod
  - dev
  zones: [] # kpt-set: ${zones}
`
	if got := rl.Items[0].MustString(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	wantResults(t, rl.Results, `- message: set field value to "- prod\n- dev"
  field:
    path: spec.envs
  file:
    path: app.yaml
- message: set field value to ""
  field:
    path: spec.zones
  file:
    path: app.yaml
- message: set field value to "3"
  field:
    path: spec.replicas
  file:
    path: app.yaml
- message: set field value to "nginx:1.17.0"
  field:
    path: spec.image
  file:
    path: app.yaml`)
}

func TestApplySettersNoMatch(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  other: x\n", settersInput)
	if err := catalog.ApplySetters(rl); err != nil {
		t.Fatal(err)
	}
	wantResults(t, rl.Results, "- message: no matches for input setter(s)")
}

func TestApplySettersRejects(t *testing.T) {
	cases := []struct{ name, data, field, message string }{
		{name: "setter value unknown", data: "  image: redis\n", field: "data.tag",
			message: "failed to apply setters: values for setters [${tag}] must be provided"},
		{name: "list setter not a list", data: "  envs: prod\n", field: "data.envs",
			message: `failed to apply setters: input to array setter must be an array of values, but found "prod"`},
	}
	input := strings.Replace(settersInput, `"nginx:1.16.1"`, `"nginx"`, 1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n"+tc.data, input)
			err := catalog.ApplySetters(rl)
			var cerr *catalog.ConfigError
			if !errors.As(err, &cerr) || cerr.Field != tc.field {
				t.Fatalf("error %v, want a ConfigError on %s", err, tc.field)
			}
			wantResults(t, rl.Results, "- message: '"+tc.message+"'\n  severity: error")
			if got := rl.Items[0].MustString(); got != input {
				t.Errorf("resource changed:\n%s", got)
			}
		})
	}
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: x\n",
		"apiVersion: v1\nkind: K\nmetadata:\n  name: k\nlist: # kpt-set: ${a}-${b}\n- x\n")
	if err := catalog.ApplySetters(rl); err == nil || !strings.Contains(rl.Results[0].Message, `invalid setter pattern for array node: "${a}-${b}"`) {
		t.Errorf("interpolated list setter: %v %v", err, rl.Results)
	}
}
