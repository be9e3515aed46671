package catalog_test

import (
	"testing"

	"github.com/nephoran/porchkit/krm/catalog"
)

func TestApplyReplacements(t *testing.T) {
	source := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  image: registry.example.com/app:2.0\n"
	config := `apiVersion: fn.kpt.dev/v1alpha1
kind: ApplyReplacements
metadata:
  name: replace
replacements:
- source:
    kind: ConfigMap
    name: settings
    fieldPath: data.image
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.spec.containers.[name=app].image
`
	rl := list(config, deployment, source)
	if err := catalog.ApplyReplacements(rl); err != nil {
		t.Fatal(err)
	}
	if got := field(t, rl.Items[0], "spec.template.spec.containers.[name=app].image"); got != "registry.example.com/app:2.0" {
		t.Fatalf("image = %q", got)
	}
	if got := field(t, rl.Items[0], "spec.template.spec.initContainers.[name=init].image"); got != "busybox" {
		t.Fatalf("a field outside the targets changed: %q", got)
	}

	missing := list(`apiVersion: fn.kpt.dev/v1alpha1
kind: ApplyReplacements
metadata:
  name: replace
replacements:
- source:
    kind: ConfigMap
    name: nowhere
    fieldPath: data.image
  targets:
  - select:
      kind: Deployment
    fieldPaths: [spec.replicas]
`, deployment)
	if err := catalog.ApplyReplacements(missing); err == nil {
		t.Fatal("a replacement whose source does not exist must fail")
	}
	if err := catalog.ApplyReplacements(list("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n", deployment)); err == nil {
		t.Fatal("a functionConfig that is not ApplyReplacements must fail")
	}
}
