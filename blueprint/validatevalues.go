package blueprint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// AsGenerated gives Validate the options Generate would get: the
// environment overlay, the cluster context and the package name, so the
// values validated are the effective values Generate would use.
func AsGenerated(opts ...GenerateOption) ValidateOption {
	return func(c *validateConfig) { c.generate = append(c.generate, opts...) }
}

// Validate checks a blueprint with values the way Generate would use
// them, every layer in the order of ValidationLayers, and reports every
// violation at once:
//
//   - values: the effective values (schema defaults < environment overlay
//     < values < cluster context) against the Parameters schema (inferred
//     for a package without a declaration); every schema failure, each
//     with the JSON pointer, the value, the keyword and its location in
//     the declaration, and a fix where one can be computed. Values are
//     closed by default (Parameters.Compile): a key an object's schema
//     does not declare is an additionalProperties violation, located at
//     the object's properties when the schema does not say
//     additionalProperties itself, so a misspelt key cannot pass
//     silently; a schema opens an object with additionalProperties.
//   - template: every .tmpl file executed with the effective values, each
//     failure with its file, line and column; outputs replace their
//     templates for the later layers.
//   - then the values are bound where the declaration says and the
//     package layers of ValidatePackage run on the result, the policies
//     seeing the effective values.
//
// The error is nil, a Violations, or an error saying why validation could
// not run (nil blueprint: ErrInvalidBlueprint; a declaration that does
// not compile: *ParametersError; ctx ended).
func Validate(ctx context.Context, bp *Blueprint, values Values, opts ...ValidateOption) (*Report, error) {
	if bp == nil {
		return nil, fmt.Errorf("%w: nil blueprint", ErrInvalidBlueprint)
	}
	cfg := &validateConfig{}
	for _, o := range opts {
		o(cfg)
	}
	var gen GenerateOptions
	for _, o := range cfg.generate {
		if o != nil {
			o.ApplyToGenerate(&gen)
		}
	}
	if gen.Name == "" {
		gen.Name = bp.Name
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	files := maps.Clone(bp.Files)
	params, err := FindParameters(files)
	if err != nil {
		return nil, err
	}
	if params == nil {
		if params, err = Infer(files); err != nil {
			return nil, err
		}
	}
	schema, err := params.Compile()
	if err != nil {
		return nil, err
	}
	valuesRep := LayerReport{Layer: ValuesLayer, Ran: true}
	effective, origins, err := params.layer(schema, values, gen.Environment, gen.Cluster)
	layered := err == nil
	switch {
	case err == nil:
		valuesRep.Violations = valueViolations(params, schema.SchemaErrors(effective), effective, origins)
	default:
		var ve *ValuesError
		if !errors.As(err, &ve) {
			return nil, err
		}
		valuesRep.Violations = valuesErrorViolations(params, ve, gen.Environment)
		effective = Values{}
	}
	valuesRep.Violations.Sort()
	if cfg.pc.Values == nil {
		cfg.pc.Values = effective
	}
	cfg.outputs = map[string]string{}
	tmplRep := LayerReport{Layer: TemplateLayer, Skipped: []string{"the values could not be layered, so the templates were not executed"}}
	if layered {
		tmplRep, files = runTemplateLayer(files, TemplateData{Values: effective, Package: gen.Name, Blueprint: bp.Ref()},
			func(dotted string) bool { return declaresKey(params.Schema, dotted) }, cfg.outputs)
		tmplRep.Violations = withoutConsequences(tmplRep.Violations, valuesRep.Violations)
	}
	if len(valuesRep.Violations) == 0 && len(tmplRep.Violations) == 0 {
		bound, err := bind(files, params.Bindings, effective)
		var be *BindingError
		switch {
		case errors.As(err, &be):
			valuesRep.Violations = append(valuesRep.Violations, bindingViolation(params, be, effective))
		case err != nil:
			return nil, err
		default:
			files = bound.files
		}
	}
	return validateFiles(ctx, files, cfg, []LayerReport{valuesRep, tmplRep})
}

// declaresKey reports whether the raw schema lists the dotted value path
// among its properties (following local $ref).
func declaresKey(schema map[string]any, dotted string) bool {
	cur := schemaAt(schema, "")
	for _, k := range strings.Split(dotted, ".") {
		props, _ := cur["properties"].(map[string]any)
		next, ok := props[k].(map[string]any)
		if !ok {
			return false
		}
		if ref, ok := next["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
			next = schemaAt(schema, strings.TrimPrefix(ref, "#"))
		}
		cur = next
	}
	return true
}

// withoutConsequences drops the template failures at a value the values
// layer already reports (a template reading a missing required value):
// the cause is listed once, where it can be fixed.
func withoutConsequences(tmpl, values Violations) Violations {
	var out Violations
	for _, t := range tmpl {
		caused := false
		for _, v := range values {
			if strings.HasPrefix(t.Path, "/") && (t.Path == v.Path || strings.HasPrefix(t.Path, v.Path+"/")) {
				caused = true
				break
			}
		}
		if !caused {
			out = append(out, t)
		}
	}
	return out
}

// declaredAt names a schema keyword's location in the declaration.
func declaredAt(p *Parameters, keywordLocation string) string {
	file := p.File
	if file == "" {
		file = "inferred parameters"
	}
	return file + "#" + keywordLocation
}

// pointerTokens splits a JSON pointer into unescaped tokens.
func pointerTokens(ptr string) []string {
	if ptr == "" || ptr == "/" {
		return nil
	}
	toks := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks
}

// dotted turns a JSON pointer into the dot path Origins uses.
func dotted(ptr string) string { return strings.Join(pointerTokens(ptr), ".") }

// schemaAt returns the raw schema object at a pointer into the
// declaration's schema (following local $ref), or nil.
func schemaAt(root map[string]any, ptr string) map[string]any {
	var cur any = root
	for _, t := range pointerTokens(ptr) {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	m, _ := cur.(map[string]any)
	if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
		if target := schemaAt(root, strings.TrimPrefix(ref, "#")); target != nil {
			return target
		}
	}
	return m
}

// parentSchemaLocation strips the keyword from a keyword location.
func parentSchemaLocation(kw string) string {
	if i := strings.LastIndex(kw, "/"); i >= 0 {
		return kw[:i]
	}
	return ""
}

// originNote says which layer set a value, when it was not the caller.
func originNote(origins Origins, ptr string) string {
	if l, ok := origins[dotted(ptr)]; ok && l != LayerValues {
		return fmt.Sprintf(" (set by the %s layer)", l)
	}
	return ""
}

// valueViolations explains every schema failure.
func valueViolations(p *Parameters, errs []SchemaError, effective Values, origins Origins) Violations {
	var out Violations
	for _, se := range errs {
		if se.Keyword == "required" {
			missing, _ := se.Details["missing"].([]string)
			parent := schemaAt(p.Schema, parentSchemaLocation(se.KeywordLocation))
			for _, key := range missing {
				v := Violation{Layer: ValuesLayer, Path: se.InstanceLocation + "/" + escapePointer(key), Rule: "required",
					DeclaredAt: declaredAt(p, se.KeywordLocation), Message: fmt.Sprintf("missing required value %q", key)}
				v.Fix = requiredFix(parent, key)
				out = append(out, v)
			}
			continue
		}
		v := Violation{Layer: ValuesLayer, Path: se.InstanceLocation, Value: se.Value, HasValue: se.HasValue,
			Rule: se.Keyword, DeclaredAt: declaredAt(p, se.KeywordLocation),
			Message: se.Message + originNote(origins, se.InstanceLocation)}
		if v.Rule == "" {
			v.Rule = "schema"
		}
		if v.Path == "" {
			v.Path = "/"
		}
		if se.Keyword == "additionalProperties" {
			parentLoc := parentSchemaLocation(se.KeywordLocation)
			if _, said := schemaAt(p.Schema, parentLoc)["additionalProperties"]; !said {
				v.DeclaredAt = declaredAt(p, parentLoc+"/properties")
				v.Message += " (values are closed by default: the key is not among the declared properties)"
			}
		}
		v.Fix = schemaFix(p, se)
		out = append(out, v)
	}
	return out
}

// requiredFix proposes the missing key's default or first example.
func requiredFix(parent map[string]any, key string) *Fix {
	props, _ := parent["properties"].(map[string]any)
	prop, _ := props[key].(map[string]any)
	if d, ok := prop["default"]; ok {
		return &Fix{Value: d, Description: fmt.Sprintf("add %q (its default is %s)", key, formatValue(d))}
	}
	if ex, ok := prop["examples"].([]any); ok && len(ex) > 0 {
		return &Fix{Value: ex[0], Description: fmt.Sprintf("add %q, for example %s", key, formatValue(ex[0]))}
	}
	if en, ok := prop["enum"].([]any); ok && len(en) > 0 {
		return &Fix{Value: en[0], Description: fmt.Sprintf("add %q, one of %s", key, joinValues(en))}
	}
	if t, ok := prop["type"].(string); ok {
		return &Fix{Description: fmt.Sprintf("add %q (type %s)", key, t)}
	}
	return &Fix{Description: fmt.Sprintf("add %q", key)}
}

func joinValues(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = formatValue(v)
	}
	return strings.Join(parts, ", ")
}

