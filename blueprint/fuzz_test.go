package blueprint

import (
	"context"
	"errors"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// typed reports whether err wraps one of the package's sentinels.
func typed(err error) bool {
	for _, s := range []error{ErrInvalidValues, ErrInvalidParameters, ErrInvalidBlueprint, ErrBinding, ErrTemplate, ErrNotKRM, ErrInjection, ErrRender, ErrFunctionUnavailable, ErrInvalidOptions, ErrUnknownEnvironment} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzValues(f *testing.F) {
	for _, seed := range []string{
		`{"region": "eu-west", "replicas": 3}`,
		`{"region": "mars", "replicas": "x", "ha": {"enabled": 1}}`,
		`{"capacity": {"maxSubscribers": 1e400}}`,
		`{"region": "eu-west", "capacity": [1, 2]}`,
		`{"region": "eu-west", "image": {"a": null}}`,
		`[]`, `null`, `{"a.b": {"c": [{"d": true}]}}`,
	} {
		f.Add(seed, "prod")
	}
	bp := declared()
	f.Fuzz(func(t *testing.T, doc, env string) {
		var v map[string]any
		if err := sigsyaml.Unmarshal([]byte(doc), &v); err != nil {
			return
		}
		pkg, err := Generate(context.Background(), bp, v, Environment(env), WithoutRender())
		if err != nil {
			if !typed(err) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if pkg == nil || pkg.Files["Kptfile"] == "" {
			t.Fatal("no package without an error")
		}
	})
}

func FuzzBindings(f *testing.F) {
	f.Add("spec.replicas", "Deployment", "3", "")
	f.Add("spec.template.spec.containers[name=amf].image", "", `"x"`, "")
	f.Add("spec.[a=b", "Deployment", "[1,2]", "region")
	f.Add("metadata.labels.region", "", `{"a": 1}`, "region")
	f.Add("spec", "Capacity", `{"maxSubscribers": 2}`, "")
	files := declaredFiles()
	f.Fuzz(func(t *testing.T, path, kind, value, setter string) {
		var v any
		if err := sigsyaml.Unmarshal([]byte(value), &v); err != nil {
			return
		}
		bindings := []Binding{
			{Value: "v", Resource: &Selector{Kind: kind}, Field: path},
			{Value: "v", Injection: &Selector{Kind: kind}, Field: path},
		}
		if setter != "" {
			bindings = append(bindings, Binding{Value: "v", Setter: setter})
		}
		for _, b := range bindings {
			out, err := Bind(files, []Binding{b}, Values{"v": v})
			if err != nil {
				if !typed(err) {
					t.Fatalf("untyped error %T: %v", err, err)
				}
				continue
			}
			if _, err := parseFiles(out); err != nil {
				t.Fatalf("binding %+v wrote YAML that does not parse: %v", b, err)
			}
		}
	})
}

func FuzzTemplate(f *testing.F) {
	for _, seed := range []string{
		declaredFiles()["config.yaml.tmpl"],
		"{{ .Values.x }}",
		"{{ range $i, $e := until 5 }}- {{ $e }}\n{{ end }}",
		"apiVersion: v1\nkind: A\nmetadata:\n  name: {{ .Package | upper }}\n",
		"{{ template \"x\" }}", "{{ define \"a\" }}{{ template \"a\" }}{{ end }}{{ template \"a\" }}",
		"{{ toJson .Values | fromJson }}", "{{ repeat 10000 \"ab\" }}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out, err := ExecuteTemplates(map[string]string{"t.yaml.tmpl": src}, TemplateData{Values: Values{"region": "eu-west", "replicas": int64(2), "ha": map[string]any{"enabled": true}}, Package: "p"})
		if err != nil {
			if !errors.Is(err, ErrTemplate) && !errors.Is(err, ErrNotKRM) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if _, ok := out["t.yaml"]; !ok {
			t.Fatal("no output file")
		}
		if err := checkKRM("t.yaml", "", out["t.yaml"]); err != nil {
			t.Fatalf("accepted output is not KRM: %v", err)
		}
	})
}

func FuzzParameters(f *testing.F) {
	f.Add(declaredFiles()["parameters.yaml"])
	f.Add("apiVersion: blueprint.porchkit.io/v1alpha1\nkind: Parameters\nmetadata:\n  name: x\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\nspec:\n  schema: {$ref: '#/$defs/a', $defs: {a: {$ref: '#/$defs/a'}}}\n")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := ParseParameters("p.yaml", src)
		if err != nil {
			if !errors.Is(err, ErrInvalidParameters) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if _, err := p.Describe(); err != nil && !typed(err) {
			t.Fatalf("untyped describe error: %v", err)
		}
		s, err := p.Compile()
		if err != nil {
			t.Fatalf("checked declaration does not compile: %v", err)
		}
		_ = s.Defaults()
		_ = s.SchemaErrors(Values{"a": 1})
	})
}
