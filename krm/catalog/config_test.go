package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/nephoran/porchkit/krm/catalog"
)

// TestRejectedConfigs checks that every functionConfig the catalog rejects
// gives a *ConfigError naming the field, the catalog's error result, and
// leaves the items as they were.
func TestRejectedConfigs(t *testing.T) {
	cm := func(name, data string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n" + data
	}
	cases := []struct {
		name, config, field, message string
		fn                           func(*framework.ResourceList) error
	}{
		{"set-namespace without config", "", "", "FunctionConfig is missing", catalog.SetNamespace},
		{"set-namespace without namespace", cm("c", "  other: x\n"), "data.namespace", "`data.namespace` should not be empty", catalog.SetNamespace},
		{"set-namespace package context without name", cm("kptfile.kpt.dev", "  other: x\n"), "data.namespace", "`data.namespace` should not be empty", catalog.SetNamespace},
		{"set-namespace data not strings", cm("c", "  namespace: 12\n"), "data", "failed to parse FunctionConfig as ConfigMap", catalog.SetNamespace},
		{"SetNamespace without namespace", "apiVersion: fn.kpt.dev/v1alpha1\nkind: SetNamespace\nmetadata:\n  name: s\n", "namespace", "`namespace` should not be empty", catalog.SetNamespace},
		{"SetNamespace matcher not a string", "apiVersion: fn.kpt.dev/v1alpha1\nkind: SetNamespace\nmetadata:\n  name: s\nnamespace: a\nnamespaceMatcher: [x]\n", "namespaceMatcher", "failed to parse", catalog.SetNamespace},
		{"set-namespace other kind", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n", "kind", "unknown functionConfig Kind=Deployment", catalog.SetNamespace},
		{"upsert without config", "", "", "functionConfig must be the resource", catalog.UpsertResource},
		{"upsert List items not a list", "apiVersion: v1\nkind: List\nmetadata:\n  name: l\nitems: 3\n", "items", "List items must be a list", catalog.UpsertResource},
		{"upsert List item not a resource", "apiVersion: v1\nkind: List\nmetadata:\n  name: l\nitems:\n- 3\n", "items[0]", "not a resource", catalog.UpsertResource},
		{"apply-replacements without config", "", "", "FunctionConfig is missing", catalog.ApplyReplacements},
		{"apply-replacements wrong apiVersion", "apiVersion: fn.kpt.dev/v1\nkind: ApplyReplacements\nmetadata:\n  name: r\n", "apiVersion", "only functionConfig of kind ApplyReplacements", catalog.ApplyReplacements},
		{"apply-replacements bad list", "apiVersion: fn.kpt.dev/v1alpha1\nkind: ApplyReplacements\nmetadata:\n  name: r\nreplacements: 3\n", "replacements", "unable to convert functionConfig to replacements", catalog.ApplyReplacements},
		{"starlark without source", cm("c", "  other: x\n"), "source", "`source` must not be empty", (&catalog.Starlark{}).Process},
		{"starlark source not a string", "apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: s\nsource: [1]\n", "source", "`source` must be a string", (&catalog.Starlark{}).Process},
		{"starlark params not a map", "apiVersion: fn.kpt.dev/v1alpha1\nkind: StarlarkRun\nmetadata:\n  name: s\nsource: x = 1\nparams: 3\n", "params", "`params` must be a map", (&catalog.Starlark{}).Process},
		{"starlark other kind", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n", "kind", "but we got: /v1, Kind=Secret", (&catalog.Starlark{}).Process},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rl := list(tc.config, deployment)
			before := rl.Items[0].MustString()
			err := tc.fn(rl)
			var ce *catalog.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, catalog.ErrInvalidConfig) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if ce.Field != tc.field || !strings.Contains(ce.Reason, tc.message) {
				t.Fatalf("field %q reason %q, want field %q and %q", ce.Field, ce.Reason, tc.field, tc.message)
			}
			if len(rl.Results) != 1 || rl.Results[0].Severity != framework.Error || rl.Results[0].Message != ce.Reason {
				t.Fatalf("results %v, want the catalog's error result", rl.Results)
			}
			if len(rl.Items) != 1 || rl.Items[0].MustString() != before {
				t.Fatal("a rejected config changed the items")
			}
		})
	}
}
