package catalog

import (
	"fmt"
	"regexp"

	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// searchReplaceKeys are the functionConfig keys search-replace takes, in
// the order the catalog lists them.
var searchReplaceKeys = []string{"by-value", "by-file-path", "by-value-regex", "by-path", "put-value", "put-comment"}

// SearchReplace behaves like the catalog's search-replace. Its
// functionConfig's data (any kind with a data map) may hold:
//
//   - by-value: a field's text equals this;
//   - by-value-regex: a field's text matches this Go regular expression
//     (unanchored);
//   - by-path: the field's path matches, e.g. "spec.containers[0].image",
//     with "*" for one element, "**" for any number and "[*]" for any
//     index;
//   - by-file-path: the resource's file matches this glob ("*", "**",
//     "?", "{a,b}", "[...]");
//   - put-value: the new value (its type is inferred again);
//   - put-comment: the new line comment; on a list field it goes on the
//     key. ${1}, ${2}... in either are the regex's capture groups.
//
// An empty value counts as not given. A field matches when its value
// matches and its path does (or no by-path is given), or its path does
// and no value matcher is given. A by-path of plain keys with put-value
// and no value matcher sets (creating it if need be) that field in every
// resource instead. The results are the catalog's, without a
// severity as the catalog writes them:
// one per field ("Mutated field value to ..." or "Matched field value
// ...", the value as YAML with its comment, with the field path and file),
// or "no matches". A rejected config (unknown key, both value matchers, a
// bad regex or glob, a capture group the regex lacks) is a *ConfigError
// with the single error result "failed to perform search-replace
// operation: ..."; nothing changes then.
func SearchReplace(rl *framework.ResourceList) error {
	sr, cerr := newSearchReplace(rl.FunctionConfig)
	if cerr == nil {
		copies := make([]*yaml.RNode, len(rl.Items))
		for i, n := range rl.Items {
			copies[i] = n.Copy()
			if cerr = sr.perform(copies[i]); cerr != nil {
				break
			}
		}
		if cerr == nil {
			copy(rl.Items, copies)
		}
	}
	if cerr != nil {
		return reject(rl, cerr, errorResult(fmt.Sprintf("failed to perform search-replace operation: %q", cerr.Reason)))
	}
	if len(sr.results) == 0 {
		rl.Results = append(rl.Results, unratedResult("no matches", nil, nil))
		return nil
	}
	rl.Results = append(rl.Results, sr.results...)
	return nil
}

// searchReplace is a parsed search-replace config.
type searchReplace struct {
	byValue, byRegex, byPath, putValue, putComment string
	regex                                          *regexp.Regexp
	file                                           *regexp.Regexp
	filePath                                       string
	results                                        framework.Results
}

func newSearchReplace(fc *yaml.RNode) (*searchReplace, *ConfigError) {
	bad := func(field, format string, args ...any) *ConfigError {
		return &ConfigError{Function: "search-replace", Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	data := map[string]string{}
	if fc != nil {
		data = fc.GetDataMap()
	}
	for _, k := range sortedKeys(data) {
		known := false
		for _, m := range searchReplaceKeys {
			known = known || k == m
		}
		if !known {
			return nil, bad("data."+k, "invalid matcher %q, must be one of %q", k, searchReplaceKeys)
		}
	}
	sr := &searchReplace{byValue: data["by-value"], byRegex: data["by-value-regex"], byPath: data["by-path"],
		putValue: data["put-value"], putComment: data["put-comment"]}
	if sr.byValue != "" && sr.byRegex != "" {
		return nil, bad("data.by-value-regex", "only one of [%q, %q] can be provided", "by-value", "by-value-regex")
	}
	if sr.byRegex != "" {
		re, err := regexp.Compile(sr.byRegex)
		if err != nil {
			return nil, bad("data.by-value-regex", "%v", err)
		}
		sr.regex = re
	}
	if glob := data["by-file-path"]; glob != "" {
		re, err := globRegexp(glob)
		if err != nil {
			return nil, bad("data.by-file-path", "syntax error in pattern")
		}
		sr.file = re
	}
	return sr, nil
}

// perform searches (and replaces in) one resource.
func (sr *searchReplace) perform(n *yaml.RNode) *ConfigError {
	filePath, _, _ := kioutil.GetFileAnnotations(n)
	if sr.file != nil && !sr.file.MatchString(filePath) {
		return nil
	}
	sr.filePath = filePath
	if sr.putsByPath() {
		path := strings.Split(sr.byPath, ".")
		parent, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, path[:len(path)-1]...))
		if err == nil && parent.YNode().Kind != yaml.MappingNode {
			err = fmt.Errorf("wrong node kind: expected MappingNode at %s", strings.Join(path[:len(path)-1], "."))
		}
		if err != nil {
			return &ConfigError{Function: "search-replace", Field: "data.by-path", Reason: err.Error()}
		}
		// As the catalog's kyaml sets it: an existing value keeps its style
		// (not its comment), and the value's type is inferred again.
		value := &yaml.Node{Kind: yaml.ScalarNode, Value: sr.putValue}
		if old := mapValue(parent.YNode(), path[len(path)-1]); old != nil {
			value.Style = old.Style
			*old = *value
		} else {
			parent.YNode().Content = append(parent.YNode().Content,
				&yaml.Node{Kind: yaml.ScalarNode, Value: path[len(path)-1]}, value)
		}
		sr.addResult(sr.byPath, sr.putValue)
		return nil
	}
	return sr.walk(n.YNode(), "")
}

// putsByPath reports a by-path of plain keys with put-value and no value
// matcher: the field is set wherever it is, or created.
func (sr *searchReplace) putsByPath() bool {
	if sr.byPath == "" || strings.Contains(sr.byPath, "[") || sr.byValue != "" || sr.byRegex != "" || sr.putValue == "" {
		return false
	}
	for _, e := range strings.Split(sr.byPath, ".") {
		if e == "" || strings.Contains(e, "*") {
			return false
		}
	}
	return true
}

func (sr *searchReplace) walk(n *yaml.Node, path string) *ConfigError {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := sr.walk(c, path); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		if sr.putComment != "" {
			for i := 0; i+1 < len(n.Content); i += 2 {
				key, value := n.Content[i], n.Content[i+1]
				if value.Kind != yaml.SequenceNode || len(value.Content) == 0 {
					continue
				}
				if !sr.pathMatch(strings.TrimPrefix(path+"."+strings.TrimSpace(key.Value), ".")) {
					continue
				}
				key.LineComment = sr.putComment
				value.Style = yaml.FlowStyle
				text, _ := yaml.String(value)
				value.Style = yaml.FoldedStyle
				sr.addResult(sr.byPath+" # "+sr.putComment, strings.TrimSpace(text))
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := sr.walk(n.Content[i+1], path+"."+n.Content[i].Value); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := sr.walk(c, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		return sr.scalar(n, path)
	}
	return nil
}

// scalar matches and replaces one scalar field.
func (sr *searchReplace) scalar(n *yaml.Node, path string) *ConfigError {
	pathMatch := sr.pathMatch(path)
	valueMatch := (sr.byValue != "" && sr.byValue == n.Value) || (sr.regex != nil && sr.regex.MatchString(n.Value))
	if !(valueMatch && (pathMatch || sr.byPath == "")) && !(pathMatch && sr.byValue == "" && sr.byRegex == "") {
		return nil
	}
	if sr.putComment != "" {
		c, err := sr.resolve(n.Value, sr.putComment, "data.put-comment")
		if err != nil {
			return err
		}
		n.LineComment = c
	}
	if sr.putValue != "" {
		v, err := sr.resolve(n.Value, sr.putValue, "data.put-value")
		if err != nil {
			return err
		}
		n.Value, n.Tag = v, yaml.NodeTagEmpty
	}
	if sr.filePath != "" {
		text, _ := yaml.String(n)
		sr.addResult(strings.TrimPrefix(path, "."), strings.TrimSpace(text))
	}
	return nil
}

// resolve fills ${1}, ${2}... of pattern from the regex's groups in value.
func (sr *searchReplace) resolve(value, pattern, field string) (string, *ConfigError) {
	if sr.regex == nil {
		return pattern, nil
	}
	out := pattern
	for i, g := range sr.regex.FindStringSubmatch(value) {
		if i > 0 {
			out = strings.ReplaceAll(out, "${"+strconv.Itoa(i)+"}", g)
		}
	}
	if groupRef.MatchString(out) {
		return "", &ConfigError{Function: "search-replace", Field: field, Reason: "unable to resolve capture groups"}
	}
	return out, nil
}

func (sr *searchReplace) addResult(fieldPath, value string) {
	msg := fmt.Sprintf("Matched field value %q", value)
	if sr.putComment != "" || sr.putValue != "" {
		msg = fmt.Sprintf("Mutated field value to %q", value)
	}
	sr.results = append(sr.results, unratedResult(msg, &framework.Field{Path: fieldPath}, &framework.File{Path: sr.filePath}))
}

var groupRef = regexp.MustCompile(`\$\{[0-9]+\}`)

// pathMatch matches a field path ("a.b[0].c") against by-path, element by
// element: "*" is one element, "**" any number, "name[*]" any index.
func (sr *searchReplace) pathMatch(path string) bool {
	if sr.byPath == "" {
		return false
	}
	return matchFieldPath(strings.Split(sr.byPath, "."), strings.Split(strings.TrimPrefix(path, "."), "."))
}

func matchFieldPath(pattern, path []string) bool {
	if len(pattern) == 0 {
		return len(path) == 0
	}
	if pattern[0] == "**" {
		for i := 0; i <= len(path); i++ {
			if matchFieldPath(pattern[1:], path[i:]) {
				return true
			}
		}
		return false
	}
	if len(path) == 0 || (pattern[0] != "*" && !elementMatch(path[0], pattern[0])) {
		return false
	}
	return matchFieldPath(pattern[1:], path[1:])
}

// elementMatch matches one path element, "name" or "name[i]".
func elementMatch(elem, pattern string) bool {
	if elem == pattern {
		return true
	}
	if !strings.Contains(elem, "[") {
		return false
	}
	e, p := strings.Split(elem, "["), strings.Split(pattern, "[")
	if p[0] != "*" && e[0] != p[0] {
		return false
	}
	return len(p) > 1 && (p[1] == "*]" || e[1] == p[1])
}

// globRegexp turns a file glob (doublestar's syntax, as the catalog
// matches it) into an anchored regular expression.
func globRegexp(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	inBraces := false
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			switch {
			case strings.HasPrefix(glob[i:], "**/"):
				b.WriteString("(?:.*/)?")
				i += 2
			case strings.HasPrefix(glob[i:], "**"):
				b.WriteString(".*")
				i++
			default:
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '{':
			inBraces = true
			b.WriteString("(?:")
		case '}':
			inBraces = false
			b.WriteString(")")
		case '[':
			j := strings.IndexByte(glob[i+1:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed [ in %q", glob)
			}
			class := glob[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") || strings.HasPrefix(class, "^") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		case '\\':
			if i+1 < len(glob) {
				i++
				b.WriteString(regexp.QuoteMeta(string(glob[i])))
			}
		case ',':
			if inBraces {
				b.WriteString("|")
			} else {
				b.WriteString(",")
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
