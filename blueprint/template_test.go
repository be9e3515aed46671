package blueprint

import (
	"errors"
	"strings"
	"testing"
)

func TestExecuteTemplatesReplacesTemplate(t *testing.T) {
	files := declaredFiles()
	out, err := ExecuteTemplates(files, TemplateData{Values: Values{"region": "eu-west", "replicas": int64(3), "ha": map[string]any{"enabled": true}}, Package: "amf-edge"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out["config.yaml.tmpl"]; ok {
		t.Fatal("template kept")
	}
	want := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: amf-config\ndata:\n  region: \"eu-west\"\n  replicas: \"3\"\n  ha: \"on\"\n"
	if out["config.yaml"] != want {
		t.Fatalf("got\n%s", out["config.yaml"])
	}
	if _, ok := files["config.yaml"]; ok {
		t.Fatal("input modified")
	}
}

func TestTemplateErrorsCarryFileAndLine(t *testing.T) {
	cases := map[string]struct {
		src        string
		line, col  int
		wantTarget error
	}{
		"parse":        {"apiVersion: v1\nkind: ConfigMap\n{{ if }}\n", 3, 0, ErrTemplate},
		"missing key":  {"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.nosuch }}\n", 4, 18, ErrTemplate},
		"fail":         {"apiVersion: v1\n{{ fail \"no region\" }}\n", 2, 3, ErrTemplate},
		"env removed":  {"x: {{ env \"HOME\" }}\n", 1, 0, ErrTemplate},
		"now removed":  {"x: {{ now }}\n", 1, 0, ErrTemplate},
		"dns removed":  {"x: {{ getHostByName \"example.com\" }}\n", 1, 0, ErrTemplate},
		"rand removed": {"x: {{ randAlpha 3 }}\n", 1, 0, ErrTemplate},
		"repeat bound": {"x: {{ repeat 100000000 \"x\" }}\n", 1, 6, ErrTemplate},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ExecuteTemplates(map[string]string{"t.yaml.tmpl": c.src}, TemplateData{Values: Values{}})
			var te *TemplateError
			if !errors.As(err, &te) || !errors.Is(err, c.wantTarget) {
				t.Fatalf("err = %v", err)
			}
			if te.File != "t.yaml.tmpl" || te.Line != c.line || te.Column != c.col {
				t.Fatalf("at %s:%d:%d, want line %d col %d: %v", te.File, te.Line, te.Column, c.line, c.col, err)
			}
		})
	}
}

func TestTemplateOutputMustBeKRM(t *testing.T) {
	cases := map[string]struct {
		file, src string
		line, doc int
		reason    string
	}{
		// The line is the YAML parser's: where the unclosed sequence's context begins.
		"not yaml":     {"a.yaml.tmpl", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n", 3, 0, "yaml"},
		"no kind":      {"a.yaml.tmpl", "apiVersion: v1\nmetadata:\n  name: x\n", 1, 0, "missing kind"},
		"second doc":   {"a.yaml.tmpl", "apiVersion: v1\nkind: A\nmetadata:\n  name: x\n---\n---\napiVersion: v1\nkind: B\n", 7, 2, "missing metadata.name"},
		"not a map":    {"a.yaml.tmpl", "- a\n- b\n", 1, 0, "not a map"},
		"empty":        {"a.yaml.tmpl", "# nothing\n", 0, 0, "no resources"},
		"not yaml out": {"README.md.tmpl", "hello", 0, 0, ".yaml or .yml"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ExecuteTemplates(map[string]string{c.file: c.src}, TemplateData{})
			var ne *NotKRMError
			if !errors.As(err, &ne) || !errors.Is(err, ErrNotKRM) {
				t.Fatalf("err = %v", err)
			}
			if ne.Template != c.file || ne.File != strings.TrimSuffix(c.file, ".tmpl") || ne.Line != c.line || ne.Document != c.doc || !strings.Contains(ne.Reason, c.reason) {
				t.Fatalf("got %+v", ne)
			}
		})
	}
}

func TestTemplateOutputMustNotOverwrite(t *testing.T) {
	_, err := ExecuteTemplates(map[string]string{"a.yaml.tmpl": "x", "a.yaml": "y"}, TemplateData{})
	if !errors.Is(err, ErrTemplate) {
		t.Fatalf("err = %v", err)
	}
}

func TestTemplateFuncsAreVetted(t *testing.T) {
	fm := TemplateFuncs()
	for _, name := range unsafeFunctions {
		if _, ok := fm[name]; ok {
			t.Errorf("%s is available", name)
		}
	}
	for _, name := range []string{"quote", "toYaml", "default", "upper", "b64enc", "semverCompare", "toJson"} {
		if _, ok := fm[name]; !ok && name != "toYaml" {
			t.Errorf("%s missing", name)
		}
	}
}
