package blueprint

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// PackageContextFile and PackageContextName locate a package's context,
// the ConfigMap Porch and kpt functions read the package's name from.
const (
	PackageContextFile = "package-context.yaml"
	PackageContextName = "kptfile.kpt.dev"
)

// InjectionPoint is a resource of the package marked for config injection.
type InjectionPoint struct {
	// File is the package file holding it.
	File string
	// APIVersion, Kind and Name identify the resource.
	APIVersion, Kind, Name string
	// Required is true for "required", false for "optional".
	Required bool
	// Field is what injection replaces: "data" for a ConfigMap, "spec"
	// otherwise.
	Field string
	// Shape is the current content of Field, as decoded YAML (nil when
	// the resource has none).
	Shape any
	// ConditionType is the Kptfile condition reporting the point,
	// config.injection.<Kind>.<Name>.
	ConditionType string
}

// InjectionPoints lists the package's injection points in file order. An
// annotation value other than "required" or "optional", or two points with
// the same condition type, is an error wrapping ErrInjection, as it fails
// a PackageVariant.
func InjectionPoints(files map[string]string) ([]InjectionPoint, error) {
	pf, err := parseFiles(files)
	if err != nil {
		return nil, err
	}
	return injectionPoints(pf)
}

func injectionPoints(pf *parsedFiles) ([]InjectionPoint, error) {
	var out []InjectionPoint
	var problems []string
	seen := map[string]string{}
	_ = pf.each(func(f *packageFile, n *kyaml.RNode) error {
		ann, ok := n.GetAnnotations()[ConfigInjectionAnnotation]
		if !ok {
			return nil
		}
		ip := InjectionPoint{File: f.path, APIVersion: n.GetApiVersion(), Kind: n.GetKind(), Name: n.GetName(),
			Field: injectedField(n), ConditionType: injectionConditionType(n.GetKind(), n.GetName())}
		switch ann {
		case "required":
			ip.Required = true
		case "optional":
		default:
			problems = append(problems, fmt.Sprintf("%s: %s/%s has invalid %q annotation value of %q", f.path, ip.Kind, ip.Name, ConfigInjectionAnnotation, ann))
		}
		if first, dup := seen[ip.ConditionType]; dup {
			problems = append(problems, fmt.Sprintf("duplicate injection conditionType %q (%s and %s)", ip.ConditionType, first, f.path))
		}
		seen[ip.ConditionType] = f.path
		if fv, err := n.Pipe(kyaml.Lookup(ip.Field)); err == nil && fv != nil {
			var shape any
			if err := fv.YNode().Decode(&shape); err == nil {
				ip.Shape, _ = normalize(shape)
			}
		}
		out = append(out, ip)
		return nil
	})
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: errors in injection points: %s", ErrInjection, strings.Join(problems, ", "))
	}
	return out, nil
}

// Setter is a kpt setter the package uses.
type Setter struct {
	// Name is the setter's name, as in ${name}.
	Name string
	// Value is its value in the package's apply-setters config, if one
	// sets it.
	Value string
	// HasValue tells an empty Value from none.
	HasValue bool
	// Type is the JSON type of the fields it sets whole ("string",
	// "integer", "number", "boolean", "array"), "string" when it is only
	// part of a pattern.
	Type string
	// Fields are the fields whose kpt-set comment references it.
	Fields []SetterField
}

// SetterField is one field a setter writes.
type SetterField struct {
	// File, Kind and Name locate the resource.
	File, Kind, Name string
	// Path is the field's path ("spec.replicas", "spec.ports[1]").
	Path string
	// Pattern is the comment's pattern ("${name}", "${prefix}-db").
	Pattern string
	// Line is the field's line in File.
	Line int
}

// Setters lists the package's setters by name: every name referenced by a
// "# kpt-set:" comment or set by an apply-setters function config (an
// ApplySetters resource, a ConfigMap a Kptfile step reads, or a step's
// inline configMap).
func Setters(files map[string]string) ([]Setter, error) {
	pf, err := parseFiles(files)
	if err != nil {
		return nil, err
	}
	return setters(pf), nil
}

