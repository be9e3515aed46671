package blueprint

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// amfWith returns the AMF test blueprint with extra or replaced files.
func amfWith(t *testing.T, files map[string]string) *Blueprint {
	t.Helper()
	bp := loadBlueprint(t, amf)
	maps.Copy(bp.Files, files)
	return bp
}

func TestValidateTemplates(t *testing.T) {
	bp := amfWith(t, map[string]string{
		"typo.yaml.tmpl":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndata:\n  replicas: {{ .Values.replica }}\n",
		"parse.yaml.tmpl":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: parse\ndata:\n  a: {{ .Values.region \n",
		"notyaml.yaml.tmpl": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notyaml\n  labels: [{{ .Values.region }}\n",
		"notkrm.yaml.tmpl":  "kind: ConfigMap\nmetadata:\n  name: {{ .Values.region }}\n",
		"notes.txt.tmpl":    "region {{ .Values.region }}\n",
	})
	rep, err := Validate(context.Background(), bp, goodValues[amf])
	vs := mustViolations(t, err)
	if !errors.Is(err, ErrTemplate) || !errors.Is(err, ErrNotKRM) {
		t.Errorf("does not wrap ErrTemplate and ErrNotKRM: %v", err)
	}
	tm := rep.Layer(TemplateLayer).Violations
	if len(tm) != 3 {
		t.Fatalf("template layer: %v", tm)
	}
	byFile := map[string]Violation{}
	for _, v := range tm {
		byFile[v.File] = v
	}
	typo := byFile["typo.yaml.tmpl"]
	if typo.Rule != "template.execute" || typo.Line != 6 || typo.Column == 0 || typo.Path != "/replica" || typo.Value != ".Values.replica" ||
		typo.Fix == nil || typo.Fix.Value != ".Values.replicas" {
		t.Errorf("typo: %s (%+v)", typo, typo.Fix)
	}
	if p := byFile["parse.yaml.tmpl"]; p.Rule != "template.parse" || p.Line != 6 || !p.HasValue {
		t.Errorf("parse: %s", p)
	}
	if n := byFile["notes.txt.tmpl"]; n.Rule != "template.output-name" || n.Fix == nil || n.Fix.Value != "notes.txt.yaml" {
		t.Errorf("output name: %s", n)
	}
	y := rep.Layer(YAMLLayer).Violations
	if len(y) != 1 || y[0].File != "notyaml.yaml" || y[0].Line != 5 || !strings.Contains(y[0].Message, "output of template notyaml.yaml.tmpl") {
		t.Errorf("yaml layer: %v", y)
	}
	k := rep.Layer(KRMLayer).Violations
	if len(k) != 1 || k[0].File != "notkrm.yaml" || k[0].Rule != "krm.apiVersion-required" || !strings.Contains(k[0].Message, "notkrm.yaml.tmpl") {
		t.Errorf("krm layer: %v", k)
	}
	if len(vs) != 5 {
		t.Errorf("%d violations, want 5: %v", len(vs), err)
	}
	// Every layer at once: a value mistake is reported with the template ones.
	_, err = Validate(context.Background(), bp, with(amf, map[string]any{"replicas": 0}))
	if vs := mustViolations(t, err); vs[0].Layer != ValuesLayer || len(vs) != 6 {
		t.Errorf("values and templates together: %v", err)
	}
}

func TestValidateBindsValuesBeforePackageLayers(t *testing.T) {
	// ha_enabled from the prod environment, replicas 1 from the caller:
	// the bound Deployment breaks the HA policy, found in the same pass.
	vals := with(amf, map[string]any{"replicas": 1})
	rep, err := Validate(context.Background(), loadBlueprint(t, amf), vals, AsGenerated(Environment("prod")))
	vs := mustViolations(t, err)
	if len(vs) != 1 || vs[0].Rule != "ha-replicas" || vs[0].Value != 1 || vs[0].File != "deployment.yaml" {
		t.Fatalf("got %v", err)
	}
	if rep.Layer(PipelineLayer).Violations != nil || !rep.Layer(PipelineLayer).Ran {
		t.Errorf("the AMF's kubeconform validator: %+v", rep.Layer(PipelineLayer))
	}
	// Bound with a wrong image type fails the kubeconform validator too.
	if _, err := Validate(context.Background(), loadBlueprint(t, amf), goodValues[amf], AsGenerated(Environment("prod"))); err != nil {
		t.Errorf("prod with 2 replicas: %v", err)
	}
}

func TestViolationResults(t *testing.T) {
	_, err := Validate(context.Background(), loadBlueprint(t, amf), with(amf, map[string]any{"region": "us-east1", "plmn.mnc": nil}))
	vs := mustViolations(t, err)
	rs := vs.Results()
	if len(rs) != len(vs) {
		t.Fatal(len(rs))
	}
	var enum *framework.Result
	for _, r := range rs {
		if r.Field.Path == "/region" {
			enum = r
		}
	}
	if enum == nil || enum.Severity != framework.Error || enum.Field.CurrentValue != "us-east1" || enum.Field.ProposedValue != "us-east-1" ||
		enum.Tags["rule"] != "enum" || enum.Tags["declaredAt"] != "parameters.yaml#/properties/region/enum" || enum.Tags["layer"] != "values" {
		t.Fatalf("enum result %+v", enum)
	}
	// As kpt prints results: field.path, currentValue, proposedValue.
	out, err := yaml.Marshal(framework.Results{enum})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"path: /region", "currentValue: us-east1", "proposedValue: us-east-1", "severity: error"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("result YAML lacks %q:\n%s", s, out)
		}
	}
	// A policy violation names its resource, file and line.
	_, err = ValidatePackage(context.Background(), map[string]string{"deploy.yaml": haDeployment}, WithLifecycle("Published"))
	r := mustViolations(t, err)[0].Result()
	if r.ResourceRef == nil || r.ResourceRef.Name != "amf" || r.File == nil || r.File.Path != "deploy.yaml" || r.Tags["line"] != "18" || r.Tags["column"] == "" {
		t.Errorf("policy result %+v", r)
	}
}

func TestViolationsErrorAndOrder(t *testing.T) {
	vs := Violations{
		{Layer: PolicyLayer, File: "b.yaml", Line: 3, Path: "spec.replicas", Rule: "ha-replicas", DeclaredAt: "p#ha", Value: 1, HasValue: true, Message: "m"},
		{Layer: ValuesLayer, Path: "/region", Rule: "required", DeclaredAt: "parameters.yaml#/required", Message: "missing"},
		{Layer: PolicyLayer, File: "a.yaml", Line: 9, Path: "spec.replicas", Rule: "ha-replicas", DeclaredAt: "p#ha", Value: 1, HasValue: true, Message: "m"},
		{Layer: YAMLLayer, File: "c.yaml", Line: 2, Column: 4, Path: ".", Rule: "yaml.syntax", DeclaredAt: "YAML", Value: "x: [", HasValue: true, Message: "bad"},
	}
	vs.Sort()
	order := []string{string(vs[0].Layer), string(vs[1].Layer), vs[2].File, vs[3].File}
	if strings.Join(order, ",") != "values,yaml,a.yaml,b.yaml" {
		t.Errorf("order %v", order)
	}
	var err error = vs
	for _, s := range []error{ErrValidation, ErrInvalidValues, ErrNotKRM, ErrPolicyViolation} {
		if !errors.Is(err, s) {
			t.Errorf("does not wrap %v", s)
		}
	}
	if errors.Is(err, ErrTemplate) || errors.Is(err, ErrSchemaViolation) {
		t.Error("wraps a sentinel of a layer without violations")
	}
	msg := err.Error()
	for _, s := range []string{"4 validation violation(s)", "c.yaml:2:4: [yaml]", "/region (absent)", "spec.replicas = 1", "rule ha-replicas at p#ha"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message lacks %q:\n%s", s, msg)
		}
	}
}

func TestFieldPaths(t *testing.T) {
	for _, p := range []string{"spec.replicas", "spec.template.spec.containers[0].image", "metadata.annotations['kpt.dev/injected-resource']", "a[*].b"} {
		segs, err := parseFieldPath(p)
		if err != nil || formatFieldPath(segs) != p {
			t.Errorf("%s: %v %q", p, err, formatFieldPath(segs))
		}
	}
	for _, p := range []string{"a[", "a[x]", "a['b"} {
		if _, err := parseFieldPath(p); err == nil {
			t.Errorf("%s parsed", p)
		}
	}
	if editDistance("macvlen", "macvlan") != 1 || editDistance("", "abc") != 3 || editDistance("kitten", "sitting") != 3 {
		t.Error("edit distance")
	}
}
