package blueprint

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParams(t *testing.T) *Parameters {
	t.Helper()
	p, err := FindParameters(declaredFiles())
	if err != nil {
		t.Fatal(err)
	}
	if p == nil {
		t.Fatal("no declaration found")
	}
	return p
}

func TestFindParametersReadsDeclaration(t *testing.T) {
	p := mustParams(t)
	if p.Name != "amf" || p.File != "parameters.yaml" || p.Description != "AMF for tests" {
		t.Fatalf("got name %q file %q description %q", p.Name, p.File, p.Description)
	}
	if len(p.Bindings) != 4 || p.Bindings[3].Injection == nil || p.Bindings[2].Setter != "region" {
		t.Fatalf("bindings: %+v", p.Bindings)
	}
	if got := p.Environments["prod"]["replicas"]; got != int64(3) && got != 3.0 && got != 3 {
		t.Fatalf("prod replicas = %#v", got)
	}
}

func TestSchemaErrorsAreStructured(t *testing.T) {
	s, err := mustParams(t).Compile()
	if err != nil {
		t.Fatal(err)
	}
	errs := s.SchemaErrors(Values{"replicas": 11, "region": "mars", "image": "Bad Image", "colour": "red", "ha": Values{"enabled": "yes"}})
	type want struct {
		inst, kw, keyword string
		value             any
	}
	wants := []want{
		{"", "/additionalProperties", "additionalProperties", nil},
		{"/ha/enabled", "/properties/ha/properties/enabled/type", "type", "yes"},
		{"/image", "/properties/image/pattern", "pattern", "Bad Image"},
		{"/region", "/properties/region/enum", "enum", "mars"},
		{"/replicas", "/properties/replicas/maximum", "maximum", int64(11)},
	}
	if len(errs) != len(wants) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(wants), errs)
	}
	for i, w := range wants {
		e := errs[i]
		if w.inst == "" {
			// additionalProperties points at the unexpected key itself.
			w.inst, w.value = "/colour", "red"
		}
		if e.InstanceLocation != w.inst || e.KeywordLocation != w.kw || e.Keyword != w.keyword || !reflect.DeepEqual(e.Value, w.value) || !e.HasValue || e.Message == "" {
			t.Errorf("error %d = %+v, want %+v", i, e, w)
		}
	}
	if got := errs[4].Details["maximum"]; got != int64(10) {
		t.Errorf("maximum detail = %#v, want 10", got)
	}
	if got := errs[3].Details["enum"]; !reflect.DeepEqual(got, []any{"eu-west", "eu-central", "us-east"}) {
		t.Errorf("enum detail = %#v", got)
	}
	if got := errs[0].Details["unexpected"]; !reflect.DeepEqual(got, []string{"colour"}) {
		t.Errorf("unexpected detail = %#v", got)
	}
}

func TestSchemaErrorsMissingRequired(t *testing.T) {
	s, err := mustParams(t).Compile()
	if err != nil {
		t.Fatal(err)
	}
	errs := s.SchemaErrors(Values{"replicas": 2})
	if len(errs) != 1 || errs[0].Keyword != "required" || errs[0].InstanceLocation != "" || errs[0].KeywordLocation != "/required" {
		t.Fatalf("got %+v", errs)
	}
	if !reflect.DeepEqual(errs[0].Details["missing"], []string{"region"}) {
		t.Fatalf("missing = %#v", errs[0].Details["missing"])
	}
	err = s.Validate(Values{})
	var ve *ValuesError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidValues) || len(ve.Errors) != 1 {
		t.Fatalf("Validate: %v", err)
	}
	if s.Validate(Values{"region": "eu-west", "replicas": 10}) != nil {
		t.Fatal("valid values rejected")
	}
}

func TestSchemaErrorsValueWithoutJSONForm(t *testing.T) {
	s, err := mustParams(t).Compile()
	if err != nil {
		t.Fatal(err)
	}
	errs := s.SchemaErrors(Values{"region": "eu-west", "ha": map[string]any{"enabled": make(chan int)}})
	if len(errs) != 1 || errs[0].InstanceLocation != "/ha/enabled" {
		t.Fatalf("got %+v", errs)
	}
}

func TestDefaultsNested(t *testing.T) {
	s, err := mustParams(t).Compile()
	if err != nil {
		t.Fatal(err)
	}
	want := Values{"replicas": int64(1), "image": "free5gc/amf:v3.3.0", "ha": map[string]any{"enabled": false}, "capacity": map[string]any{"maxSubscribers": int64(1000)}}
	if got := s.Defaults(); !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults = %#v, want %#v", got, want)
	}
}