func setters(pf *parsedFiles) []Setter {
	byName := map[string]*Setter{}
	get := func(name string) *Setter {
		s := byName[name]
		if s == nil {
			s = &Setter{Name: name}
			byName[name] = s
		}
		return s
	}
	configs := map[string]bool{}
	if kf := pf.byKey[KptfileName]; kf != nil && len(kf.nodes) > 0 {
		configs = setterConfigPaths(kf.nodes[0])
		for _, list := range []string{"mutators", "validators"} {
			fns, _ := kf.nodes[0].Pipe(kyaml.Lookup("pipeline", list))
			if fns == nil {
				continue
			}
			els, _ := fns.Elements()
			for _, fn := range els {
				if !isApplySettersFunction(fn) {
					continue
				}
				if cm, _ := fn.Pipe(kyaml.Lookup("configMap")); cm != nil {
					_ = cm.VisitFields(func(node *kyaml.MapNode) error {
						s := get(node.Key.YNode().Value)
						s.Value, s.HasValue = node.Value.YNode().Value, true
						return nil
					})
				}
			}
		}
	}
	_ = pf.each(func(f *packageFile, n *kyaml.RNode) error {
		if n.GetKind() == "ApplySetters" || (n.GetKind() == "ConfigMap" && configs[f.path]) {
			field := "data"
			if n.GetKind() == "ApplySetters" {
				field = "spec"
			}
			if m, _ := n.Pipe(kyaml.Lookup(field)); m != nil && m.YNode().Kind == kyaml.MappingNode {
				_ = m.VisitFields(func(node *kyaml.MapNode) error {
					s := get(node.Key.YNode().Value)
					s.Value, s.HasValue = node.Value.YNode().Value, true
					return nil
				})
			}
		}
		walkSetterComments(n.YNode(), nil, func(path []string, v *kyaml.Node, pattern string) {
			refs := setterRef.FindAllStringSubmatch(pattern, -1)
			for _, r := range refs {
				s := get(r[1])
				s.Fields = append(s.Fields, SetterField{File: f.path, Kind: n.GetKind(), Name: n.GetName(),
					Path: strings.Join(path, "."), Pattern: pattern, Line: v.Line})
				t := "string"
				if len(refs) == 1 && r[0] == pattern {
					t = nodeType(v)
				}
				if s.Type == "" || s.Type == t {
					s.Type = t
				} else {
					s.Type = "string"
				}
			}
		})
		return nil
	})
	out := make([]Setter, 0, len(byName))
	for _, name := range sortedKeys(byName) {
		s := *byName[name]
		if s.Type == "" {
			s.Type = "string"
		}
		out = append(out, s)
	}
	return out
}

func walkSetterComments(n *kyaml.Node, path []string, fn func(path []string, v *kyaml.Node, pattern string)) {
	switch n.Kind {
	case kyaml.DocumentNode:
		for _, c := range n.Content {
			walkSetterComments(c, path, fn)
		}
	case kyaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := append(slices.Clone(path), k.Value)
			comment := v.LineComment
			if comment == "" && v.Kind != kyaml.ScalarNode {
				comment = k.LineComment
			}
			if m := setterComment.FindStringSubmatch(comment); m != nil {
				fn(p, v, m[1])
			}
			walkSetterComments(v, p, fn)
		}
	case kyaml.SequenceNode:
		for i, c := range n.Content {
			p := append(slices.Clone(path), "["+strconv.Itoa(i)+"]")
			if m := setterComment.FindStringSubmatch(c.LineComment); m != nil && c.Kind == kyaml.ScalarNode {
				fn(p, c, m[1])
			}
			walkSetterComments(c, p, fn)
		}
	}
}

func nodeType(n *kyaml.Node) string {
	switch n.Kind {
	case kyaml.SequenceNode:
		return "array"
	case kyaml.MappingNode:
		return "object"
	}
	switch n.ShortTag() {
	case kyaml.NodeTagInt:
		return "integer"
	case kyaml.NodeTagFloat:
		return "number"
	case kyaml.NodeTagBool:
		return "boolean"
	}
	return "string"
}

