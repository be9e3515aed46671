package blueprint

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

var nephioPackages = []string{"pkg-example-amf-bp", "pkg-example-smf-bp", "pkg-example-upf-bp", "pkg-example-cucp-bp", "pkg-example-cuup-bp"}

// Every Nephio workload blueprint has one injection point, the required
// WorkloadCluster the PackageVariant fills, no kpt setters, and a package
// context with only the name.
func TestInferNephioBlueprints(t *testing.T) {
	for _, name := range nephioPackages {
		t.Run(name, func(t *testing.T) {
			bp := loadNephio(t, name)
			points, err := InjectionPoints(bp.Files)
			if err != nil {
				t.Fatal(err)
			}
			want := []InjectionPoint{{
				File: "workload-cluster.yaml", APIVersion: "infra.nephio.org/v1alpha1", Kind: "WorkloadCluster", Name: "workload-cluster",
				Required: true, Field: "spec", Shape: map[string]any{"clusterName": "example"},
				ConditionType: "config.injection.WorkloadCluster.workload-cluster",
			}}
			if !reflect.DeepEqual(points, want) {
				t.Fatalf("injection points = %+v", points)
			}
			setters, err := Setters(bp.Files)
			if err != nil {
				t.Fatal(err)
			}
			if len(setters) != 0 {
				t.Fatalf("setters = %+v", setters)
			}
			keys, err := PackageContextKeys(bp.Files)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(keys, []string{"name"}) {
				t.Fatalf("package context keys = %v", keys)
			}
			p, err := Infer(bp.Files)
			if err != nil {
				t.Fatal(err)
			}
			wantBindings := []Binding{{Value: "WorkloadCluster.workload-cluster", Injection: &Selector{APIVersion: "infra.nephio.org/v1alpha1", Kind: "WorkloadCluster", Name: "workload-cluster"}}}
			if !reflect.DeepEqual(p.Bindings, wantBindings) {
				t.Fatalf("bindings = %+v", p.Bindings)
			}
			d, err := p.Describe()
			if err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, pi := range d.Parameters {
				paths = append(paths, pi.Path+":"+pi.Type)
			}
			if !reflect.DeepEqual(paths, []string{"WorkloadCluster:object", "WorkloadCluster.workload-cluster:object", "WorkloadCluster.workload-cluster.clusterName:string"}) {
				t.Fatalf("parameters = %v", paths)
			}
			if !strings.Contains(d.Parameters[1].Description, "required injection point WorkloadCluster workload-cluster in workload-cluster.yaml") {
				t.Fatalf("description = %q", d.Parameters[1].Description)
			}
			s, err := p.Compile()
			if err != nil {
				t.Fatal(err)
			}
			if errs := s.SchemaErrors(Values{"WorkloadCluster": Values{"workload-cluster": Values{"clusterName": 7}}}); len(errs) != 1 || errs[0].InstanceLocation != "/WorkloadCluster/workload-cluster/clusterName" {
				t.Fatalf("wrong type accepted: %+v", errs)
			}
			if errs := s.SchemaErrors(Values{"replicas": 2}); len(errs) != 1 || errs[0].Keyword != "additionalProperties" {
				t.Fatalf("unknown key accepted: %+v", errs)
			}
		})
	}
}

func TestInferSettersAndOptionalPoints(t *testing.T) {
	files := map[string]string{
		"Kptfile": `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: web
pipeline:
  mutators:
  - image: ghcr.io/kptdev/krm-functions-catalog/apply-setters:v0.2.0
    configMap:
      replicas: "2"
      app: web
`,
		"deploy.yaml": setterPackage,
		"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    kpt.dev/config-injection: optional
data:
  level: debug
`,
		"package-context.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\ndata:\n  name: web\n  site: paris\n",
	}
	setters, err := Setters(files)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range setters {
		got = append(got, s.Name+":"+s.Type+":"+s.Value)
	}
	if !reflect.DeepEqual(got, []string{"app:string:web", "args:array:", "ns:string:", "replicas:integer:2", "tag:string:"}) {
		t.Fatalf("setters = %v", got)
	}
	if f := setters[3].Fields; len(f) != 1 || f[0].Path != "spec.replicas" || f[0].File != "deploy.yaml" || f[0].Line != 7 || f[0].Pattern != "${replicas}" {
		t.Fatalf("replicas fields = %+v", f)
	}
	points, err := InjectionPoints(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 1 || points[0].Required || points[0].Field != "data" || !reflect.DeepEqual(points[0].Shape, map[string]any{"level": "debug"}) {
		t.Fatalf("points = %+v", points)
	}
	keys, _ := PackageContextKeys(files)
	if !reflect.DeepEqual(keys, []string{"name", "site"}) {
		t.Fatalf("keys = %v", keys)
	}
	p, err := Infer(files)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := p.Compile()
	if d := s.Defaults(); !reflect.DeepEqual(d, Values{"replicas": int64(2), "app": "web"}) {
		t.Fatalf("defaults = %v", d)
	}
}

func TestInjectionPointsRejectBadAnnotations(t *testing.T) {
	base := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    kpt.dev/config-injection: %s\ndata: {}\n"
	for name, files := range map[string]map[string]string{
		"bad value": {"a.yaml": strings.Replace(base, "%s", "sometimes", 1)},
		"duplicate": {"a.yaml": strings.Replace(base, "%s", "required", 1), "b.yaml": strings.Replace(base, "%s", "optional", 1)},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := InjectionPoints(files); !errors.Is(err, ErrInjection) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
