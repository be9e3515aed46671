package blueprint

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// Annotations of config injection, as Porch's PackageVariant controller
// spells them.
const (
	// ConfigInjectionAnnotation marks an injection point; its value is
	// "required" or "optional".
	ConfigInjectionAnnotation = "kpt.dev/config-injection"
	// InjectedResourceAnnotation records the name of the object injected
	// into a point.
	InjectedResourceAnnotation = "kpt.dev/injected-resource"
)

// boundFiles is the outcome of binding.
type boundFiles struct {
	files map[string]string
	// injected are the injection points values filled, by condition type.
	injected map[string]bool
}

// Bind writes the values where the bindings say, types kept, and returns
// the new files; files is not modified. Values a binding names but the
// values lack are left as the blueprint has them. A binding whose target
// does not exist is a *BindingError.
func Bind(files map[string]string, bindings []Binding, values Values) (map[string]string, error) {
	b, err := bind(files, bindings, values)
	if err != nil {
		return nil, err
	}
	return b.files, nil
}

func bind(files map[string]string, bindings []Binding, values Values) (*boundFiles, error) {
	out := &boundFiles{files: files, injected: map[string]bool{}}
	if len(bindings) == 0 {
		return out, nil
	}
	norm, err := normalizeValues(values)
	if err != nil {
		return nil, &ValuesError{Err: err, Errors: []SchemaError{{InstanceLocation: pointerOf(err), Keyword: "type", Message: err.Error()}}}
	}
	vals := Values(norm)
	pf, err := parseFiles(files)
	if err != nil {
		return nil, err
	}
	setters := map[string]any{}
	for i, b := range bindings {
		v, ok := vals.Get(b.Value)
		if !ok {
			continue
		}
		switch {
		case b.Resource != nil:
			if err := bindResource(pf, b, v); err != nil {
				return nil, &BindingError{Binding: b, Index: i, Err: err}
			}
		case b.Injection != nil:
			ct, err := bindInjection(pf, b, v)
			if err != nil {
				return nil, &BindingError{Binding: b, Index: i, Err: err}
			}
			out.injected[ct] = true
		case b.Setter != "":
			setters[b.Setter] = v
		default:
			return nil, &BindingError{Binding: b, Index: i, Err: errors.New("no target")}
		}
	}
	if len(setters) > 0 {
		if err := bindSetters(pf, setters); err != nil {
			var se *setterError
			if errors.As(err, &se) {
				for i, b := range bindings {
					if b.Setter == se.name {
						return nil, &BindingError{Binding: b, Index: i, File: se.file, Err: se.err}
					}
				}
			}
			return nil, err
		}
	}
	if out.files, err = pf.write(files); err != nil {
		return nil, err
	}
	return out, nil
}

func bindResource(pf *parsedFiles, b Binding, v any) error {
	path, err := splitFieldPath(b.Field)
	if err != nil {
		return err
	}
	matched := 0
	err = pf.each(func(f *packageFile, n *kyaml.RNode) error {
		if !b.Resource.Matches(n) || (n.GetApiVersion() == ParametersAPIVersion && n.GetKind() == ParametersKind) {
			return nil
		}
		matched++
		vn, err := valueNode(v)
		if err != nil {
			return err
		}
		if err := setPath(n, path, vn); err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		f.changed = true
		return nil
	})
	if err != nil {
		return err
	}
	if matched == 0 {
		return fmt.Errorf("no resource matches %s", b.Resource)
	}
	return nil
}

// injectedField is the field config injection replaces in an object:
// data for a core ConfigMap, spec for anything else.
func injectedField(n *kyaml.RNode) string {
	g, _ := splitAPIVersion(n.GetApiVersion())
	if g == "" && n.GetKind() == "ConfigMap" {
		return "data"
	}
	return "spec"
}

