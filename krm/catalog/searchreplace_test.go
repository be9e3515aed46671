package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nephoran/porchkit/krm/catalog"
)

func searchReplaceConfig(pairs ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sr\ndata:\n")
	for i := 0; i+1 < len(pairs); i += 2 {
		b.WriteString("  " + pairs[i] + ": '" + pairs[i+1] + "'\n")
	}
	return b.String()
}

const nginx = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-nginx
  annotations:
    config.kubernetes.io/path: deploy/nginx.yaml
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: nginx
          image: 'gcr.io/nginx:1.14.2'
        - name: sidecar
          image: gcr.io/proxy:1.0
`

func TestSearchReplace(t *testing.T) {
	cases := []struct {
		name   string
		config []string
		want   []string // substrings of the output
		absent []string
		result string // the first result's message
	}{
		{name: "by path and value", config: []string{"by-path", "metadata.name", "by-value", "my-nginx", "put-value", "the-nginx"},
			want: []string{"name: the-nginx"}, result: `Mutated field value to "the-nginx"`},
		{name: "create setter comments", config: []string{"by-path", "spec.replicas", "put-comment", "kpt-set: ${replicas}"},
			want: []string{"replicas: 3 # kpt-set: ${replicas}"}},
		{name: "double star", config: []string{"by-path", "spec.**.image", "put-comment", "kpt-set: gcr.io/${image}:${tag}"},
			want: []string{"image: 'gcr.io/nginx:1.14.2' # kpt-set: gcr.io/${image}:${tag}", "image: gcr.io/proxy:1.0 # kpt-set"}},
		{name: "index and star", config: []string{"by-path", "spec.template.spec.containers[1].*", "by-value", "sidecar", "put-value", "envoy"},
			want: []string{"name: envoy"}, absent: []string{"name: sidecar"}},
		{name: "regex groups", config: []string{"by-value-regex", `gcr.io/(nginx):(.*)`, "put-value", "registry.example.com/${1}:${2}-patched"},
			want: []string{"image: 'registry.example.com/nginx:1.14.2-patched'", "image: gcr.io/proxy:1.0"}},
		{name: "value type is inferred again", config: []string{"by-path", "spec.replicas", "put-value", "5"},
			want: []string{"replicas: 5\n"}},
		{name: "search only", config: []string{"by-value", "3"}, want: []string{"replicas: 3\n"}, result: `Matched field value "3"`},
		{name: "file path", config: []string{"by-file-path", "deploy/*.yaml", "by-value", "nginx", "put-value", "web"}, want: []string{"- name: web"}},
		{name: "file path elsewhere", config: []string{"by-file-path", "other/**", "by-value", "nginx", "put-value", "web"},
			want: []string{"- name: nginx"}, result: "no matches"},
		{name: "plain path creates the field", config: []string{"by-path", "spec.paused", "put-value", "true"}, want: []string{"paused: true"}},
		{name: "list items are not created", config: []string{"by-path", "spec.template.spec.containers[5].name", "put-value", "x"},
			absent: []string{"name: x"}, result: "no matches"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rl := list(searchReplaceConfig(tc.config...), nginx)
			if err := catalog.SearchReplace(rl); err != nil {
				t.Fatal(err)
			}
			out := rl.Items[0].MustString()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(out, a) {
					t.Errorf("output has %q:\n%s", a, out)
				}
			}
			if tc.result != "" && (len(rl.Results) == 0 || rl.Results[0].Message != tc.result) {
				t.Errorf("results %v, want the first to be %q", rl.Results, tc.result)
			}
		})
	}

	for name, config := range map[string][]string{
		"unknown key":           {"by-name", "x"},
		"value and regex":       {"by-value", "a", "by-value-regex", "a"},
		"bad regex":             {"by-value-regex", "("},
		"unresolved group":      {"by-value-regex", "nginx", "put-value", "${1}"},
		"unresolved in comment": {"by-value-regex", "(nginx)", "put-comment", "${2}"},
	} {
		rl := list(searchReplaceConfig(config...), nginx)
		if err := catalog.SearchReplace(rl); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSearchReplaceResults(t *testing.T) {
	cm := `apiVersion: v1
kind: ConfigMap
metadata:
  name: nginx-urls
  annotations:
    internal.config.kubernetes.io/path: resources.yaml
data:
  FQDN: nginx.com
  MY_BAR_URL: https://nginx.com/bar
envs:
- dev
- stage
`
	rl := list(searchReplaceConfig("by-path", "data.**", "by-value-regex", "(.*)nginx.com(.*)", "put-comment", "kpt-set: ${1}${host}${2}"), cm)
	if err := catalog.SearchReplace(rl); err != nil {
		t.Fatal(err)
	}
	if out := rl.Items[0].MustString(); !strings.Contains(out, "MY_BAR_URL: https://nginx.com/bar # kpt-set: https://${host}/bar") {
		t.Errorf("output:\n%s", out)
	}
	wantResults(t, rl.Results, `- message: 'Mutated field value to "nginx.com # kpt-set: ${host}"'
  field:
    path: data.FQDN
  file:
    path: resources.yaml
- message: 'Mutated field value to "https://nginx.com/bar # kpt-set: https://${host}/bar"'
  field:
    path: data.MY_BAR_URL
  file:
    path: resources.yaml`)

	rl = list(searchReplaceConfig("by-path", "envs", "put-comment", "kpt-set: ${envs}"), cm)
	if err := catalog.SearchReplace(rl); err != nil {
		t.Fatal(err)
	}
	if out := rl.Items[0].MustString(); !strings.Contains(out, "envs: # kpt-set: ${envs}\n- dev\n") {
		t.Errorf("list comment:\n%s", out)
	}
	wantResults(t, rl.Results, `- message: Mutated field value to "[dev, stage]"
  field:
    path: 'envs # kpt-set: ${envs}'
  file:
    path: resources.yaml`)

	rl = list(searchReplaceConfig("by-value", "a", "by-value-regex", "a"), cm)
	err := catalog.SearchReplace(rl)
	var cerr *catalog.ConfigError
	if !errors.As(err, &cerr) || cerr.Field != "data.by-value-regex" {
		t.Fatalf("error %v, want a ConfigError on data.by-value-regex", err)
	}
	wantResults(t, rl.Results, `- message: 'failed to perform search-replace operation: "only one of [\"by-value\", \"by-value-regex\"] can be provided"'
  severity: error`)
}