// numberOf reads a schema bound as a float64.
func numberOf(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	if s := fmt.Sprint(v); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	return 0, false
}

// asNumber renders a bound as an int64 when it is whole.
func asNumber(f float64) any {
	if f == float64(int64(f)) {
		return int64(f)
	}
	return f
}

// wantsInteger reports whether the schema at a keyword's parent says
// integer.
func wantsInteger(p *Parameters, kwLoc string) bool {
	s := schemaAt(p.Schema, parentSchemaLocation(kwLoc))
	switch t := s["type"].(type) {
	case string:
		return t == "integer"
	case []any:
		for _, x := range t {
			if x == "integer" {
				return true
			}
		}
	}
	return false
}

// schemaFix proposes a correction for one schema failure: the closest
// enum value, the bound of a range, the const, a conversion to the
// expected type, or a description.
func schemaFix(p *Parameters, se SchemaError) *Fix {
	d := se.Details
	switch se.Keyword {
	case "enum":
		want, _ := d["enum"].([]any)
		if len(want) == 0 {
			return nil
		}
		names := make([]string, len(want))
		for i, w := range want {
			names[i] = fmt.Sprint(w)
		}
		best, _ := closest(fmt.Sprint(se.Value), names)
		for i, n := range names {
			if n == best {
				return &Fix{Value: want[i], Description: fmt.Sprintf("use %s, the closest allowed value (allowed: %s)", formatValue(want[i]), joinValues(want))}
			}
		}
	case "const":
		return &Fix{Value: d["const"], Description: fmt.Sprintf("use %s", formatValue(d["const"]))}
	case "minimum", "maximum":
		if b, ok := numberOf(d[se.Keyword]); ok {
			return &Fix{Value: asNumber(b), Description: fmt.Sprintf("use %v, the %s", asNumber(b), se.Keyword)}
		}
	case "exclusiveMinimum", "exclusiveMaximum":
		if b, ok := numberOf(d[se.Keyword]); ok {
			if wantsInteger(p, se.KeywordLocation) {
				if se.Keyword == "exclusiveMinimum" {
					b = float64(int64(b)) + 1
				} else {
					b = float64(int64(b)) - 1
				}
				return &Fix{Value: asNumber(b), Description: fmt.Sprintf("use %v, the nearest allowed integer", asNumber(b))}
			}
			return &Fix{Description: fmt.Sprintf("use a value %s %v", map[string]string{"exclusiveMinimum": "above", "exclusiveMaximum": "below"}[se.Keyword], asNumber(b))}
		}
	case "multipleOf":
		if m, ok := numberOf(d["multipleOf"]); ok && m != 0 {
			if v, ok := numberOf(se.Value); ok {
				n := float64(int64(v/m+0.5)) * m
				return &Fix{Value: asNumber(n), Description: fmt.Sprintf("use %v, the nearest multiple of %v", asNumber(n), asNumber(m))}
			}
		}
	case "type":
		want, _ := d["want"].([]string)
		return typeFix(se.Value, want)
	case "pattern":
		return &Fix{Description: fmt.Sprintf("use a value matching %v", d["pattern"])}
	case "minLength", "maxLength", "minItems", "maxItems":
		return &Fix{Description: fmt.Sprintf("respect %s %v", se.Keyword, d[se.Keyword])}
	case "format":
		return &Fix{Description: fmt.Sprintf("use a valid %v", d["format"])}
	case "additionalProperties":
		unexpected, _ := d["unexpected"].([]string)
		parent := schemaAt(p.Schema, parentSchemaLocation(se.KeywordLocation))
		return unknownKeyFix(parent, unexpected)
	}
	return nil
}

