package blueprint

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/porch"
)

var nephioFunctions = SkipFunctions{"docker.io/nephio/"}

// The Nephio flow: the PackageVariant's injector fills the WorkloadCluster,
// the catalog functions of the pipeline propagate its name, the Nephio
// specializers are skipped on request.
func TestGenerateNephioBlueprintWithInjector(t *testing.T) {
	for _, name := range nephioPackages {
		t.Run(name, func(t *testing.T) {
			bp := loadNephio(t, name)
			orig := bp.DeepCopy()
			pkg, err := Generate(context.Background(), bp, nil, Name("nf-edge01"), AsDeployment(), Inject(workloadCluster("edge01", "edge01")), nephioFunctions)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(bp, orig) {
				t.Fatal("blueprint modified")
			}
			var nfName, ns string
			for path, src := range pkg.Files {
				if !isYAMLFile(path) {
					continue
				}
				nodes, err := readNodes(src)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				for _, n := range nodes {
					if n.GetKind() == "NFDeployment" {
						nfName, ns = n.GetName(), n.GetNamespace()
					}
				}
			}
			if !strings.HasSuffix(nfName, "-edge01") || ns == "" {
				t.Fatalf("NFDeployment %s/%s: apply-replacements did not propagate the injected cluster name", ns, nfName)
			}
			if len(pkg.Skipped) == 0 || !strings.HasPrefix(pkg.Skipped[0], "docker.io/nephio/") {
				t.Fatalf("skipped = %v", pkg.Skipped)
			}
			kf := kptfileIn(t, pkg.Files)
			if c := kf.Status.Conditions[0]; c.Status != "True" || c.Message != `injected resource "edge01" from cluster` {
				t.Fatalf("condition = %+v", c)
			}
			if pkg.Render == nil || len(pkg.Render.Runs) == 0 {
				t.Fatal("no render result")
			}
			if got := field(t, pkg.Files["package-context.yaml"], "ConfigMap", "data", "name"); got.Value != "nf-edge01" {
				t.Fatalf("package context name = %q", got.Value)
			}
			p := pkg.Porch()
			if p.Name != "nf-edge01" || !reflect.DeepEqual(p.Resources, pkg.Files) {
				t.Fatal("porch package differs")
			}
		})
	}
}

// Values can fill an inferred injection point instead of an injector.
func TestGenerateNephioBlueprintWithValues(t *testing.T) {
	bp := loadNephio(t, "pkg-example-amf-bp")
	pkg, err := Generate(context.Background(), bp, Values{"WorkloadCluster": Values{"workload-cluster": Values{"clusterName": "core01"}}}, nephioFunctions)
	if err != nil {
		t.Fatal(err)
	}
	if n := field(t, pkg.Files["amfdeployment.yaml"], "NFDeployment", "metadata", "name"); n.Value != "amf-core01" {
		t.Fatalf("NFDeployment name = %q", n.Value)
	}
	if pkg.Injections[0].From != "values" || pkg.Origins["WorkloadCluster.workload-cluster.clusterName"] != LayerValues {
		t.Fatalf("injections %+v origins %v", pkg.Injections, pkg.Origins)
	}
	_, err = Generate(context.Background(), bp, Values{"WorkloadCluster": Values{"workload-cluster": Values{"clusterName": 5}}}, nephioFunctions)
	var ve *ValuesError
	if !errors.As(err, &ve) || ve.Blueprint != "pkg-example-amf-bp" || ve.Errors[0].InstanceLocation != "/WorkloadCluster/workload-cluster/clusterName" {
		t.Fatalf("err = %v", err)
	}
}

// Porch cannot run docker.io/nephio/*-fn either when no runtime has them:
// without SkipFunctions the render fails, naming every such function.
func TestGenerateFailsOnFunctionsThatCannotRun(t *testing.T) {
	bp := loadNephio(t, "pkg-example-upf-bp")
	_, err := Generate(context.Background(), bp, nil)
	var fe *FunctionUnavailableError
	if !errors.As(err, &fe) || !errors.Is(err, ErrFunctionUnavailable) {
		t.Fatalf("err = %v", err)
	}
	kf, _ := bp.Kptfile()
	var want []string
	for _, fn := range kf.Pipeline.Mutators {
		if strings.HasPrefix(fn.Image, "docker.io/nephio/") {
			want = append(want, fn.Image)
		}
	}
	if !reflect.DeepEqual(fe.Images, want) {
		t.Fatalf("images = %v, want %v", fe.Images, want)
	}
	// Without render, the specialised package comes back.
	pkg, err := Generate(context.Background(), bp, nil, WithoutRender())
	if err != nil || pkg.Render != nil {
		t.Fatalf("no-render: %v", err)
	}
}

