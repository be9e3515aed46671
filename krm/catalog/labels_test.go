package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm/catalog"
)

const kptfile = `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
`

// wantResults compares results by their YAML, as the catalog writes them.
func wantResults(t *testing.T, got framework.Results, want string) {
	t.Helper()
	b, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(b)) != strings.TrimSpace(want) {
		t.Errorf("results:\n%s\nwant:\n%s", b, want)
	}
}

func output(t *testing.T, rl *framework.ResourceList) string {
	t.Helper()
	out, err := kio.StringAll(rl.Items)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSetLabelsCatalogFields(t *testing.T) {
	rl := list("apiVersion: fn.kpt.dev/v1alpha1\nkind: SetLabels\nmetadata:\n  name: c\nlabels:\n  tier: web\n  app: new\n",
		kptfile,
		`apiVersion: v1
kind: ReplicationController
metadata:
  name: rc
spec:
  selector:
    app: old # keep me
  template:
    metadata:
      labels:
        app: old
`,
		`apiVersion: batch/v1
kind: Job
metadata:
  name: job
spec:
  selector:
    matchLabels:
      app: old
  template:
    spec:
      topologySpreadConstraints:
      - labelSelector:
          matchLabels:
            tier: db
`,
		`apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron
spec:
  jobTemplate:
    spec:
      template:
        metadata: {}
`,
		`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
spec:
  podSelector:
    matchLabels:
      role: db
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: old
`,
		`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: sts
spec:
  volumeClaimTemplates:
  - metadata:
      name: data
`)
	if err := catalog.SetLabels(rl); err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: example
  annotations:
    config.kubernetes.io/local-config: "true"
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: rc
  labels:
    app: new
    tier: web
spec:
  selector:
    app: new # keep me
    tier: web
  template:
    metadata:
      labels:
        app: new
        tier: web
---
apiVersion: batch/v1
kind: Job
metadata:
  name: job
  labels:
    app: new
    tier: web
spec:
  selector:
    matchLabels:
      app: new
  template:
    spec:
      topologySpreadConstraints:
      - labelSelector:
          matchLabels:
            tier: web
    metadata:
      labels:
        app: new
        tier: web
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron
  labels:
    app: new
    tier: web
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: new, tier: web}}
    metadata:
      labels:
        app: new
        tier: web
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
  labels:
    app: new
    tier: web
spec:
  podSelector:
    matchLabels:
      role: db
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: new
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: sts
  labels:
    app: new
    tier: web
spec:
  volumeClaimTemplates:
  - metadata:
      name: data
      labels:
        app: new
        tier: web
  selector:
    matchLabels:
      app: new
      tier: web
`
	// The flow-style "metadata: {}" stays flow style, as the catalog leaves it.
	if got := output(t, rl); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	// rc 6, job 2+2+2+2, cron 2+2+2+2, np 2+2+2, sts 2+2+2+2: every key
	// visited counts, as in the catalog.
	wantResults(t, rl.Results, "- message: set 36 labels in total\n  severity: info")
}

func TestSetLabelsWrongFieldType(t *testing.T) {
	rl := list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  app: x\n",
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels:\n    app: 1\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n")
	if err := catalog.SetLabels(rl); err != nil {
		t.Fatal(err)
	}
	wantResults(t, rl.Results, `- message: Resource(apiVersion=, kind=Service) has unmatched field type "string" in fieldpath .metadata.labels.app
  severity: error
- message: set 1 labels in total
  severity: info`)
	if got := field(t, rl.Items[1], "metadata.labels.app"); got != "x" {
		t.Errorf("the other resource was not labelled: %q", got)
	}
}

func TestSetLabelsConfig(t *testing.T) {
	svc := "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
	cases := []struct {
		name, config string
		items        []string
		field        string // the ConfigError's field; "" for none
		results      string
	}{
		{name: "wrong kind", config: "apiVersion: example.com/v1\nkind: Labels\nmetadata:\n  name: c\nlabels:\n  a: b\n",
			items: []string{svc}, field: "kind",
			results: "- message: unknown FunctionConfig `Labels.example.com`, expect `SetLabels.fn.kpt.dev` or `ConfigMap.v1`\n  severity: error"},
		{name: "labels not strings", config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: SetLabels\nmetadata:\n  name: c\nlabels:\n  a: 1\n",
			items: []string{svc}, field: "labels",
			results: "- message: 'unable to convert object to *setlabels.SetLabels with error: json: cannot unmarshal number into Go struct field SetLabels.labels of type string'\n  severity: error"},
		{name: "labels not a map", config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: SetLabels\nmetadata:\n  name: c\nlabels: [a]\n",
			items: []string{svc}, field: "labels",
			results: "- message: 'unable to convert object to *setlabels.SetLabels with error: json: cannot unmarshal array into Go struct field SetLabels.labels of type map[string]string'\n  severity: error"},
		{name: "no config", items: []string{svc}, field: "labels",
			results: "- message: '`FunctionConfig` is not given'\n  severity: info"},
		{name: "kpt's empty default config", config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\ndata: {}\n",
			items: []string{svc}, field: "labels",
			results: "- message: '`FunctionConfig` is not given'\n  severity: info"},
		{name: "empty label list", config: "apiVersion: fn.kpt.dev/v1alpha1\nkind: SetLabels\nmetadata:\n  name: c\nlabels: {}\n",
			items:   []string{svc},
			results: "- message: no `labels` arguments are given in FunctionConfig\n  severity: warning"},
		{name: "only local config", config: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n",
			items: []string{kptfile}, results: "- message: no input resources\n  severity: info"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rl := list(tc.config, tc.items...)
			before := output(t, rl)
			err := catalog.SetLabels(rl)
			var cerr *catalog.ConfigError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.field != "" && (!errors.As(err, &cerr) || cerr.Field != tc.field || !errors.Is(err, catalog.ErrInvalidConfig)):
				t.Fatalf("error %v, want a ConfigError on %s", err, tc.field)
			}
			wantResults(t, rl.Results, tc.results)
			if after := output(t, rl); after != before {
				t.Errorf("resources changed:\n%s", after)
			}
		})
	}
}