// typeFix converts value to the expected type when it can be.
func typeFix(value any, want []string) *Fix {
	if len(want) == 0 {
		return nil
	}
	for _, w := range want {
		switch w {
		case "integer":
			switch v := value.(type) {
			case string:
				if i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
					return &Fix{Value: i, Description: fmt.Sprintf("write the integer %d without quotes", i)}
				}
			case float64:
				return &Fix{Value: int64(v), Description: fmt.Sprintf("use the integer %d", int64(v))}
			}
		case "number":
			if v, ok := value.(string); ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					return &Fix{Value: asNumber(f), Description: fmt.Sprintf("write the number %v without quotes", asNumber(f))}
				}
			}
		case "boolean":
			if v, ok := value.(string); ok {
				if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
					return &Fix{Value: b, Description: fmt.Sprintf("write %t without quotes", b)}
				}
			}
		case "string":
			switch value.(type) {
			case int64, float64, bool, json.Number:
				s := fmt.Sprint(value)
				return &Fix{Value: s, Description: fmt.Sprintf("quote the value: %q", s)}
			}
		}
	}
	return &Fix{Description: "use a " + strings.Join(want, " or ")}
}

// unknownKeyFix proposes removing unexpected keys, naming the closest
// declared one.
func unknownKeyFix(parent map[string]any, unexpected []string) *Fix {
	props, _ := parent["properties"].(map[string]any)
	var declared []string
	for k := range props {
		declared = append(declared, k)
	}
	sort.Strings(declared)
	f := &Fix{Remove: true, Description: "remove the key"}
	if len(unexpected) == 1 {
		if best, ok := closest(unexpected[0], declared); ok {
			f.Description = fmt.Sprintf("remove the key, or rename it to %q (the closest declared key)", best)
		}
	}
	return f
}