func bindInjection(pf *parsedFiles, b Binding, v any) (string, error) {
	var target *kyaml.RNode
	var file *packageFile
	err := pf.each(func(f *packageFile, n *kyaml.RNode) error {
		if _, ok := n.GetAnnotations()[ConfigInjectionAnnotation]; !ok || !b.Injection.Matches(n) {
			return nil
		}
		if target != nil {
			return fmt.Errorf("%s selects more than one injection point (%s/%s and %s/%s)", b.Injection, target.GetKind(), target.GetName(), n.GetKind(), n.GetName())
		}
		target, file = n, f
		return nil
	})
	if err != nil {
		return "", err
	}
	if target == nil {
		return "", fmt.Errorf("no injection point matches %s", b.Injection)
	}
	root := injectedField(target)
	path := []string{root}
	if b.Field != "" {
		rest, err := splitFieldPath(b.Field)
		if err != nil {
			return "", err
		}
		if rest[0] == root {
			rest = rest[1:]
		}
		path = append(path, rest...)
	} else if _, ok := asMap(v); !ok {
		return "", fmt.Errorf("a binding to the whole %s needs an object value, got %T", root, v)
	}
	vn, err := valueNode(v)
	if err != nil {
		return "", err
	}
	if err := setPath(target, path, vn); err != nil {
		return "", fmt.Errorf("%s: %w", file.path, err)
	}
	file.changed = true
	return injectionConditionType(target.GetKind(), target.GetName()), nil
}

// setterComment matches kpt's setter comments: "# kpt-set: ${name}",
// "# kpt-set: prefix-${name}-suffix".
var (
	setterComment = regexp.MustCompile(`^#\s*kpt-set:\s*(.*?)\s*$`)
	setterRef     = regexp.MustCompile(`\$\{([^}]+)\}`)
)

