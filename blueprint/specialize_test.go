package blueprint

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

func workloadCluster(name, clusterName string) *kyaml.RNode {
	return kyaml.MustParse("apiVersion: infra.nephio.org/v1alpha1\nkind: WorkloadCluster\nmetadata:\n  name: " + name +
		"\nspec:\n  clusterName: " + clusterName + "\n  masterInterface: eth1\nstatus:\n  ready: true\n")
}

func kptfileIn(t *testing.T, files map[string]string) *kptfilev1.KptFile {
	t.Helper()
	kf, err := parseKptfile(files)
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

func TestSpecializePackageContext(t *testing.T) {
	bp := loadNephio(t, "pkg-example-amf-bp")
	o := &GenerateOptions{Name: "amf-edge01", Variant: "amf-edge01", Deployment: true, PackageContext: &PackageContext{Data: map[string]string{"site": "paris"}, RemoveKeys: []string{"gone"}}}
	s, err := specialize(bp.Files, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := field(t, s.files["package-context.yaml"], "ConfigMap", "data")
	got := map[string]string{}
	for i := 0; i+1 < len(data.Content); i += 2 {
		got[data.Content[i].Value] = data.Content[i+1].Value
	}
	if !reflect.DeepEqual(got, map[string]string{"name": "amf-edge01", "site": "paris"}) {
		t.Fatalf("package context = %v", got)
	}
	if n := field(t, s.files["Kptfile"], "Kptfile", "metadata", "name"); n.Value != "amf-edge01" {
		t.Fatalf("Kptfile name = %q", n.Value)
	}
	// Outside a deployment repository Porch's clone leaves the context.
	s, err = specialize(bp.Files, &GenerateOptions{Name: "amf-edge01"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.files["package-context.yaml"] != bp.Files["package-context.yaml"] {
		t.Fatal("context changed outside a deployment")
	}
	for _, key := range reservedContextKeys {
		for _, pc := range []*PackageContext{{Data: map[string]string{key: "x"}}, {RemoveKeys: []string{key}}} {
			if _, err := specialize(bp.Files, &GenerateOptions{PackageContext: pc}, nil); !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("reserved key %q accepted: %v", key, err)
			}
		}
	}
	files := declaredFiles()
	delete(files, PackageContextFile)
	if _, err := specialize(files, &GenerateOptions{PackageContext: &PackageContext{Data: map[string]string{"a": "b"}}}, nil); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("package context without the file: %v", err)
	}
}

// For a deployment, Porch regenerates each package's context with only its
// name: other keys go, a missing context is created, subpackages get theirs.
func TestSpecializeDeploymentContext(t *testing.T) {
	files := map[string]string{
		"Kptfile":              "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: up\n",
		"package-context.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\ndata:\n  name: up\n  stale: x\n",
		"db/Kptfile":           "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: db\n",
	}
	s, err := specialize(files, &GenerateOptions{Name: "down", Deployment: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"package-context.yaml": "down", "db/package-context.yaml": "db"} {
		data := kyamlData(t, s.files[path])
		if !reflect.DeepEqual(data, map[string]string{"name": want}) {
			t.Errorf("%s data = %v", path, data)
		}
	}
}

func kyamlData(t *testing.T, src string) map[string]string {
	t.Helper()
	n, err := kyaml.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return n.GetDataMap()
}

func TestSpecializePipelineAdditions(t *testing.T) {
	bp := loadNephio(t, "pkg-example-amf-bp")
	before := kptfileIn(t, bp.Files)
	add := &kptfilev1.Pipeline{
		Mutators: []kptfilev1.Function{
			{Image: "ghcr.io/kptdev/krm-functions-catalog/set-annotations:v0.1.4", Name: "annotate", ConfigMap: map[string]string{"nephio.org/cluster-name": "edge01"}},
			{Image: "ghcr.io/kptdev/krm-functions-catalog/set-labels:v0.2.0"},
		},
		Validators: []kptfilev1.Function{{Image: "ghcr.io/kptdev/krm-functions-catalog/kubeconform:v0.1.1", Name: "check"}},
	}
	s, err := specialize(bp.Files, &GenerateOptions{Variant: "edge01", Pipeline: add}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kf := kptfileIn(t, s.files)
	var names []string
	for _, fn := range kf.Pipeline.Mutators {
		names = append(names, fn.Name)
	}
	wantNames := []string{"PackageVariant.edge01.annotate.0", "PackageVariant.edge01..1"}
	for range before.Pipeline.Mutators {
		wantNames = append(wantNames, "")
	}
	if !reflect.DeepEqual(names, wantNames) {
		t.Fatalf("mutator names = %q", names)
	}
	if kf.Pipeline.Mutators[0].ConfigMap["nephio.org/cluster-name"] != "edge01" || kf.Pipeline.Mutators[2].Image != before.Pipeline.Mutators[0].Image {
		t.Fatalf("mutators = %+v", kf.Pipeline.Mutators)
	}
	if len(kf.Pipeline.Validators) != 1 || kf.Pipeline.Validators[0].Name != "PackageVariant.edge01.check.0" {
		t.Fatalf("validators = %+v", kf.Pipeline.Validators)
	}
	// Specialising again replaces the variant's own functions, keeps others'.
	again, err := specialize(s.files, &GenerateOptions{Variant: "edge01", Pipeline: &kptfilev1.Pipeline{Mutators: add.Mutators[:1]}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kf = kptfileIn(t, again.files)
	if len(kf.Pipeline.Mutators) != len(before.Pipeline.Mutators)+1 || kf.Pipeline.Validators != nil {
		t.Fatalf("re-specialised pipeline = %+v", kf.Pipeline)
	}
	other, err := specialize(s.files, &GenerateOptions{Variant: "other"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if kf := kptfileIn(t, other.files); len(kf.Pipeline.Mutators) != len(before.Pipeline.Mutators)+2 {
		t.Fatalf("another variant removed edge01's functions: %+v", kf.Pipeline.Mutators)
	}
}

func TestSpecializeInjectionFirstMatchWins(t *testing.T) {
	bp := loadNephio(t, "pkg-example-upf-bp")
	kind := "WorkloadCluster"
	wrongGroup := "other.io"
	o := &GenerateOptions{
		Injectors: []Injector{
			{Group: &wrongGroup, Name: "edge01"}, // does not serve infra.nephio.org points
			{Name: "absent"},                     // names no offered object
			{Kind: &kind, Name: "edge02"},        // first match
			{Name: "edge01"},
		},
		InjectionObjects: []*kyaml.RNode{workloadCluster("edge01", "edge01"), workloadCluster("edge02", "edge02")},
	}
	s, err := specialize(bp.Files, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	wc := s.files["workload-cluster.yaml"]
	if n := field(t, wc, "WorkloadCluster", "spec", "clusterName"); n.Value != "edge02" {
		t.Fatalf("clusterName = %q", n.Value)
	}
	if n := field(t, wc, "WorkloadCluster", "metadata", "name"); n.Value != "workload-cluster" {
		t.Fatalf("metadata copied: %q", n.Value)
	}
	if strings.Contains(wc, "ready") {
		t.Fatalf("status copied:\n%s", wc)
	}
	if n := field(t, wc, "WorkloadCluster", "metadata", "annotations", InjectedResourceAnnotation); n.Value != "edge02" {
		t.Fatalf("injected-resource = %q", n.Value)
	}
	kf := kptfileIn(t, s.files)
	wantCond := kptfilev1.Condition{Type: "config.injection.WorkloadCluster.workload-cluster", Status: "True", Reason: "ConfigInjected", Message: `injected resource "edge02" from cluster`}
	if len(kf.Status.Conditions) != 1 || kf.Status.Conditions[0] != wantCond {
		t.Fatalf("conditions = %+v", kf.Status.Conditions)
	}
	if !reflect.DeepEqual(kf.Info.ReadinessGates, []kptfilev1.ReadinessGate{{ConditionType: wantCond.Type}}) {
		t.Fatalf("gates = %+v", kf.Info.ReadinessGates)
	}
	if len(s.injections) != 1 || !s.injections[0].Injected || s.injections[0].From != "edge02" {
		t.Fatalf("results = %+v", s.injections)
	}
}

func TestSpecializeInjectionFailures(t *testing.T) {
	bp := loadNephio(t, "pkg-example-smf-bp")
	cm := kyaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: edge01\ndata:\n  a: b\n")
	noSpec := kyaml.MustParse("apiVersion: infra.nephio.org/v1alpha1\nkind: WorkloadCluster\nmetadata:\n  name: bare\n")
	cases := map[string]struct {
		o       GenerateOptions
		message string
	}{
		"no injectors":  {GenerateOptions{}, "no injectors defined"},
		"no objects":    {GenerateOptions{Injectors: []Injector{{Name: "edge01"}}, InjectionObjects: []*kyaml.RNode{cm}}, "no in-cluster resources of type infra.nephio.org/v1alpha1.WorkloadCluster"},
		"no match":      {GenerateOptions{Injectors: []Injector{{Name: "edge09"}}, InjectionObjects: []*kyaml.RNode{workloadCluster("edge01", "x")}}, "no resource matched any injection selector for this injection point"},
		"field missing": {GenerateOptions{Injectors: []Injector{{Name: "bare"}}, InjectionObjects: []*kyaml.RNode{noSpec}}, `field "spec" not found in resource "bare"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := specialize(bp.Files, &c.o, nil)
			if err != nil {
				t.Fatal(err)
			}
			kf := kptfileIn(t, s.files)
			cond := kf.Status.Conditions[0]
			if cond.Status != "False" || cond.Reason != "NoResourceSelected" || cond.Message != c.message {
				t.Fatalf("condition = %+v", cond)
			}
			if len(kf.Info.ReadinessGates) != 1 {
				t.Fatalf("required point without a gate: %+v", kf.Info)
			}
			if s.files["workload-cluster.yaml"] != bp.Files["workload-cluster.yaml"] {
				t.Fatal("point changed without injection")
			}
		})
	}
	if _, err := specialize(bp.Files, &GenerateOptions{Injectors: []Injector{{}}}, nil); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("empty injector name: %v", err)
	}
}

func TestSpecializeConfigMapInjectsData(t *testing.T) {
	files := map[string]string{
		"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\ninfo:\n  readinessGates:\n  - conditionType: a.existing.gate\nstatus:\n  conditions:\n  - type: zz.other\n    status: \"True\"\n",
		"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  annotations:\n    kpt.dev/config-injection: optional\ndata:\n  level: info\n",
	}
	src := kyaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: prod-settings\ndata:\n  level: warn\nspec:\n  ignored: true\n")
	s, err := specialize(files, &GenerateOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := kptfileIn(t, s.files).Status.Conditions[0]; c.Message != "no injectors defined" {
		t.Fatalf("condition = %+v", c)
	}
	s, err = specialize(files, &GenerateOptions{InjectionObjects: []*kyaml.RNode{src}, Injectors: []Injector{{Name: "prod-settings"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := field(t, s.files["cm.yaml"], "ConfigMap", "data", "level"); n.Value != "warn" {
		t.Fatalf("level = %q", n.Value)
	}
	if strings.Contains(s.files["cm.yaml"], "ignored") {
		t.Fatal("spec copied into a ConfigMap")
	}
	kf := kptfileIn(t, s.files)
	// An optional point adds no gate; existing gates and conditions stay, sorted.
	if !reflect.DeepEqual(kf.Info.ReadinessGates, []kptfilev1.ReadinessGate{{ConditionType: "a.existing.gate"}}) {
		t.Fatalf("gates = %+v", kf.Info.ReadinessGates)
	}
	if len(kf.Status.Conditions) != 2 || kf.Status.Conditions[0].Type != "config.injection.ConfigMap.settings" || kf.Status.Conditions[1].Type != "zz.other" {
		t.Fatalf("conditions = %+v", kf.Status.Conditions)
	}
}

func TestSpecializeValuesFillPoint(t *testing.T) {
	bp := loadNephio(t, "pkg-example-amf-bp")
	s, err := specialize(bp.Files, &GenerateOptions{}, map[string]bool{"config.injection.WorkloadCluster.workload-cluster": true})
	if err != nil {
		t.Fatal(err)
	}
	c := kptfileIn(t, s.files).Status.Conditions[0]
	if c.Status != "True" || c.Reason != ReasonConfigInjected || s.injections[0].From != "values" {
		t.Fatalf("condition = %+v", c)
	}
}
