package catalog

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SearchReplace finds scalar fields and optionally sets their value or
// line comment, as the catalog's search-replace does. Its functionConfig is
// a ConfigMap whose data may hold:
//
//   - by-value: the field's text equals this;
//   - by-value-regex: the field's text matches this Go regular expression
//     (unanchored, as the catalog's code does);
//   - by-path: the field's path matches, as "spec.containers[0].image",
//     with "*" for one element, "**" for any number and "[*]" for any index;
//   - by-file-path: the resource's file (config.kubernetes.io/path)
//     matches this glob ("*", "**", "?", "{a,b}");
//   - put-value: the new value of every matching field (its type is
//     inferred again); ${1}, ${2}... are the regex's capture groups;
//   - put-comment: the new line comment, with the same groups.
//
// All given matchers must match. With neither put-value nor put-comment it
// only searches. Every match is an info result; none is one "no matches"
// result. A by-path without wildcards or indexes, with put-value and no
// value matcher, creates the field on the resources where it is missing,
// as the catalog does.
func SearchReplace(rl *framework.ResourceList) error {
	cfg, err := configData(rl, "data")
	if err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return framework.Results{{Severity: framework.Error, Message: fmt.Sprintf(format, args...)}}
	}
	for k := range cfg {
		switch k {
		case "by-value", "by-value-regex", "by-path", "by-file-path", "put-value", "put-comment":
		default:
			return fail("search-replace: unknown key %q (allowed: by-value, by-value-regex, by-path, by-file-path, put-value, put-comment)", k)
		}
	}
	byValue, hasValue := cfg["by-value"]
	byRegex, hasRegex := cfg["by-value-regex"]
	if hasValue && hasRegex {
		return fail("search-replace: only one of by-value and by-value-regex may be given")
	}
	var re *regexp.Regexp
	if hasRegex {
		if re, err = regexp.Compile(byRegex); err != nil {
			return fail("search-replace: by-value-regex: %v", err)
		}
	}
	var pathPattern []string
	byPath, hasPath := cfg["by-path"]
	if hasPath {
		pathPattern = splitFieldPath(byPath)
	}
	var fileRE *regexp.Regexp
	if glob, ok := cfg["by-file-path"]; ok {
		if fileRE, err = globRegexp(glob); err != nil {
			return fail("search-replace: by-file-path: %v", err)
		}
	}
	putValue, hasPut := cfg["put-value"]
	putComment, hasComment := cfg["put-comment"]

	// expand fills ${n} from the regex match of value.
	expand := func(pattern, value string) (string, error) {
		if re == nil {
			return pattern, nil
		}
		groups := re.FindStringSubmatch(value)
		var bad error
		out := groupRef.ReplaceAllStringFunc(pattern, func(ref string) string {
			n, _ := strconv.Atoi(ref[2 : len(ref)-1])
			if n >= len(groups) {
				bad = fmt.Errorf("search-replace: unable to resolve capture group %s in %q", ref, pattern)
				return ref
			}
			return groups[n]
		})
		return out, bad
	}

	var results framework.Results
	for _, item := range rl.Items {
		if fileRE != nil && !fileRE.MatchString(filePath(item)) {
			continue
		}
		matched := false
		err := walkScalars(item.YNode(), nil, func(path []string, n *yaml.Node) error {
			if hasPath && !matchFieldPath(pathPattern, path) {
				return nil
			}
			if hasValue && n.Value != byValue {
				return nil
			}
			if re != nil && !re.MatchString(n.Value) {
				return nil
			}
			if !hasPath && !hasValue && re == nil {
				return nil
			}
			matched = true
			original := n.Value
			msg := fmt.Sprintf("Matched field value %q", original)
			if hasPut {
				v, err := expand(putValue, original)
				if err != nil {
					return err
				}
				n.Value, n.Tag = v, ""
				msg = fmt.Sprintf("Mutated field value to %q", v)
			}
			if hasComment {
				c, err := expand(putComment, original)
				if err != nil {
					return err
				}
				n.LineComment = "# " + c
				if !hasPut {
					msg = fmt.Sprintf("Mutated field comment to %q", c)
				}
			}
			results = append(results, &framework.Result{Severity: framework.Info, Message: msg,
				ResourceRef: resourceRef(item), Field: &framework.Field{Path: joinFieldPath(path)},
				File: &framework.File{Path: filePath(item)}})
			return nil
		})
		if err != nil {
			return fail("%v", err)
		}
		if !matched && hasPath && hasPut && !hasValue && re == nil && plainPath(pathPattern) {
			if err := item.PipeE(yaml.LookupCreate(yaml.ScalarNode, pathPattern...), yaml.FieldSetter{Value: yaml.NewScalarRNode(putValue)}); err != nil {
				return fail("search-replace: %s: %v", byPath, err)
			}
			results = append(results, &framework.Result{Severity: framework.Info, Message: fmt.Sprintf("Mutated field value to %q", putValue),
				ResourceRef: resourceRef(item), Field: &framework.Field{Path: byPath}, File: &framework.File{Path: filePath(item)}})
		}
	}
	if len(results) == 0 {
		results = framework.Results{{Severity: framework.Info, Message: "no matches"}}
	}
	rl.Results = append(rl.Results, results...)
	return nil
}