func TestGenerateDeclaredBlueprint(t *testing.T) {
	pkg, err := Generate(context.Background(), declared(), Values{"region": "eu-west", "replicas": 2},
		Environment("prod"), &ClusterContext{Region: "us-east"},
		WithPipeline(&kptfilev1.Pipeline{Mutators: []kptfilev1.Function{{Image: "ghcr.io/kptdev/krm-functions-catalog/set-annotations:v0.1.4", Name: "owner", ConfigMap: map[string]string{"owner": "team-a"}}}}))
	if err != nil {
		t.Fatal(err)
	}
	d := pkg.Files["deployment.yaml"]
	if n := field(t, d, "Deployment", "spec", "replicas"); n.Value != "2" || n.ShortTag() != "!!int" {
		t.Fatalf("replicas = %q %s", n.Value, n.ShortTag())
	}
	if n := field(t, d, "Deployment", "metadata", "labels", "region"); n.Value != "us-east" {
		t.Fatalf("region label = %q (cluster context must win)", n.Value)
	}
	if n := field(t, d, "Deployment", "metadata", "labels", "app"); n.Value != "amf" {
		t.Fatalf("pipeline set-labels did not run: %q", n.Value)
	}
	if n := field(t, d, "Deployment", "metadata", "annotations", "owner"); n.Value != "team-a" {
		t.Fatalf("added mutator did not run: %q", n.Value)
	}
	if n := field(t, pkg.Files["config.yaml"], "ConfigMap", "data", "ha"); n.Value != "on" {
		t.Fatalf("template did not see the prod overlay: %q", n.Value)
	}
	if _, ok := pkg.Files["config.yaml.tmpl"]; ok {
		t.Fatal("template left in the package")
	}
	want := Origins{"replicas": LayerValues, "region": LayerCluster, "ha.enabled": LayerEnvironment, "image": LayerDefault, "capacity.maxSubscribers": LayerDefault}
	if !reflect.DeepEqual(pkg.Origins, want) {
		t.Fatalf("origins = %v", pkg.Origins)
	}
	if pkg.Blueprint != (Ref{Name: "amf", Version: "v1.0.0"}) {
		t.Fatalf("blueprint ref = %v", pkg.Blueprint)
	}
}

func TestGenerateRejectsBadValuesListingAll(t *testing.T) {
	_, err := Generate(context.Background(), declared(), Values{"replicas": 0, "region": "mars", "extra": true})
	var ve *ValuesError
	if !errors.As(err, &ve) || len(ve.Errors) != 3 {
		t.Fatalf("err = %v", err)
	}
	_, err = Generate(context.Background(), declared(), Values{"region": "eu-west"}, Environment("qa"))
	if !errors.Is(err, ErrUnknownEnvironment) {
		t.Fatalf("err = %v", err)
	}
}