// bindSetters writes setter values into the fields whose kpt-set comment
// references them, typed when the comment is exactly one setter, and into
// apply-setters function configs (as the strings apply-setters reads).
func bindSetters(pf *parsedFiles, setters map[string]any) error {
	configs := map[string]bool{}
	if kf := pf.byKey[KptfileName]; kf != nil && len(kf.nodes) > 0 {
		configs = setterConfigPaths(kf.nodes[0])
	}
	err := pf.each(func(f *packageFile, n *kyaml.RNode) error {
		changed, err := applySetterComments(n.YNode(), setters)
		if err != nil {
			var se *setterError
			if errors.As(err, &se) {
				se.file = f.path
				return se
			}
			return fmt.Errorf("%w: %s: %w", ErrBinding, f.path, err)
		}
		if n.GetKind() == "ApplySetters" || (n.GetKind() == "ConfigMap" && configs[f.path]) {
			if updateSetterConfig(n, setters) {
				changed = true
			}
		}
		if changed {
			f.changed = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	return pf.each(func(f *packageFile, n *kyaml.RNode) error {
		if n.GetKind() == "Kptfile" && updateKptfileSetterConfigs(n, setters) {
			f.changed = true
		}
		return nil
	})
}

func applySetterComments(n *kyaml.Node, setters map[string]any) (bool, error) {
	changed := false
	switch n.Kind {
	case kyaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			comment := v.LineComment
			if comment == "" && v.Kind != kyaml.ScalarNode {
				comment = k.LineComment
			}
			if m := setterComment.FindStringSubmatch(comment); m != nil {
				c, err := applySetter(v, m[1], setters)
				if err != nil {
					return false, err
				}
				changed = changed || c
			}
			c, err := applySetterComments(v, setters)
			if err != nil {
				return false, err
			}
			changed = changed || c
		}
	case kyaml.SequenceNode, kyaml.DocumentNode:
		for _, c := range n.Content {
			if m := setterComment.FindStringSubmatch(c.LineComment); m != nil && c.Kind == kyaml.ScalarNode {
				ch, err := applySetter(c, m[1], setters)
				if err != nil {
					return false, err
				}
				changed = changed || ch
			}
			ch, err := applySetterComments(c, setters)
			if err != nil {
				return false, err
			}
			changed = changed || ch
		}
	}
	return changed, nil
}

// applySetter sets one commented field from its pattern. Fields whose
// pattern references a setter without a value are left alone, as
// apply-setters leaves them.
func applySetter(n *kyaml.Node, pattern string, setters map[string]any) (bool, error) {
	refs := setterRef.FindAllStringSubmatch(pattern, -1)
	if len(refs) == 0 {
		return false, nil
	}
	for _, r := range refs {
		if _, ok := setters[r[1]]; !ok {
			return false, nil
		}
	}
	if len(refs) == 1 && refs[0][0] == pattern {
		v := setters[refs[0][1]]
		if n.Kind == kyaml.SequenceNode {
			if _, ok := v.([]any); !ok {
				return false, &setterError{name: refs[0][1], err: fmt.Errorf("line %d is a list, got %T", n.Line, v)}
			}
		}
		vn, err := valueNode(v)
		if err != nil {
			return false, err
		}
		replaceNode(n, vn.YNode())
		return true, nil
	}
	var err error
	out := setterRef.ReplaceAllStringFunc(pattern, func(tok string) string {
		name := tok[2 : len(tok)-1]
		s, e := scalarString(setters[name])
		if e != nil && err == nil {
			err = &setterError{name: name, err: fmt.Errorf("line %d: %w", n.Line, e)}
		}
		return s
	})
	if err != nil {
		return false, err
	}
	if n.Kind != kyaml.ScalarNode {
		return false, fmt.Errorf("setter pattern %q on a non-scalar field", pattern)
	}
	n.Value, n.Tag, n.Style = out, kyaml.NodeTagString, 0
	return true, nil
}

// setterError says which setter failed where.
type setterError struct {
	name, file string
	err        error
}

func (e *setterError) Error() string { return fmt.Sprintf("setter %s: %s: %v", e.name, e.file, e.err) }

func (e *setterError) Unwrap() error { return e.err }

func replaceNode(dst, src *kyaml.Node) {
	line, head, foot := dst.LineComment, dst.HeadComment, dst.FootComment
	*dst = *src
	dst.LineComment, dst.HeadComment, dst.FootComment = line, head, foot
}

// scalarString is a value's text in a string pattern or setter config.
func scalarString(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case nil:
		return "", nil
	case bool, int64, float64:
		return fmt.Sprint(t), nil
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			s, err := scalarString(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	}
	return "", fmt.Errorf("a %T cannot be written as text", v)
}

// setterConfigPaths returns the configPath files of the Kptfile's
// apply-setters steps.
func setterConfigPaths(kf *kyaml.RNode) map[string]bool {
	out := map[string]bool{}
	for _, list := range []string{"mutators", "validators"} {
		fns, err := kf.Pipe(kyaml.Lookup("pipeline", list))
		if err != nil || fns == nil {
			continue
		}
		els, _ := fns.Elements()
		for _, fn := range els {
			if p := stringField(fn, "configPath"); p != "" && isApplySettersFunction(fn) {
				out[strings.TrimPrefix(p, "./")] = true
			}
		}
	}
	return out
}

// updateSetterConfig sets the data (or spec) keys of an apply-setters
// config that name bound setters.
func updateSetterConfig(n *kyaml.RNode, setters map[string]any) bool {
	field := "data"
	if n.GetKind() == "ApplySetters" {
		field = "spec"
	}
	m, err := n.Pipe(kyaml.Lookup(field))
	if err != nil || m == nil || m.YNode().Kind != kyaml.MappingNode {
		return false
	}
	changed := false
	for _, name := range sortedKeys(setters) {
		if m.Field(name) == nil {
			continue
		}
		s, err := scalarString(setters[name])
		if err != nil {
			continue
		}
		if err := m.PipeE(kyaml.SetField(name, kyaml.NewStringRNode(s))); err == nil {
			changed = true
		}
	}
	return changed
}

// updateKptfileSetterConfigs updates the inline configMap of apply-setters
// steps in a Kptfile pipeline.
func updateKptfileSetterConfigs(kf *kyaml.RNode, setters map[string]any) bool {
	changed := false
	for _, list := range []string{"mutators", "validators"} {
		fns, err := kf.Pipe(kyaml.Lookup("pipeline", list))
		if err != nil || fns == nil {
			continue
		}
		els, _ := fns.Elements()
		for _, fn := range els {
			if !isApplySettersFunction(fn) {
				continue
			}
			cm, err := fn.Pipe(kyaml.Lookup("configMap"))
			if err != nil || cm == nil {
				continue
			}
			for _, name := range sortedKeys(setters) {
				if cm.Field(name) == nil {
					continue
				}
				if s, err := scalarString(setters[name]); err == nil {
					_ = cm.PipeE(kyaml.SetField(name, kyaml.NewStringRNode(s)))
					changed = true
				}
			}
		}
	}
	return changed
}

func isApplySettersFunction(fn *kyaml.RNode) bool {
	img := stringField(fn, "image")
	if img == "" {
		img = stringField(fn, "exec")
	}
	return strings.Contains(img, "apply-setters")
}

func injectionConditionType(kind, name string) string {
	return strings.Join([]string{"config", "injection", kind, name}, ".")
}
