package catalog

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// setterComment starts the line comment of a field that apply-setters sets.
const setterComment = "# kpt-set: "

// setterRef matches one "${name}" of a setter pattern.
var setterRef = regexp.MustCompile(`\$\{([^}]*)\}`)

// ApplySetters behaves like the catalog's apply-setters: every scalar
// field whose line comment is "# kpt-set: <pattern>" gets the pattern with
// its ${name} references replaced, when at least one of them is a key of
// the functionConfig's data (any kind with a data map). References the
// config lacks keep the value they have in the field (read back through
// the pattern); one that cannot be read back is an error. A list field
// whose key carries the comment (or a flow list whose value carries it)
// takes a single "${name}" whose value is a YAML list; an empty value
// gives "[]". Each field set is a result "set field value to ..." with
// its field path and file; none set is "no matches for input setter(s)"
// (without a severity, as the catalog writes them). A
// failure is a single error result "failed to apply setters: ..." and no
// resource changes; a missing setter value or a value that is not a list
// for a list field is a *ConfigError.
func ApplySetters(rl *framework.ResourceList) error {
	var setters []setter
	if rl.FunctionConfig != nil {
		data := rl.FunctionConfig.GetDataMap()
		for _, k := range sortedKeys(data) {
			setters = append(setters, setter{name: k, value: data[k]})
		}
	}
	as := &setterApplier{setters: setters}
	copies := make([]*yaml.RNode, len(rl.Items))
	for i, n := range rl.Items {
		copies[i] = n.Copy()
		as.filePath, _, _ = kioutil.GetFileAnnotations(copies[i])
		if err := as.walk(copies[i].YNode(), ""); err != nil {
			msg := err.Error()
			if cerr, ok := err.(*ConfigError); ok {
				msg = cerr.Reason
			}
			rl.Results = append(rl.Results, errorResult("failed to apply setters: "+msg))
			return err
		}
	}
	copy(rl.Items, copies)
	if len(as.results) == 0 {
		rl.Results = append(rl.Results, unratedResult("no matches for input setter(s)", nil, nil))
		return nil
	}
	rl.Results = append(rl.Results, as.results...)
	return nil
}

type setter struct{ name, value string }

// setterApplier walks resources as the catalog's apply-setters does.
type setterApplier struct {
	setters  []setter
	filePath string
	results  framework.Results
}

func (as *setterApplier) walk(n *yaml.Node, path string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := as.walk(c, path); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		if err := as.lists(n, path); err != nil {
			return err
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := as.walk(n.Content[i+1], path+"."+n.Content[i].Value); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := as.walk(c, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		return as.scalar(n, path)
	}
	return nil
}

// lists sets the list-valued fields of a mapping.
func (as *setterApplier) lists(m *yaml.Node, path string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, value := m.Content[i], m.Content[i+1]
		if value.Kind != yaml.SequenceNode {
			continue
		}
		comment := key.LineComment
		if value.Style == yaml.FlowStyle {
			comment = value.LineComment
		}
		pattern := setterPattern(comment)
		if pattern == "" || !as.wanted(pattern) {
			continue
		}
		refs := setterRef.FindAllString(pattern, -1)
		if len(refs) != 1 || !strings.HasPrefix(pattern, "${") || !strings.HasSuffix(pattern, "}") {
			return fmt.Errorf("invalid setter pattern for array node: %q", pattern)
		}
		name := cleanSetter(pattern)
		var v string
		for _, s := range as.setters {
			if s.name == name {
				v = s.value
				break
			}
		}
		fieldPath := strings.TrimPrefix(path+"."+key.Value, ".")
		if v == "" {
			value.Content = []*yaml.Node{}
			value.Style = yaml.FlowStyle
			value.LineComment = comment
			key.LineComment = ""
		} else {
			list, err := yaml.Parse(v)
			if err != nil || list.YNode().Kind != yaml.SequenceNode {
				return &ConfigError{Function: "apply-setters", Field: "data." + name,
					Reason: fmt.Sprintf("input to array setter must be an array of values, but found %q", v)}
			}
			value.Content = list.YNode().Content
			key.LineComment = comment
			value.Style = yaml.FoldedStyle
		}
		as.results = append(as.results, as.result(fieldPath, v))
	}
	return nil
}

// scalar sets a scalar field from its pattern.
func (as *setterApplier) scalar(n *yaml.Node, path string) error {
	pattern := setterPattern(n.LineComment)
	if pattern == "" || !as.wanted(pattern) {
		return nil
	}
	out := pattern
	for _, s := range as.setters {
		out = strings.ReplaceAll(out, "${"+s.name+"}", s.value)
	}
	current := currentSetterValues(pattern, n.Value)
	for _, name := range sortedKeys(current) {
		out = strings.ReplaceAll(out, "${"+name+"}", current[name])
	}
	if missing := setterRef.FindAllString(out, -1); len(missing) > 0 {
		return &ConfigError{Function: "apply-setters", Field: "data." + cleanSetter(missing[0]),
			Reason: fmt.Sprintf("values for setters %v must be provided", missing)}
	}
	n.Value = out
	if out == "" {
		n.Style = yaml.DoubleQuotedStyle
	}
	n.Tag = yaml.NodeTagEmpty
	as.results = append(as.results, as.result(strings.TrimPrefix(path, "."), out))
	return nil
}

func (as *setterApplier) result(fieldPath, value string) *framework.Result {
	return unratedResult(fmt.Sprintf("set field value to %q", value),
		&framework.Field{Path: fieldPath}, &framework.File{Path: as.filePath})
}

// wanted reports a pattern naming at least one given setter.
func (as *setterApplier) wanted(pattern string) bool {
	for _, s := range as.setters {
		if strings.Contains(pattern, "${"+s.name+"}") {
			return true
		}
	}
	return false
}

// setterPattern is the pattern of a "# kpt-set: " line comment, or "".
func setterPattern(comment string) string {
	p, ok := strings.CutPrefix(comment, setterComment)
	if !ok {
		return ""
	}
	return strings.TrimSpace(p)
}

// currentSetterValues reads the setters of pattern back from value, e.g.
// "${image}:${tag}" and "nginx:1.2" give image=nginx, tag=1.2. It gives
// nothing when value does not fit or a setter would be empty.
func currentSetterValues(pattern, value string) map[string]string {
	refs := setterRef.FindAllString(pattern, -1)
	expr := regexp.QuoteMeta(pattern)
	for _, ref := range refs {
		expr = strings.ReplaceAll(expr, regexp.QuoteMeta(ref), `(?P<x>.*)`)
	}
	out := map[string]string{}
	re, err := regexp.Compile(expr)
	if err != nil {
		return out
	}
	values := re.FindStringSubmatch(value)
	if len(values) == 0 || len(values)-1 != len(refs) {
		return out
	}
	for i, v := range values[1:] {
		if v == "" {
			return map[string]string{}
		}
		out[cleanSetter(refs[i])] = v
	}
	return out
}

// cleanSetter is the name inside "${name}".
func cleanSetter(ref string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(ref), "${"), "}")
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
