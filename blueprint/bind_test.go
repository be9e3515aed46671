package blueprint

import (
	"errors"
	"strings"
	"testing"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

func field(t *testing.T, src string, kind string, path ...string) *kyaml.Node {
	t.Helper()
	nodes, err := readNodes(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.GetKind() != kind {
			continue
		}
		v, err := n.Pipe(kyaml.Lookup(path...))
		if err != nil || v == nil {
			t.Fatalf("%s %v not found in\n%s", kind, path, src)
		}
		return v.YNode()
	}
	t.Fatalf("no %s in\n%s", kind, src)
	return nil
}

func TestBindResourceKeepsTypes(t *testing.T) {
	files := declaredFiles()
	p := mustParams(t)
	out, err := Bind(files, p.Bindings, Values{"replicas": 3, "image": "free5gc/amf:v3.4.0", "region": "eu-west"})
	if err != nil {
		t.Fatal(err)
	}
	n := field(t, out["deployment.yaml"], "Deployment", "spec", "replicas")
	if n.Value != "3" || n.ShortTag() != kyaml.NodeTagInt {
		t.Fatalf("replicas = %q %s", n.Value, n.ShortTag())
	}
	img := field(t, out["deployment.yaml"], "Deployment", "spec", "template", "spec", "containers", "[name=amf]", "image")
	if img.Value != "free5gc/amf:v3.4.0" {
		t.Fatalf("image = %q", img.Value)
	}
	if !strings.Contains(out["deployment.yaml"], "replicas: 3\n") {
		t.Fatalf("integer written as a string:\n%s", out["deployment.yaml"])
	}
	if files["deployment.yaml"] != declaredFiles()["deployment.yaml"] {
		t.Fatal("input files modified")
	}
	if out["capacity.yaml"] != files["capacity.yaml"] {
		t.Fatal("untouched file rewritten")
	}
}

func TestBindStringThatLooksLikeNumberStaysString(t *testing.T) {
	files := map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  port: x\n"}
	out, err := Bind(files, []Binding{{Value: "port", Resource: &Selector{Kind: "ConfigMap"}, Field: "data.port"}}, Values{"port": "8080"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out["cm.yaml"], `port: "8080"`) {
		t.Fatalf("string not quoted:\n%s", out["cm.yaml"])
	}
}

func TestBindCreatesMissingFieldsAndObjects(t *testing.T) {
	files := map[string]string{"d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n"}
	out, err := Bind(files, []Binding{{Value: "ha", Resource: &Selector{Kind: "Deployment", Name: "d"}, Field: "spec.strategy"}},
		Values{"ha": Values{"type": "RollingUpdate", "rollingUpdate": Values{"maxSurge": 1}}})
	if err != nil {
		t.Fatal(err)
	}
	n := field(t, out["d.yaml"], "Deployment", "spec", "strategy", "rollingUpdate", "maxSurge")
	if n.ShortTag() != kyaml.NodeTagInt || n.Value != "1" {
		t.Fatalf("maxSurge %q %s", n.Value, n.ShortTag())
	}
}

func TestBindErrors(t *testing.T) {
	files := declaredFiles()
	cases := map[string]Binding{
		"no resource":          {Value: "replicas", Resource: &Selector{Kind: "StatefulSet"}, Field: "spec.replicas"},
		"bad path":             {Value: "replicas", Resource: &Selector{Kind: "Deployment"}, Field: "spec..replicas"},
		"path ends in element": {Value: "replicas", Resource: &Selector{Kind: "Deployment"}, Field: "spec.template.spec.containers[name=amf]"},
		"no injection point":   {Value: "replicas", Injection: &Selector{Kind: "Capacity", Name: "nope"}},
		"scalar into spec":     {Value: "replicas", Injection: &Selector{Kind: "Capacity"}},
		"through a scalar":     {Value: "replicas", Resource: &Selector{Kind: "Deployment"}, Field: "spec.replicas.x"},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Bind(files, []Binding{b}, Values{"replicas": 2})
			var be *BindingError
			if !errors.As(err, &be) || !errors.Is(err, ErrBinding) || be.Index != 0 || be.Binding.Value != "replicas" {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestBindSkipsAbsentValues(t *testing.T) {
	files := declaredFiles()
	out, err := Bind(files, mustParams(t).Bindings, Values{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range files {
		if out[k] != v {
			t.Fatalf("%s changed without a value", k)
		}
	}
}

func TestBindInjectionPoint(t *testing.T) {
	p := mustParams(t)
	b, err := bind(declaredFiles(), p.Bindings, Values{"capacity": Values{"maxSubscribers": 20000}})
	if err != nil {
		t.Fatal(err)
	}
	n := field(t, b.files["capacity.yaml"], "Capacity", "spec", "maxSubscribers")
	if n.Value != "20000" || n.ShortTag() != kyaml.NodeTagInt {
		t.Fatalf("maxSubscribers %q %s", n.Value, n.ShortTag())
	}
	if !b.injected["config.injection.Capacity.control-plane"] {
		t.Fatalf("injected = %v", b.injected)
	}
	// A field binding into the point writes under spec.
	b, err = bind(declaredFiles(), []Binding{{Value: "n", Injection: &Selector{Kind: "Capacity"}, Field: "maxNFConnections"}}, Values{"n": 5})
	if err != nil {
		t.Fatal(err)
	}
	if n := field(t, b.files["capacity.yaml"], "Capacity", "spec", "maxNFConnections"); n.Value != "5" {
		t.Fatalf("got %q", n.Value)
	}
}

const setterPackage = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # kpt-set: ${app}-web
  namespace: default # kpt-set: ${ns}
spec:
  replicas: 1 # kpt-set: ${replicas}
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.0 # kpt-set: nginx:${tag}
        args: # kpt-set: ${args}
        - a
`

func TestBindSettersTypedAndPatterns(t *testing.T) {
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
  - image: ghcr.io/kptdev/krm-functions-catalog/apply-setters:v0.2.0
    configPath: setters.yaml
`,
		"setters.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: setters\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\ndata:\n  tag: \"1.0\"\n",
		"deploy.yaml":  setterPackage,
	}
	bindings := []Binding{{Value: "replicas", Setter: "replicas"}, {Value: "app", Setter: "app"}, {Value: "tag", Setter: "tag"}, {Value: "args", Setter: "args"}}
	out, err := Bind(files, bindings, Values{"replicas": 4, "app": "shop", "tag": "1.25", "args": []any{"--x", "--y"}})
	if err != nil {
		t.Fatal(err)
	}
	d := out["deploy.yaml"]
	if n := field(t, d, "Deployment", "spec", "replicas"); n.Value != "4" || n.ShortTag() != kyaml.NodeTagInt || !strings.Contains(n.LineComment, "${replicas}") {
		t.Fatalf("replicas %q %s %q", n.Value, n.ShortTag(), n.LineComment)
	}
	if n := field(t, d, "Deployment", "metadata", "name"); n.Value != "shop-web" {
		t.Fatalf("name %q", n.Value)
	}
	if n := field(t, d, "Deployment", "metadata", "namespace"); n.Value != "default" {
		t.Fatalf("a setter without a value changed its field: %q", n.Value)
	}
	if n := field(t, d, "Deployment", "spec", "template", "spec", "containers", "[name=web]", "image"); n.Value != "nginx:1.25" {
		t.Fatalf("image %q", n.Value)
	}
	args := field(t, d, "Deployment", "spec", "template", "spec", "containers", "[name=web]", "args")
	if args.Kind != kyaml.SequenceNode || len(args.Content) != 2 || args.Content[1].Value != "--y" {
		t.Fatalf("args %+v", args)
	}
	// apply-setters configs follow, so the pipeline does not undo the values.
	if n := field(t, out["Kptfile"], "Kptfile", "pipeline", "mutators", "[image=ghcr.io/kptdev/krm-functions-catalog/apply-setters:v0.2.0]", "configMap", "replicas"); n.Value != "4" {
		t.Fatalf("Kptfile configMap replicas %q", n.Value)
	}
	if n := field(t, out["setters.yaml"], "ConfigMap", "data", "tag"); n.Value != "1.25" || n.ShortTag() != kyaml.NodeTagString {
		t.Fatalf("setters.yaml tag %q", n.Value)
	}
	_, err = Bind(files, []Binding{{Value: "app", Setter: "app"}, {Value: "args", Setter: "args"}}, Values{"args": "not-a-list", "app": "x"})
	var be *BindingError
	if !errors.As(err, &be) || be.Index != 1 || be.File != "deploy.yaml" || !strings.Contains(err.Error(), "line 14") {
		t.Fatalf("scalar into a list setter: %v", err)
	}
}