// PackageContextKeys lists the data keys of the package's kptfile.kpt.dev
// ConfigMap, sorted ("name" is always one in a Porch package).
func PackageContextKeys(files map[string]string) ([]string, error) {
	pf, err := parseFiles(files)
	if err != nil {
		return nil, err
	}
	var keys []string
	_ = pf.each(func(f *packageFile, n *kyaml.RNode) error {
		if n.GetKind() == "ConfigMap" && n.GetName() == PackageContextName {
			for k := range n.GetDataMap() {
				keys = append(keys, k)
			}
		}
		return nil
	})
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// InjectionValueKey is the value path Infer gives an injection point:
// "<Kind>.<name>", dots in the name replaced by "_".
func InjectionValueKey(kind, name string) string {
	return kind + "." + strings.ReplaceAll(name, ".", "_")
}

// Infer derives a declaration for a package that has none: one value per
// injection point at InjectionValueKey (an object shaped like the point's
// spec or data, bound to the point) and one per setter (bound to it, its
// apply-setters value as default). Values are optional: a point without a
// value is left for injectors, a setter without one keeps the package's
// value. Unknown keys are rejected.
func Infer(files map[string]string) (*Parameters, error) {
	pf, err := parseFiles(files)
	if err != nil {
		return nil, err
	}
	points, err := injectionPoints(pf)
	if err != nil {
		return nil, err
	}
	props := map[string]any{}
	p := &Parameters{Description: "inferred from the package's injection points and setters"}
	for _, ip := range points {
		kindProps, _ := props[ip.Kind].(map[string]any)
		if kindProps == nil {
			kindProps = map[string]any{}
			props[ip.Kind] = map[string]any{"type": "object", "additionalProperties": false, "properties": kindProps,
				"description": "injection points of kind " + ip.Kind}
		}
		req := "optional"
		if ip.Required {
			req = "required"
		}
		sch := shapeSchema(ip.Shape)
		sch["type"] = "object"
		sch["description"] = fmt.Sprintf("%s injection point %s %s in %s: replaces its %s", req, ip.Kind, ip.Name, ip.File, ip.Field)
		if ip.Shape != nil {
			sch["examples"] = []any{ip.Shape}
		}
		key := strings.ReplaceAll(ip.Name, ".", "_")
		kindProps[key] = sch
		p.Bindings = append(p.Bindings, Binding{Value: InjectionValueKey(ip.Kind, ip.Name),
			Injection: &Selector{APIVersion: ip.APIVersion, Kind: ip.Kind, Name: ip.Name}})
	}
	for _, s := range setters(pf) {
		if _, clash := props[s.Name]; clash {
			return nil, &ParametersError{Field: "setters", Err: fmt.Errorf("setter %q has the name of an injection kind", s.Name)}
		}
		sch := map[string]any{"type": s.Type, "description": fmt.Sprintf("kpt setter %s (%d fields)", s.Name, len(s.Fields))}
		if s.Type == "array" {
			sch["items"] = map[string]any{"type": "string"}
		}
		if s.HasValue {
			if d, ok := typedSetterValue(s.Value, s.Type); ok {
				sch["default"] = d
			}
		}
		props[s.Name] = sch
		p.Bindings = append(p.Bindings, Binding{Value: s.Name, Setter: s.Name})
	}
	p.Schema = map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"type":                 "object",
		"additionalProperties": false,
		"properties":           props,
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return p, nil
}

// typedSetterValue reads an apply-setters string value as the setter's
// type.
func typedSetterValue(s, typ string) (any, bool) {
	switch typ {
	case "integer":
		i, err := strconv.ParseInt(s, 10, 64)
		return i, err == nil
	case "number":
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	case "boolean":
		b, err := strconv.ParseBool(s)
		return b, err == nil
	case "array":
		var v []any
		if err := kyaml.Unmarshal([]byte(s), &v); err != nil {
			return nil, false
		}
		n, err := normalize(v)
		return n, err == nil
	}
	return s, true
}

// shapeSchema describes a decoded value's shape: types of every field,
// nested; unknown fields stay allowed, since the kinds have more than a
// blueprint shows.
func shapeSchema(v any) map[string]any {
	switch t := v.(type) {
	case map[string]any:
		props := map[string]any{}
		for k, e := range t {
			props[k] = shapeSchema(e)
		}
		return map[string]any{"type": "object", "properties": props, "additionalProperties": true}
	case []any:
		s := map[string]any{"type": "array"}
		if len(t) > 0 {
			s["items"] = shapeSchema(t[0])
		}
		return s
	case string:
		return map[string]any{"type": "string"}
	case bool:
		return map[string]any{"type": "boolean"}
	case int64:
		return map[string]any{"type": "integer"}
	case float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}