var groupRef = regexp.MustCompile(`\$\{[0-9]+\}`)

// filePath is the file a resource came from.
func filePath(n *yaml.RNode) string {
	a := n.GetAnnotations()
	if p := a["internal.config.kubernetes.io/path"]; p != "" {
		return p
	}
	return a["config.kubernetes.io/path"]
}

// walkScalars calls fn for every scalar value (never a key) under n, with
// its path: map keys, and "[i]" for list items.
func walkScalars(n *yaml.Node, path []string, fn func([]string, *yaml.Node) error) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := walkScalars(c, path, fn); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := walkScalars(n.Content[i+1], append(path[:len(path):len(path)], n.Content[i].Value), fn); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := walkScalars(c, append(path[:len(path):len(path)], "["+strconv.Itoa(i)+"]"), fn); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		return fn(path, n)
	}
	return nil
}

// splitFieldPath splits "a.b[0].c" into "a", "b", "[0]", "c".
func splitFieldPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, ".") {
		for part != "" {
			i := strings.Index(part, "[")
			switch {
			case i < 0:
				out = append(out, part)
				part = ""
			case i > 0:
				out = append(out, part[:i])
				part = part[i:]
			default:
				j := strings.Index(part, "]")
				if j < 0 {
					out = append(out, part)
					part = ""
					continue
				}
				out = append(out, part[:j+1])
				part = part[j+1:]
			}
		}
	}
	return out
}

func joinFieldPath(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// matchFieldPath matches a path against a pattern of elements, "*" (one
// key), "[*]" (one index) and "**" (any number of elements).
func matchFieldPath(pattern, path []string) bool {
	if len(pattern) == 0 {
		return len(path) == 0
	}
	switch p := pattern[0]; {
	case p == "**":
		for i := 0; i <= len(path); i++ {
			if matchFieldPath(pattern[1:], path[i:]) {
				return true
			}
		}
		return false
	case len(path) == 0:
		return false
	case p == "*":
		return !strings.HasPrefix(path[0], "[") && matchFieldPath(pattern[1:], path[1:])
	case p == "[*]":
		return strings.HasPrefix(path[0], "[") && matchFieldPath(pattern[1:], path[1:])
	default:
		return p == path[0] && matchFieldPath(pattern[1:], path[1:])
	}
}

// plainPath reports a path of map keys only.
func plainPath(pattern []string) bool {
	for _, p := range pattern {
		if p == "*" || p == "**" || strings.HasPrefix(p, "[") {
			return false
		}
	}
	return len(pattern) > 0
}

// globRegexp turns a file glob into an anchored regular expression.
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
