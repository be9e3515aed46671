package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nephoran/porchkit/krm/catalog"
)

const imagePod = `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  initContainers:
  - name: init
    image: nginx:1.20
  containers:
  - name: server
    image: "nginx:1.20" # pinned
  - name: store
    image: postgres:14.1
`

func TestSetImageKinds(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  name: nginx\n  newTag: \"1.21\"\n",
		imagePod, deployment,
		"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx\n")
	if err := catalog.SetImage(rl); err != nil {
		t.Fatal(err)
	}
	pod := rl.Items[0].MustString()
	if !strings.Contains(pod, "image: nginx:1.21 # pinned") || !strings.Contains(pod, "image: postgres:14.1") {
		t.Errorf("pod:\n%s", pod)
	}
	// Like the catalog: init containers and Jobs are left alone.
	if got := field(t, rl.Items[0], "spec.initContainers.[name=init].image"); got != "nginx:1.20" {
		t.Errorf("init container image = %q", got)
	}
	if got := field(t, rl.Items[1], "spec.template.spec.containers.[name=app].image"); got != "nginx:1.21" {
		t.Errorf("deployment image = %q", got)
	}
	if got := field(t, rl.Items[2], "spec.template.spec.containers.[name=c].image"); got != "nginx" {
		t.Errorf("job image = %q", got)
	}
	wantResults(t, rl.Results, "- message: 'summary: updated a total of 2 image(s)'\n  severity: info")
}

func TestSetImageNewNameAndDigest(t *testing.T) {
	for _, tc := range []struct{ data, image, want string }{
		{"  newName: bitnami/nginx\n", "nginx:1.20@sha256:abc", "bitnami/nginx:1.20"},
		{"  digest: sha256:def\n", "nginx:1.20", "nginx@sha256:def"},
		{"  newName: registry:5000/nginx\n  newTag: v2\n", "nginx", "registry:5000/nginx:v2"},
		// The catalog's quirk: a digest-only image that gets only a new
		// name loses the "@".
		{"  newName: bitnami/nginx\n", "nginx@sha256:abc", "bitnami/nginxsha256:abc"},
	} {
		rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  name: nginx\n"+tc.data,
			"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: "+tc.image+"\n")
		if err := catalog.SetImage(rl); err != nil {
			t.Fatal(err)
		}
		if got := field(t, rl.Items[0], "spec.containers.[name=c].image"); got != tc.want {
			t.Errorf("%s with %q: %q, want %q", tc.image, tc.data, got, tc.want)
		}
	}
}

func TestSetImageAdditionalFields(t *testing.T) {
	rl := list(`apiVersion: fn.kpt.dev/v1alpha1
kind: SetImage
metadata:
  name: c
image:
  name: nginx
  newName: bitnami/nginx
  newTag: 1.21.4
additionalImageFields:
- kind: MyKind
  group: dev.example.com
  version: v1
  path: spec/manifest/images[]/image
`, imagePod, `apiVersion: dev.example.com/v1
kind: MyKind
metadata:
  name: the-resource # mine
spec:
  manifest:
    images:
    - image: nginx:1.20.2
    - image: postgres:14.1
  version: "1.0"
`)
	if err := catalog.SetImage(rl); err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: dev.example.com/v1
kind: MyKind
metadata:
  name: the-resource # mine
spec:
  manifest:
    images:
    - image: bitnami/nginx:1.21.4
    - image: postgres:14.1
  version: "1.0"
`
	if got := rl.Items[1].MustString(); got != want {
		t.Errorf("custom resource:\n%s\nwant:\n%s", got, want)
	}
	// The catalog re-encodes every resource through JSON: quotes YAML does
	// not need go, comments and field order stay.
	if got := rl.Items[0].MustString(); !strings.Contains(got, "image: bitnami/nginx:1.21.4 # pinned") {
		t.Errorf("pod:\n%s", got)
	}
	wantResults(t, rl.Results, "- message: 'summary: updated a total of 2 image(s)'\n  severity: info")
}

func TestSetImageRejects(t *testing.T) {
	cases := []struct {
		name, config, field, results string
	}{
		{name: "only name", config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  name: nginx\n", field: "image.newName",
			results: "- message: must specify one of `newName`, `newTag`, or `digest`\n  severity: error\n" +
				"- message: 'function is terminated: must specify one of `newName`, `newTag`, or `digest`'\n  severity: error"},
		{name: "no name", config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: SetImage\nmetadata:\n  name: c\nimage:\n  newTag: v1\n", field: "image.name",
			results: "- message: must specify `name`\n  severity: error\n- message: 'function is terminated: must specify `name`'\n  severity: error"},
		{name: "unknown key", config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  name: nginx\n  tag: v1\n", field: "data.tag",
			results: "- message: ConfigMap has wrong field name tag\n  severity: error\n- message: 'function is terminated: ConfigMap has wrong field name tag'\n  severity: error"},
		{name: "no config", field: "image.name",
			results: "- message: '`FunctionConfig` is not given'\n  severity: info\n- message: must specify `name`\n  severity: error\n" +
				"- message: 'function is terminated: must specify `name`'\n  severity: error"},
		{name: "wrong kind", config: "apiVersion: example.com/v1\nkind: Image\nmetadata:\n  name: c\n", field: "kind",
			results: "- message: unknown FunctionConfig `Image`, expect SetImage\n  severity: error\n  resourceRef:\n    apiVersion: example.com/v1\n" +
				"    kind: Image\n    name: c\n  file:\n    index: -1\n" +
				"- message: 'function is terminated by Resource(apiVersion=example.com/v1, kind=Image, namespace=, name=c): unknown FunctionConfig `Image`, expect SetImage'\n  severity: error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rl := list(tc.config, imagePod)
			before := output(t, rl)
			err := catalog.SetImage(rl)
			var cerr *catalog.ConfigError
			if !errors.As(err, &cerr) || cerr.Field != tc.field || !errors.Is(err, catalog.ErrInvalidConfig) {
				t.Fatalf("error %v, want a ConfigError on %s", err, tc.field)
			}
			wantResults(t, rl.Results, tc.results)
			if after := output(t, rl); after != before {
				t.Errorf("resources changed:\n%s", after)
			}
		})
	}
}
