package blueprint

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const haDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: amf
spec:
  replicas: 1
  selector:
    matchLabels: {app: amf}
  template:
    metadata:
      labels: {app: amf}
    spec:
      initContainers:
      - name: init
        image: docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      containers:
      - name: amf
        image: docker.io/free5gc/amf:latest
      - name: sidecar
        image: nginx
      - name: pinned
        image: registry.local:5000/free5gc/amf-exporter:v1.2.0
`

func policyViolations(t *testing.T, files map[string]string, opts ...ValidateOption) Violations {
	t.Helper()
	rep, err := ValidatePackage(context.Background(), files, append(opts, WithoutPipelineValidators())...)
	if err != nil {
		mustViolations(t, err)
	}
	return rep.Layer(PolicyLayer).Violations
}

func TestPolicyHAReplicas(t *testing.T) {
	files := map[string]string{"deploy.yaml": haDeployment}
	if vs := policyViolations(t, files); len(vs) != 0 {
		t.Fatalf("not HA, not Published: %v", vs)
	}
	vs := policyViolations(t, files, WithPolicyValues(map[string]any{"ha_enabled": true}))
	if len(vs) != 1 {
		t.Fatalf("ha_enabled: %v", vs)
	}
	v := vs[0]
	if v.Rule != "ha-replicas" || v.Path != "spec.replicas" || v.Value != 1 || !v.HasValue || v.Line != 6 || v.Column != 13 ||
		v.Fix == nil || v.Fix.Value != int64(2) || v.Resource.Name != "amf" {
		t.Errorf("violation %s (fix %+v, value %#v)", v, v.Fix, v.Value)
	}
	// The label marks HA too; a missing replicas field is a violation with no value.
	labelled := strings.Replace(haDeployment, "  name: amf\n", "  name: amf\n  labels:\n    blueprint.porchkit.io/ha: \"true\"\n", 1)
	labelled = strings.Replace(labelled, "  replicas: 1\n", "", 1)
	vs = policyViolations(t, map[string]string{"deploy.yaml": labelled})
	if len(vs) != 1 || vs[0].HasValue || vs[0].Path != "spec.replicas" || vs[0].Line != 8 {
		t.Errorf("labelled, no replicas: %v (line %d)", vs, vs[0].Line)
	}
	three := strings.Replace(haDeployment, "replicas: 1", "replicas: 3", 1)
	if vs := policyViolations(t, map[string]string{"deploy.yaml": three}, WithPolicyValues(map[string]any{"ha_enabled": true})); len(vs) != 0 {
		t.Errorf("3 replicas: %v", vs)
	}
}

func TestPolicyNoLatestImages(t *testing.T) {
	files := map[string]string{"deploy.yaml": haDeployment}
	vs := policyViolations(t, files, WithLifecycle("Published"))
	var got []string
	for _, v := range vs {
		got = append(got, v.Path+"="+v.Value.(string))
		if v.Rule != "no-latest-images" || v.Fix == nil || v.Fix.Description == "" {
			t.Errorf("violation %s", v)
		}
	}
	want := []string{"spec.template.spec.containers[0].image=docker.io/free5gc/amf:latest", "spec.template.spec.containers[1].image=nginx"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if vs := policyViolations(t, files, WithLifecycle("Draft")); len(vs) != 0 {
		t.Errorf("Draft: %v", vs)
	}
}

func TestPolicyNephioRequirements(t *testing.T) {
	iface := "apiVersion: req.nephio.org/v1alpha1\nkind: Interface\nmetadata:\n  name: n3\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\nspec:\n  networkInstance:\n    name: \"\"\n  cniType: macvlen\n"
	capacity := "apiVersion: req.nephio.org/v1alpha1\nkind: Capacity\nmetadata:\n  name: dataplane\nspec:\n  maxSubscribers: 0\n  maxSessions: many\n  maxNFConnections: 5\n"
	vs := policyViolations(t, map[string]string{"interface.yaml": iface, "capacity.yaml": capacity})
	type w struct {
		file, rule, path string
		value            any
		fix              any
	}
	wants := []w{
		{"capacity.yaml", "requirements-local-config", "metadata.annotations['config.kubernetes.io/local-config']", nil, "true"},
		{"capacity.yaml", "capacity-positive", "spec.maxSubscribers", 0, int64(1)},
		{"capacity.yaml", "capacity-positive", "spec.maxSessions", "many", int64(1)},
		{"interface.yaml", "interface-network-instance", "spec.networkInstance.name", "", nil},
		{"interface.yaml", "interface-cni-type", "spec.cniType", "macvlen", "macvlan"},
	}
	if len(vs) != len(wants) {
		t.Fatalf("got %d:\n%v", len(vs), vs)
	}
	for i, x := range wants {
		v := vs[i]
		var fix any
		if v.Fix != nil {
			fix = v.Fix.Value
		}
		if v.File != x.file || v.Rule != x.rule || v.Path != x.path || !reflect.DeepEqual(v.Value, x.value) || !reflect.DeepEqual(fix, x.fix) {
			t.Errorf("violation %d = %s (value %#v, fix %#v), want %+v", i, v, v.Value, fix, x)
		}
	}
}

func TestPolicyInPackageAndCustom(t *testing.T) {
	pkgPolicy := `apiVersion: blueprint.porchkit.io/v1alpha1