func TestGenerateInvalidBlueprints(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no Kptfile":  {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"},
		"bad yaml":    {"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: a\n", "a.yaml": "a: [\n"},
		"bad Kptfile": {"Kptfile": "a: [\n"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Generate(context.Background(), &Blueprint{Name: "x", Files: files}, nil); !errors.Is(err, ErrInvalidBlueprint) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if _, err := Generate(context.Background(), nil, nil); !errors.Is(err, ErrInvalidBlueprint) {
		t.Fatalf("nil blueprint: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, declared(), Values{"region": "eu-west"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestEngineResolvesThroughSource(t *testing.T) {
	v1 := declared()
	v2 := declared()
	v2.Version = "v2.0.0"
	e := NewEngine(Blueprints{v1, v2}, Environment("dev"))
	pkg, err := e.Generate(context.Background(), Ref{Name: "amf", Version: "v1.0.0"}, Values{"region": "eu-west"})
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Blueprint.Version != "v1.0.0" || pkg.Origins["replicas"] != LayerEnvironment {
		t.Fatalf("pkg = %v %v", pkg.Blueprint, pkg.Origins)
	}
	if pkg, err = e.Generate(context.Background(), Ref{Name: "amf"}, Values{"region": "eu-west"}); err != nil || pkg.Blueprint.Version != "v2.0.0" {
		t.Fatalf("newest: %v %v", pkg, err)
	}
	_, err = e.Generate(context.Background(), Ref{Name: "smf"}, nil)
	var ue *UnknownBlueprintError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnknownBlueprint) || ue.Ref.Name != "smf" {
		t.Fatalf("unknown: %v", err)
	}
	if _, err = e.Generate(context.Background(), Ref{Name: "amf", Version: "v9"}, nil); !errors.Is(err, ErrNoMatchingVersion) {
		t.Fatalf("no version: %v", err)
	}
	if _, err := (&Engine{}).Generate(context.Background(), Ref{Name: "amf"}, nil); !errors.Is(err, ErrUnknownBlueprint) {
		t.Fatalf("no source: %v", err)
	}
}

func TestBlueprintPorchRoundTrip(t *testing.T) {
	p := &porch.Package{Name: "amf", Resources: map[string]string{"Kptfile": "k"}}
	bp := FromPackage(p, "v1.2.0")
	bp.Files["x"] = "y"
	if _, ok := p.Resources["x"]; ok {
		t.Fatal("FromPackage shares files")
	}
	back := bp.Package()
	if back.Name != "amf" || back.Resources["x"] != "y" || bp.Ref().String() != "amf@v1.2.0" {
		t.Fatalf("back = %+v", back)
	}
	if FromPackage(nil, "") != nil {
		t.Fatal("nil package")
	}
}

// A setter bound by the declaration stays an integer through the render,
// because its apply-setters config gets the same value.
func TestGenerateSetterSurvivesApplySetters(t *testing.T) {
	files := map[string]string{
		"Kptfile": `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: web
pipeline:
  mutators:
  - image: ghcr.io/kptdev/krm-functions-catalog/apply-setters:v0.2.0
    configMap:
      replicas: "1"
      app: web
`,
		"deploy.yaml": setterPackage,
		"parameters.yaml": `apiVersion: blueprint.porchkit.io/v1alpha1
kind: Parameters
metadata:
  name: web
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  schema:
    type: object
    properties:
      replicas: {type: integer, default: 1}
      app: {type: string, default: web}
  bindings:
  - {value: replicas, setter: replicas}
  - {value: app, setter: app}
`,
	}
	pkg, err := Generate(context.Background(), &Blueprint{Name: "web", Files: files}, Values{"replicas": 5, "app": "shop"})
	if err != nil {
		t.Fatal(err)
	}
	d := pkg.Files["deploy.yaml"]
	if n := field(t, d, "Deployment", "spec", "replicas"); n.Value != "5" || n.ShortTag() != "!!int" {
		t.Fatalf("replicas = %q %s\n%s", n.Value, n.ShortTag(), d)
	}
	if n := field(t, d, "Deployment", "metadata", "name"); n.Value != "shop-web" {
		t.Fatalf("name = %q", n.Value)
	}
	if len(pkg.Render.Runs) != 1 || pkg.Render.Runs[0].Err != nil {
		t.Fatalf("runs = %+v", pkg.Render.Runs)
	}
}

func TestGenerateRenderFailures(t *testing.T) {
	files := map[string]string{
		"Kptfile":   "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n  - image: ghcr.io/kptdev/krm-functions-catalog/set-namespace:v0.4.1\n",
		"cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
		"README.md": "x",
	}
	_, err := Generate(context.Background(), &Blueprint{Name: "p", Files: files}, nil)
	var re *RenderError
	if !errors.As(err, &re) || !errors.Is(err, ErrRender) || !errors.Is(err, krm.ErrFunctionFailed) {
		t.Fatalf("err = %v", err)
	}
	// An executor that does not know a function: unavailable, with krm's error.
	files["Kptfile"] = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n  - image: docker.io/nephio/nad-fn:latest\n"
	exec := krm.NewRunner(krm.RunnerConfig{})
	_, err = Generate(context.Background(), &Blueprint{Name: "p", Files: files}, nil, WithExecutor(exec))
	var fe *FunctionUnavailableError
	if !errors.As(err, &fe) || !errors.Is(err, krm.ErrUnknownFunction) || !reflect.DeepEqual(fe.Images, []string{"docker.io/nephio/nad-fn:latest"}) {
		t.Fatalf("err = %v", err)
	}
}
