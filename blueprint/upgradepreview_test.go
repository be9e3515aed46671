package blueprint

import (
	"errors"
	"strings"
	"testing"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const previewKptfile = `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: amf
info:
  description: AMF blueprint
`

const previewDeploymentV1 = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: amf
  labels:
    app: amf
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: amf
        image: example.org/amf:1.0
        args: ["--log=info"]
      - name: sidecar
        image: example.org/sidecar:1.0
`

const previewDeploymentV2 = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: amf
  labels:
    app: amf
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: amf
        image: example.org/amf:2.0
        args: ["--log=info", "--metrics"]
        ports:
        - name: sbi
          containerPort: 8080
      - name: sidecar
        image: example.org/sidecar:1.0
`

const previewDeploymentLocal = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: amf
  labels:
    app: amf
    site: edge-1
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: amf
        image: example.org/amf:1.0
        args: ["--log=debug"]
`

const previewConfigV1 = `apiVersion: v1
kind: ConfigMap
metadata:
  name: amf-config
data:
  logLevel: info
  plmn: "001-01"
`

const previewConfigV2 = `apiVersion: v1
kind: ConfigMap
metadata:
  name: amf-config
data:
  logLevel: warn
  plmn: "001-01"
  timeout: 30s
`

const previewConfigLocal = `apiVersion: v1
kind: ConfigMap
metadata:
  name: amf-config
data:
  logLevel: debug
  plmn: "208-93"
`

func previewVersions() (old, upd, local map[string]string) {
	old = map[string]string{"Kptfile": previewKptfile, "deployment.yaml": previewDeploymentV1, "config.yaml": previewConfigV1, "README.md": "# AMF v1\n"}
	upd = map[string]string{"Kptfile": previewKptfile, "deployment.yaml": previewDeploymentV2, "config.yaml": previewConfigV2, "README.md": "# AMF v2\n",
		"service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: amf\nspec:\n  ports:\n  - name: sbi\n    port: 80\n"}
	local = map[string]string{
		"Kptfile":         previewKptfile + "upstream:\n  type: git\nupstreamLock:\n  type: git\n",
		"deployment.yaml": previewDeploymentLocal, "config.yaml": previewConfigLocal, "README.md": "# AMF v1\n",
		"site.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site\ndata:\n  region: eu-west\n",
	}
	return old, upd, local
}

// mergedField reads a field of a merged resource, as a Value.
func mergedField(t *testing.T, p *UpgradePreview, key ResourceKey, path string) Value {
	t.Helper()
	return fieldOf(t, p.Merged, key, path)
}

// fieldOf reads a field of a resource of a package's files, as a Value.
func fieldOf(t *testing.T, files map[string]string, key ResourceKey, path string) Value {
	t.Helper()
	for file, text := range files {
		if !isKRMFile(file) {
			continue
		}
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(text), OmitReaderAnnotations: true}).Read()
		if err != nil {
			t.Fatalf("%s does not parse: %v", file, err)
		}
		for _, n := range nodes {
			if keyOf(n) != key {
				continue
			}
			fields := map[string]leaf{}
			flatten(n, nil, fields)
			l, ok := fields[path]
			return valueOf(l, ok)
		}
	}
	return Value{}
}

// assertCustomizationsKept checks every customisation the preview found,
// except those it reports Lost, is in the merged package.
func assertCustomizationsKept(t *testing.T, p *UpgradePreview) {
	t.Helper()
	lost := map[string]bool{}
	for _, c := range p.Lost {
		lost[c.Resource.String()+" "+c.Path] = true
	}
	for _, c := range p.Customizations {
		if lost[c.Resource.String()+" "+c.Path] {
			continue
		}
		if c.Resource.File != "" {
			if got := p.Merged[c.Resource.File]; got != c.Value.JSON {
				t.Errorf("customised file %s lost: merged %q", c.Resource.File, got)
			}
			continue
		}
		if c.Path == "" {
			if mergedField(t, p, c.Resource, "metadata.name").Present != c.Value.Present {
				t.Errorf("customised resource %s lost", c.Resource)
			}
			continue
		}
		if got := mergedField(t, p, c.Resource, c.Path); got != c.Value {
			t.Errorf("customisation %s %s lost: merged %s, local %s", c.Resource, c.Path, got, c.Value)
		}
	}
}

var (
	deploymentKey = ResourceKey{Group: "apps", Kind: "Deployment", Name: "amf"}
	configKey     = ResourceKey{Kind: "ConfigMap", Name: "amf-config"}
)

func TestPreviewUpgradeKeepsCustomizations(t *testing.T) {
	old, upd, local := previewVersions()
	p, err := PreviewUpgrade(old, upd, local, PreviewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Conflicts, in file order: logLevel (debug vs warn) and the amf
	// container's args.
	// The sidecar removed downstream is a local change only; the label,
	// replicas and plmn are local changes only; the image and ports are
	// upstream changes only.
	var got []string
	for _, c := range p.Conflicts {
		got = append(got, c.Resource.String()+" "+c.Path+" "+string(c.Policy))
	}
	want := []string{
		"ConfigMap/amf-config data.logLevel keep-local",
		"Deployment.apps/amf spec.template.spec.containers.[name=amf].args keep-local",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("conflicts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	c := p.Conflicts[0]
	if c.OldUpstream.JSON != `"info"` || c.NewUpstream.JSON != `"warn"` || c.Local.JSON != `"debug"` || c.File != "config.yaml" {
		t.Errorf("logLevel conflict: %+v", c)
	}
	if len(p.Lost) != 0 {
		t.Errorf("lost %v", p.Lost)
	}
	assertCustomizationsKept(t, p)
	if len(p.Customizations) < 6 {
		t.Errorf("customisations found: %d (%v), want at least 6", len(p.Customizations), p.Customizations)
	}

	checks := []struct {
		key   ResourceKey
		path  string
		value string
	}{
		{deploymentKey, "spec.replicas", `3`},
		{deploymentKey, "metadata.labels.site", `"edge-1"`},
		{deploymentKey, "spec.template.spec.containers.[name=amf].image", `"example.org/amf:2.0"`},
		{deploymentKey, "spec.template.spec.containers.[name=amf].ports.[name=sbi].containerPort", `8080`},
		{deploymentKey, "spec.template.spec.containers.[name=amf].args", `["--log=debug"]`},
		{configKey, "data.logLevel", `"debug"`},
		{configKey, "data.plmn", `"208-93"`},
		{configKey, "data.timeout", `"30s"`},
		{ResourceKey{Kind: "Service", Name: "amf"}, "spec.ports.[name=sbi].port", `80`},
		{ResourceKey{Kind: "ConfigMap", Name: "site"}, "data.region", `"eu-west"`},
	}
	for _, ch := range checks {
		if got := mergedField(t, p, ch.key, ch.path); got != (Value{Present: true, JSON: ch.value}) {
			t.Errorf("merged %s %s = %s, want %s", ch.key, ch.path, got, ch.value)
		}
	}
	if got := mergedField(t, p, deploymentKey, "spec.template.spec.containers.[name=sidecar].image"); got.Present {
		t.Errorf("sidecar removed downstream came back: %s", got)
	}
	if p.Merged["README.md"] != "# AMF v2\n" {
		t.Errorf("README not upgraded: %q", p.Merged["README.md"])
	}
	// The three-way diff of the Deployment.
	var dep *ResourceDiff
	for i := range p.Resources {
		if p.Resources[i].Key == deploymentKey {
			dep = &p.Resources[i]
		}
	}
	if dep == nil || dep.Upstream != Modified || dep.Local != Modified || dep.File != "deployment.yaml" || len(dep.Fields) == 0 {
		t.Fatalf("deployment diff: %+v", dep)
	}
	for _, f := range dep.Fields {
		if f.Path == "spec.replicas" && (f.OldUpstream.JSON != "1" || f.NewUpstream.JSON != "1" || f.Local.JSON != "3" || f.Merged.JSON != "3" || !f.LocalChanged() || f.UpstreamChanged()) {
			t.Errorf("replicas diff %+v", f)
		}
	}
}

func TestPreviewUpgradePolicies(t *testing.T) {
	old, upd, local := previewVersions()

	t.Run("take upstream by rule", func(t *testing.T) {
		p, err := PreviewUpgrade(old, upd, local, PreviewOptions{Rules: []PolicyRule{{Kind: "ConfigMap", Path: "data", Policy: TakeUpstream}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := mergedField(t, p, configKey, "data.logLevel"); got.JSON != `"warn"` {
			t.Errorf("logLevel %s, want upstream's", got)
		}
		if got := mergedField(t, p, deploymentKey, "spec.template.spec.containers.[name=amf].args"); got.JSON != `["--log=debug"]` {
			t.Errorf("args %s, want local's (no rule matches)", got)
		}
		if len(p.Lost) != 1 || p.Lost[0].Path != "data.logLevel" {
			t.Errorf("lost %v, want data.logLevel", p.Lost)
		}
		assertCustomizationsKept(t, p)
	})

	t.Run("fail", func(t *testing.T) {
		p, err := PreviewUpgrade(old, upd, local, PreviewOptions{Policy: FailOnConflict, Rules: []PolicyRule{{Kind: "Deployment", Policy: KeepLocal}}})
		var ce *ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, ErrUpgradeConflict) {
			t.Fatalf("err %v, want a *ConflictError", err)
		}
		if len(ce.Conflicts) != 1 || ce.Conflicts[0].Path != "data.logLevel" || !strings.Contains(err.Error(), "data.logLevel") {
			t.Errorf("failing conflicts %v", ce.Conflicts)
		}
		if p == nil || len(p.Conflicts) != 2 {
			t.Errorf("the preview comes with the error, with every conflict: %+v", p)
		}
	})

	t.Run("fast-forward refuses local changes", func(t *testing.T) {
		_, err := PreviewUpgrade(old, upd, local, PreviewOptions{Strategy: porchapi.FastForward})
		if !errors.Is(err, ErrNotFastForward) {
			t.Fatalf("err %v, want ErrNotFastForward", err)
		}
		p, err := PreviewUpgrade(old, upd, old, PreviewOptions{Strategy: porchapi.FastForward})
		if err != nil {
			t.Fatal(err)
		}
		if p.Merged["config.yaml"] == "" || mergedField(t, p, configKey, "data.logLevel").JSON != `"warn"` {
			t.Errorf("fast-forward of an unchanged package is the new upstream: %v", p.Merged)
		}
	})

	t.Run("force-delete-replace loses every customisation, and says so", func(t *testing.T) {
		p, err := PreviewUpgrade(old, upd, local, PreviewOptions{Strategy: porchapi.ForceDeleteReplace})
		if err != nil {
			t.Fatal(err)
		}
		if mergedField(t, p, deploymentKey, "spec.replicas").JSON != "1" {
			t.Errorf("replicas not replaced")
		}
		if len(p.Lost) != len(p.Customizations) || len(p.Lost) == 0 {
			t.Errorf("lost %d of %d customisations: every one goes", len(p.Lost), len(p.Customizations))
		}
		if _, ok := p.Merged["site.yaml"]; ok {
			t.Errorf("a downstream-only file survived force-delete-replace")
		}
		assertCustomizationsKept(t, p)
	})

	t.Run("copy-merge keeps downstream-only resources", func(t *testing.T) {
		p, err := PreviewUpgrade(old, upd, local, PreviewOptions{Strategy: porchapi.CopyMerge})
		if err != nil {
			t.Fatal(err)
		}
		if mergedField(t, p, ResourceKey{Kind: "ConfigMap", Name: "site"}, "data.region").JSON != `"eu-west"` {
			t.Errorf("downstream-only resource dropped")
		}
		if mergedField(t, p, configKey, "data.logLevel").JSON != `"warn"` {
			t.Errorf("upstream resource not copied over")
		}
		assertCustomizationsKept(t, p)
	})
}

func TestPreviewUpgradeWholeResourceConflict(t *testing.T) {
	old, upd, local := previewVersions()
	delete(upd, "config.yaml") // upstream drops the ConfigMap the downstream changed
	p, err := PreviewUpgrade(old, upd, local, PreviewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, c := range p.Conflicts {
		if c.Resource == configKey && c.Path == "" && !c.NewUpstream.Present && c.Local.Present {
			found = true
		}
	}
	if !found {
		t.Fatalf("no whole-resource conflict for %s: %v", configKey, p.Conflicts)
	}
	if mergedField(t, p, configKey, "data.plmn").JSON != `"208-93"` {
		t.Errorf("kept-local resource missing from the merge")
	}
	p, err = PreviewUpgrade(old, upd, local, PreviewOptions{Policy: TakeUpstream})
	if err != nil {
		t.Fatal(err)
	}
	if mergedField(t, p, configKey, "metadata.name").Present {
		t.Errorf("take-upstream kept a resource upstream removed")
	}
}

func TestPreviewUpgradeBadInput(t *testing.T) {
	old, upd, local := previewVersions()
	for name, tc := range map[string]struct {
		opts  PreviewOptions
		local map[string]string
		want  error
		field string
	}{
		"unknown policy":   {opts: PreviewOptions{Policy: "merge-somehow"}, local: local, want: ErrInvalidConflictPolicy, field: "Policy"},
		"unknown rule":     {opts: PreviewOptions{Rules: []PolicyRule{{Policy: "x"}}}, local: local, want: ErrInvalidConflictPolicy, field: "Rules[0].Policy"},
		"unknown strategy": {opts: PreviewOptions{Strategy: "rebase"}, local: local, want: ErrInvalidConflictPolicy, field: "Strategy"},
		"bad yaml":         {local: map[string]string{"Kptfile": previewKptfile, "x.yaml": "a: [b"}, want: ErrInvalidPackage, field: "x.yaml"},
		"duplicate":        {local: map[string]string{"a.yaml": previewConfigV1, "b.yaml": previewConfigV1}, want: ErrInvalidPackage, field: "twice"},
		"no name":          {local: map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\n"}, want: ErrInvalidPackage, field: "a.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := PreviewUpgrade(old, upd, tc.local, tc.opts)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("err %v, want %v naming %s", err, tc.want, tc.field)
			}
		})
	}
}

func TestSetLeafCreatesAndRemoves(t *testing.T) {
	n := yaml.MustParse("spec:\n  containers:\n  - name: a\n    image: x\n")
	if err := setLeaf(n, []string{"spec", "containers", "[name=b]", "image"}, yaml.NewScalarRNode("z")); err != nil {
		t.Fatal(err)
	}
	if err := setLeaf(n, []string{"spec", "containers", "[name=a]", "name"}, nil); err != nil {
		t.Fatal(err)
	}
	got := n.MustString()
	if strings.Contains(got, "name: a") || !strings.Contains(got, "name: b") || !strings.Contains(got, "image: z") {
		t.Errorf("got\n%s", got)
	}
}

// FuzzPreviewUpgrade feeds arbitrary files as the three versions: the
// preview never panics, and every error is one of its typed errors.
func FuzzPreviewUpgrade(f *testing.F) {
	f.Add(previewConfigV1, previewConfigV2, previewConfigLocal)
	f.Add(previewDeploymentV1, previewDeploymentV2, previewDeploymentLocal)
	f.Add("a: [b", "kind: X\nmetadata:\n  name: y\n", "")
	f.Fuzz(func(t *testing.T, old, upd, local string) {
		files := func(s string) map[string]string { return map[string]string{"Kptfile": previewKptfile, "r.yaml": s} }
		for _, policy := range []ConflictPolicy{KeepLocal, TakeUpstream, FailOnConflict} {
			p, err := PreviewUpgrade(files(old), files(upd), files(local), PreviewOptions{Policy: policy})
			switch {
			case err == nil:
				if p == nil || p.Merged["Kptfile"] == "" {
					t.Fatalf("no merged Kptfile: %+v", p)
				}
			case errors.Is(err, ErrInvalidPackage), errors.Is(err, ErrUpgradeConflict):
			default:
				t.Fatalf("untyped error: %v", err)
			}
		}
	})
}