kind: Policy
metadata:
  name: amf-namespace
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  match: object.kind == 'Deployment'
  fields: [metadata.namespace]
  rule: present && value == 'free5gc-cp'
  message: the AMF runs in free5gc-cp
  fix: "'free5gc-cp'"
`
	custom := Policy{Name: "sbi-port", Source: "team-policies.yaml", Match: "object.kind == 'Deployment'",
		Fields: []string{"spec.template.spec.containers[*].ports[*].containerPort"}, Rule: "value == 8080",
		Message: "SBI listens on 8080", Fix: "8080"}
	deploy := haDeployment + "        ports:\n        - containerPort: 80\n"
	vs := policyViolations(t, map[string]string{"deploy.yaml": deploy, "policies.yaml": pkgPolicy}, WithoutDefaultPolicies(), WithPolicies(custom))
	if len(vs) != 2 {
		t.Fatalf("got %v", vs)
	}
	if vs[0].Rule != "amf-namespace" || vs[0].DeclaredAt != "policies.yaml#amf-namespace" || vs[0].HasValue || vs[0].Fix.Value != "free5gc-cp" {
		t.Errorf("in-package policy: %s", vs[0])
	}
	if vs[1].Rule != "sbi-port" || vs[1].Path != "spec.template.spec.containers[2].ports[0].containerPort" || vs[1].Value != 80 ||
		vs[1].DeclaredAt != "team-policies.yaml#sbi-port" || vs[1].Fix.Value != int64(8080) {
		t.Errorf("custom policy: %s (%#v)", vs[1], vs[1].Fix)
	}
}

func TestPolicyRuleErrorIsAViolation(t *testing.T) {
	p := Policy{Name: "replicas-above-two", Source: "p.yaml", Fields: []string{"spec.replicas"}, Rule: "value > 2", Message: "more than two replicas"}
	d := strings.Replace(haDeployment, "replicas: 1", "replicas: two", 1)
	vs := policyViolations(t, map[string]string{"deploy.yaml": d}, WithoutDefaultPolicies(), WithPolicies(p))
	if len(vs) != 1 || vs[0].Value != "two" || !strings.Contains(vs[0].Message, "could not be evaluated") {
		t.Fatalf("got %v", vs)
	}
}

func TestCompilePoliciesErrors(t *testing.T) {
	bad := []Policy{
		{Name: "syntax", Source: "a.yaml", Fields: []string{"spec"}, Rule: "value >", Message: "m"},
		{Name: "not-bool", Source: "a.yaml", Fields: []string{"spec"}, Rule: "1 + 1", Message: "m"},
		{Name: "no-fields", Source: "a.yaml", Rule: "true", Message: "m"},
		{Name: "bad-path", Source: "a.yaml", Fields: []string{"spec[x"}, Rule: "true", Message: "m"},
		{Name: "", Source: "a.yaml", Fields: []string{"spec"}, Rule: "true"},
		{Name: "bad-match", Source: "a.yaml", Fields: []string{"spec"}, Match: "object.kind ==", Rule: "true"},
	}
	_, err := CompilePolicies(bad)
	if !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("err = %v", err)
	}
	fields := map[string]string{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var pe *PolicyError
		if !errors.As(e, &pe) {
			t.Fatalf("%v is not a *PolicyError", e)
		}
		fields[pe.Policy] = pe.Field
	}
	want := map[string]string{"syntax": "rule", "not-bool": "rule", "no-fields": "fields", "bad-path": "fields[0]", "": "name", "bad-match": "match"}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
	// Validate refuses to run with a broken policy rather than skip it.
	_, err = ValidatePackage(context.Background(), map[string]string{"d.yaml": haDeployment}, WithPolicies(bad[0]))
	var vs Violations
	if !errors.Is(err, ErrInvalidPolicy) || errors.As(err, &vs) {
		t.Errorf("ValidatePackage with a broken policy: %v", err)
	}
}

func TestDefaultPoliciesCompile(t *testing.T) {
	ps := DefaultPolicies()
	set, err := CompilePolicies(ps)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"capacity-positive", "ha-replicas", "interface-cni-type", "interface-network-instance", "no-latest-functions", "no-latest-images", "required-injection-filled", "requirements-local-config"}
	if got := set.Policies(); !reflect.DeepEqual(got, want) {
		t.Errorf("policies %v", got)
	}
	for _, p := range ps {
		if p.Description == "" || p.Message == "" || p.Source != "blueprint/policies/nephio-nf.yaml" {
			t.Errorf("policy %s: %+v", p.Name, p)
		}
	}
	// Evaluate on parsed nodes reads the file from kpt's path annotation.
	n := yaml.MustParse(strings.Replace(haDeployment, "  name: amf\n", "  name: amf\n  annotations:\n    internal.config.kubernetes.io/path: nf/deploy.yaml\n", 1))
	vs, err := set.Evaluate(context.Background(), []*yaml.RNode{n}, PolicyContext{Lifecycle: "Published"})
	if err != nil || len(vs) != 2 || vs[0].File != "nf/deploy.yaml" {
		t.Errorf("Evaluate: %v %v", vs, err)
	}
}
