package catalog

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
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
	as := &setterApplier{patterns: map[string]*setterPatternRE{}}
	if rl.FunctionConfig != nil {
		data := rl.FunctionConfig.GetDataMap()
		for _, k := range sortedKeys(data) {
			as.setters = append(as.setters, setter{name: k, ref: "${" + k + "}", value: data[k]})
		}
	}
	// Every change is planned before any is made, so that a failure leaves
	// the resources as they were without copying them.
	for _, n := range rl.Items {
		as.item, as.fileKnown = n, false
		if err := as.walk(n.YNode()); err != nil {
			msg := err.Error()
			if cerr, ok := err.(*ConfigError); ok {
				msg = cerr.Reason
			}
			rl.Results = append(rl.Results, errorResult("failed to apply setters: "+msg))
			return err
		}
	}
	for _, edit := range as.edits {
		edit()
	}
	if len(as.results) == 0 {
		rl.Results = append(rl.Results, unratedResult("no matches for input setter(s)", nil, nil))
		return nil
	}
	rl.Results = append(rl.Results, as.results...)
	return nil
}

// setter is one functionConfig value; ref is its "${name}".
type setter struct{ name, ref, value string }

// setterApplier walks resources as the catalog's apply-setters does,
// planning the changes (edits) and their results.
type setterApplier struct {
	setters []setter
	// item is the resource walked; filePath its path annotation, read when
	// fileKnown.
	item      *yaml.RNode
	filePath  string
	fileKnown bool
	// path is the field path walked, e.g. ".spec.containers[0]".
	path []byte
	// planned holds the planned content of the list fields set so far, which
	// the walk goes into instead of the content they have.
	planned  map[*yaml.Node][]*yaml.Node
	patterns map[string]*setterPatternRE
	edits    []func()
	results  framework.Results
}

func (as *setterApplier) walk(n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := as.walk(c); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		if err := as.lists(n); err != nil {
			return err
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			end := len(as.path)
			as.path = append(append(as.path, '.'), n.Content[i].Value...)
			err := as.walk(n.Content[i+1])
			as.path = as.path[:end]
			if err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		content := n.Content
		if planned, ok := as.planned[n]; ok {
			content = planned
		}
		for i, c := range content {
			end := len(as.path)
			as.path = append(strconv.AppendInt(append(as.path, '['), int64(i), 10), ']')
			err := as.walk(c)
			as.path = as.path[:end]
			if err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		return as.scalar(n)
	}
	return nil
}

// fieldPath is the path walked, without its leading dot, with child
// appended as a field when it is not "".
func (as *setterApplier) fieldPath(child string) string {
	p := string(as.path)
	if child != "" {
		p += "." + child
	}
	return strings.TrimPrefix(p, ".")
}

// lists plans the list-valued fields of a mapping.
func (as *setterApplier) lists(m *yaml.Node) error {
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
		fieldPath := as.fieldPath(key.Value)
		content := []*yaml.Node{}
		if v == "" {
			as.edits = append(as.edits, func() {
				value.Content = content
				value.Style = yaml.FlowStyle
				value.LineComment = comment
				key.LineComment = ""
			})
		} else {
			list, err := yaml.Parse(v)
			if err != nil || list.YNode().Kind != yaml.SequenceNode {
				return &ConfigError{Function: "apply-setters", Field: "data." + name,
					Reason: fmt.Sprintf("input to array setter must be an array of values, but found %q", v)}
			}
			content = list.YNode().Content
			as.edits = append(as.edits, func() {
				value.Content = content
				key.LineComment = comment
				value.Style = yaml.FoldedStyle
			})
		}
		if as.planned == nil {
			as.planned = map[*yaml.Node][]*yaml.Node{}
		}
		as.planned[value] = content
		as.results = append(as.results, as.result(fieldPath, v))
	}
	return nil
}

// scalar plans a scalar field from its pattern.
func (as *setterApplier) scalar(n *yaml.Node) error {
	pattern := setterPattern(n.LineComment)
	if pattern == "" || !as.wanted(pattern) {
		return nil
	}
	out := pattern
	for _, s := range as.setters {
		out = strings.ReplaceAll(out, s.ref, s.value)
	}
	if strings.Contains(out, "${") {
		current := as.currentValues(pattern, n.Value)
		for _, name := range sortedKeys(current) {
			out = strings.ReplaceAll(out, "${"+name+"}", current[name])
		}
		if missing := setterRef.FindAllString(out, -1); len(missing) > 0 {
			return &ConfigError{Function: "apply-setters", Field: "data." + cleanSetter(missing[0]),
				Reason: fmt.Sprintf("values for setters %v must be provided", missing)}
		}
	}
	as.edits = append(as.edits, func() {
		n.Value = out
		if out == "" {
			n.Style = yaml.DoubleQuotedStyle
		}
		n.Tag = yaml.NodeTagEmpty
	})
	as.results = append(as.results, as.result(as.fieldPath(""), out))
	return nil
}

func (as *setterApplier) result(fieldPath, value string) *framework.Result {
	if !as.fileKnown {
		as.filePath, _ = fileAnnotations(as.item)
		as.fileKnown = true
	}
	return unratedResult(fmt.Sprintf("set field value to %q", value),
		&framework.Field{Path: fieldPath}, &framework.File{Path: as.filePath})
}

// wanted reports a pattern naming at least one given setter.
func (as *setterApplier) wanted(pattern string) bool {
	for _, s := range as.setters {
		if strings.Contains(pattern, s.ref) {
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

// setterPatternRE is a setter pattern made a regular expression that
// reads its setters back from a value: refs are its "${name}"s, re is nil
// when the pattern does not compile.
type setterPatternRE struct {
	refs []string
	re   *regexp.Regexp
}

// currentValues reads the setters of pattern back from value, e.g.
// "${image}:${tag}" and "nginx:1.2" give image=nginx, tag=1.2. It gives
// nothing when value does not fit or a setter would be empty.
func (as *setterApplier) currentValues(pattern, value string) map[string]string {
	p, ok := as.patterns[pattern]
	if !ok {
		p = &setterPatternRE{refs: setterRef.FindAllString(pattern, -1)}
		expr := regexp.QuoteMeta(pattern)
		for _, ref := range p.refs {
			expr = strings.ReplaceAll(expr, regexp.QuoteMeta(ref), `(?P<x>.*)`)
		}
		p.re, _ = regexp.Compile(expr)
		as.patterns[pattern] = p
	}
	out := map[string]string{}
	if p.re == nil {
		return out
	}
	values := p.re.FindStringSubmatch(value)
	if len(values) == 0 || len(values)-1 != len(p.refs) {
		return out
	}
	for i, v := range values[1:] {
		if v == "" {
			return map[string]string{}
		}
		out[cleanSetter(p.refs[i])] = v
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