func TestParseParametersRejects(t *testing.T) {
	base := declaredFiles()["parameters.yaml"]
	cases := map[string]struct {
		src, field string
	}{
		"not local-config": {strings.Replace(base, `config.kubernetes.io/local-config: "true"`, `other: x`, 1), "metadata.annotations"},
		"bad schema":       {strings.Replace(base, "type: integer", "type: 7", 1), "spec.schema"},
		"unbound value":    {strings.Replace(base, "- value: replicas", "- value: nosuch", 1), "spec.bindings[0].value"},
		"two targets":      {strings.Replace(base, "    setter: region", "    setter: region\n    resource: {kind: X}", 1), "spec.bindings[2]"},
		"no field":         {strings.Replace(base, "    field: spec.replicas\n", "", 1), "spec.bindings[0].field"},
		"bad field":        {strings.Replace(base, "    field: spec.replicas\n", "    field: spec..replicas\n", 1), "spec.bindings[0].field"},
		"empty selector":   {strings.Replace(base, "resource: {kind: Deployment, name: amf}\n    field: spec.replicas", "resource: {}\n    field: spec.replicas", 1), "spec.bindings[0].resource"},
		"undeclared deep":  {strings.Replace(base, "- value: replicas", "- value: ha.nosuch", 1), "spec.bindings[0].value"},
		"unknown field":    {strings.Replace(base, "  description: AMF for tests", "  descripton: AMF", 1), "spec"},
		"external ref":     {strings.Replace(base, "type: integer", "$ref: 'file:///etc/passwd'", 1), "spec.schema"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseParameters("parameters.yaml", c.src)
			var pe *ParametersError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidParameters) {
				t.Fatalf("err = %v", err)
			}
			if pe.Field != c.field || pe.File != "parameters.yaml" {
				t.Fatalf("field %q file %q, want %q", pe.Field, pe.File, c.field)
			}
		})
	}
}

func TestFindParametersRejectsTwo(t *testing.T) {
	files := declaredFiles()
	files["more.yaml"] = strings.Replace(files["parameters.yaml"], "name: amf", "name: other", 1)
	if _, err := FindParameters(files); !errors.Is(err, ErrInvalidParameters) {
		t.Fatalf("err = %v", err)
	}
}

func TestParametersResourceRoundTrip(t *testing.T) {
	p := mustParams(t)
	src, err := p.Resource()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseParameters("p.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	back.File = p.File
	if !reflect.DeepEqual(back.Bindings, p.Bindings) || back.Name != p.Name || len(back.Environments) != 2 {
		t.Fatalf("round trip lost data:\n%s", src)
	}
}

func TestDescribe(t *testing.T) {
	d, err := mustParams(t).Describe()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	byPath := map[string]ParameterInfo{}
	for _, p := range d.Parameters {
		paths = append(paths, p.Path)
		byPath[p.Path] = p
	}
	wantPaths := []string{"capacity", "capacity.maxSubscribers", "ha", "ha.enabled", "image", "region", "replicas"}
	if !reflect.DeepEqual(paths, wantPaths) {
		t.Fatalf("paths = %v", paths)
	}
	r := byPath["replicas"]
	if r.Type != "integer" || r.Default != int64(1) || !r.HasDefault || r.Minimum != int64(1) || r.Maximum != int64(10) ||
		r.Description != "AMF replicas" || r.Required || !reflect.DeepEqual(r.Bindings, []string{"Deployment/amf spec.replicas"}) {
		t.Errorf("replicas = %+v", r)
	}
	if r.Environments["prod"] != int64(3) {
		t.Errorf("replicas environments = %v", r.Environments)
	}
	g := byPath["region"]
	if !g.Required || len(g.Enum) != 3 || !reflect.DeepEqual(g.Bindings, []string{"setter region"}) || g.Cluster != "region" {
		t.Errorf("region = %+v", g)
	}
	if byPath["image"].Pattern == "" {
		t.Error("image pattern missing")
	}
	text := d.Text()
	for _, want := range []string{"PARAMETER", "replicas", "1 <= x <= 10", "setter region", `one of "eu-west", "eu-central", "us-east"`, "env dev=1,prod=3", "from cluster region"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func TestObjectsWithPropertiesAreClosed(t *testing.T) {
	p := &Parameters{Schema: map[string]any{
		"type": "object",
		"properties": map[string]any{
			"ha":     map[string]any{"type": "object", "properties": map[string]any{"enabled": map[string]any{"type": "boolean"}}},
			"labels": map[string]any{"type": "object", "properties": map[string]any{"app": map[string]any{"type": "string"}}, "additionalProperties": true},
			"mixed":  map[string]any{"allOf": []any{map[string]any{"properties": map[string]any{"a": map[string]any{}}}}},
		},
	}}
	s, err := p.Compile()
	if err != nil {
		t.Fatal(err)
	}
	errs := s.SchemaErrors(Values{"replicsa": 3, "ha": Values{"enabeld": true}, "labels": Values{"team": "a"}, "mixed": Values{"b": 1}})
	var locs []string
	for _, e := range errs {
		locs = append(locs, e.InstanceLocation+" "+e.Keyword)
	}
	if !reflect.DeepEqual(locs, []string{"/ha/enabeld additionalProperties", "/replicsa additionalProperties"}) {
		t.Fatalf("errors = %v", locs)
	}
	if p.Schema["additionalProperties"] != nil {
		t.Fatal("Compile modified the declaration")
	}
}