// valuesErrorViolations explains a failure of layering the values: an
// unknown environment, or values that are not JSON-like.
func valuesErrorViolations(p *Parameters, ve *ValuesError, env string) Violations {
	if errors.Is(ve.Err, ErrUnknownEnvironment) {
		var envs []string
		for k := range p.Environments {
			envs = append(envs, k)
		}
		sort.Strings(envs)
		v := Violation{Layer: ValuesLayer, Path: "environment", Value: env, HasValue: true, Rule: "environment",
			DeclaredAt: declaredAt(p, "spec.environments"), Message: ve.Err.Error()}
		if best, ok := closest(env, envs); ok {
			v.Fix = &Fix{Value: best, Description: fmt.Sprintf("use %q, the closest declared environment", best)}
		}
		return Violations{v}
	}
	out := valueViolations(p, ve.Errors, nil, nil)
	if len(out) == 0 {
		out = Violations{{Layer: ValuesLayer, Path: "/", Rule: "values", DeclaredAt: declaredAt(p, ""), Message: ve.Error()}}
	}
	return out
}

// bindingViolation explains a value that could not be written where its
// binding says.
func bindingViolation(p *Parameters, be *BindingError, effective Values) Violation {
	ptr := "/" + strings.ReplaceAll(be.Binding.Value, ".", "/")
	v := Violation{Layer: ValuesLayer, Path: ptr, Rule: "binding", File: be.File,
		DeclaredAt: declaredAt(p, fmt.Sprintf("spec.bindings[%d]", be.Index)), Message: be.Error()}
	v.Value, v.HasValue = effective.Get(be.Binding.Value)
	return v
}

// templateActionRE finds the action a template failed at.
var (
	templateActionRE  = regexp.MustCompile(`at <([^>]*)>`)
	templateStartedRE = regexp.MustCompile(`started at [^:]+:(\d+)`)
)

// runTemplateLayer executes every template, reporting every failure, and
// returns the files with each template that ran replaced by its output.
func runTemplateLayer(files map[string]string, data TemplateData, declared func(dotted string) bool, outputs map[string]string) (LayerReport, map[string]string) {
	rep := LayerReport{Layer: TemplateLayer}
	out := maps.Clone(files)
	for _, p := range sortedKeys(files) {
		if !strings.HasSuffix(p, TemplateSuffix) {
			continue
		}
		rep.Ran = true
		target := strings.TrimSuffix(p, TemplateSuffix)
		fail := func(v Violation) {
			v.Layer, v.File = TemplateLayer, p
			if v.DeclaredAt == "" {
				v.DeclaredAt = "text/template with blueprint.TemplateFuncs"
			}
			rep.Violations = append(rep.Violations, v)
		}
		if _, exists := files[target]; exists {
			fail(Violation{Path: ".", Value: target, HasValue: true, Rule: "template.output-exists", Line: 1, Column: 1,
				Message: fmt.Sprintf("output file %s already exists in the package", target),
				Fix:     &Fix{Description: "rename the template or remove " + target}})
			continue
		}
		if !strings.HasSuffix(target, ".yaml") && !strings.HasSuffix(target, ".yml") {
			fail(Violation{Path: ".", Value: target, HasValue: true, Rule: "template.output-name", Line: 1, Column: 1,
				Message: "a template's output file must end .yaml or .yml",
				Fix:     &Fix{Value: target + ".yaml", Description: "name the template " + target + ".yaml" + TemplateSuffix}})
			continue
		}
		text, err := executeTemplate(p, files[p], data)
		if err != nil {
			fail(templateViolation(p, files[p], err, data.Values, declared))
			delete(out, p)
			continue
		}
		delete(out, p)
		out[target] = text
		outputs[target] = p
	}
	rep.Violations.Sort()
	return rep, out
}

// templateViolation explains a template failure: where (file, line,
// column), the action it failed at (a .Values path becomes a JSON
// pointer), and, for a missing value key, the closest declared one.
func templateViolation(file, src string, err error, values Values, declared func(dotted string) bool) Violation {
	v := Violation{Rule: "template.execute", Path: ".", Message: err.Error()}
	var te *TemplateError
	if errors.As(err, &te) {
		v.Line, v.Column = te.Line, te.Column
		v.Message = te.Err.Error()
		var ee template.ExecError
		if !errors.As(te.Err, &ee) {
			v.Rule = "template.parse"
		}
	}
	if m := templateStartedRE.FindStringSubmatch(v.Message); m != nil {
		// An unclosed action: point at where it starts.
		v.Line, _ = strconv.Atoi(m[1])
		v.Column = 0
	}
	if v.Line > 0 {
		if lines := strings.Split(src, "\n"); v.Line <= len(lines) && strings.TrimSpace(lines[v.Line-1]) != "" {
			v.Value, v.HasValue = strings.TrimSpace(lines[v.Line-1]), true
		}
	}
	if m := templateActionRE.FindStringSubmatch(v.Message); m != nil {
		action := m[1]
		v.Value, v.HasValue = action, true
		if rest, ok := strings.CutPrefix(action, ".Values."); ok {
			v.Path = "/" + strings.ReplaceAll(rest, ".", "/")
			parentPath, key := "", rest
			if i := strings.LastIndex(rest, "."); i >= 0 {
				parentPath, key = rest[:i], rest[i+1:]
			}
			parent := map[string]any(values)
			if parentPath != "" {
				got, _ := values.Get(parentPath)
				parent, _ = got.(map[string]any)
			}
			var keys []string
			for k := range parent {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if _, present := parent[key]; !present && !declared(rest) {
				if best, ok := closest(key, keys); ok {
					full := best
					if parentPath != "" {
						full = parentPath + "." + best
					}
					v.Fix = &Fix{Value: ".Values." + full, Description: fmt.Sprintf("use .Values.%s, the closest value", full)}
				}
			}
		} else {
			v.Path = action
		}
	}
	if !v.HasValue {
		first, _, _ := strings.Cut(src, "\n")
		v.Value, v.HasValue = first, true
	}
	return v
}
