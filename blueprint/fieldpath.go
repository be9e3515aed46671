package blueprint

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// pathSeg is one step of a field path inside a resource: a map key, a
// list index, or (in a policy's field pattern) every element of a list.
type pathSeg struct {
	key      string
	index    int
	isIndex  bool
	wildcard bool
}

// parseFieldPath parses a field path as violations and policies write it:
// dot-separated keys, "[n]" list indexes, "[*]" for every element, and
// "['key']" for keys holding dots or slashes
// ("metadata.annotations['kpt.dev/injected-resource']").
func parseFieldPath(p string) ([]pathSeg, error) {
	var segs []pathSeg
	i := 0
	for i < len(p) {
		switch p[i] {
		case '.':
			i++
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("field path %q: unclosed [", p)
			}
			inner := p[i+1 : i+end]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				// A quoted key may hold ']', so look for the closing quote.
				q := inner[0]
				closeQ := strings.IndexByte(p[i+2:], q)
				if closeQ < 0 || i+2+closeQ+1 >= len(p) || p[i+2+closeQ+1] != ']' {
					return nil, fmt.Errorf("field path %q: bad quoted key", p)
				}
				segs = append(segs, pathSeg{key: p[i+2 : i+2+closeQ]})
				i = i + 2 + closeQ + 2
				continue
			}
			switch {
			case inner == "*":
				segs = append(segs, pathSeg{wildcard: true})
			default:
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("field path %q: bad index %q", p, inner)
				}
				segs = append(segs, pathSeg{index: n, isIndex: true})
			}
			i += end + 1
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			segs = append(segs, pathSeg{key: p[i:j]})
			i = j
		}
	}
	return segs, nil
}

// plainKey reports whether a key can be written without brackets.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// formatFieldPath writes segs in parseFieldPath's syntax.
func formatFieldPath(segs []pathSeg) string {
	var b strings.Builder
	for _, s := range segs {
		switch {
		case s.wildcard:
			b.WriteString("[*]")
		case s.isIndex:
			fmt.Fprintf(&b, "[%d]", s.index)
		case plainKey(s.key):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		default:
			fmt.Fprintf(&b, "['%s']", s.key)
		}
	}
	return b.String()
}

// fieldMatch is one concrete place a field pattern names in an object.
type fieldMatch struct {
	segs    []pathSeg
	value   any
	present bool
}

// expandField resolves a pattern against obj (a resource as a map):
// wildcards become every index of the list there, and a path whose last
// steps are missing yields one match that is not present. A wildcard over
// a missing or empty list yields nothing.
func expandField(obj any, segs []pathSeg) []fieldMatch {
	var out []fieldMatch
	var walk func(cur any, present bool, done []pathSeg, rest []pathSeg)
	walk = func(cur any, present bool, done []pathSeg, rest []pathSeg) {
		if len(rest) == 0 {
			out = append(out, fieldMatch{segs: append([]pathSeg(nil), done...), value: cur, present: present})
			return
		}
		s := rest[0]
		next := append(append([]pathSeg(nil), done...), s)
		switch {
		case s.wildcard:
			list, _ := cur.([]any)
			for i, el := range list {
				walk(el, true, append(append([]pathSeg(nil), done...), pathSeg{index: i, isIndex: true}), rest[1:])
			}
		case s.isIndex:
			list, _ := cur.([]any)
			if present && s.index < len(list) {
				walk(list[s.index], true, next, rest[1:])
			} else {
				walk(nil, false, next, rest[1:])
			}
		default:
			m, _ := cur.(map[string]any)
			v, ok := m[s.key]
			walk(v, present && ok, next, rest[1:])
		}
	}
	walk(obj, true, nil, segs)
	return out
}

// nodeAt returns the node at segs under n, or the deepest existing
// ancestor when the path is incomplete (so a missing key is located at
// its parent), with whether the whole path exists.
func nodeAt(n *yaml.Node, segs []pathSeg) (*yaml.Node, bool) {
	cur := n
	for _, s := range segs {
		for cur.Kind == yaml.DocumentNode && len(cur.Content) > 0 {
			cur = cur.Content[0]
		}
		switch {
		case s.isIndex:
			if cur.Kind != yaml.SequenceNode || s.index >= len(cur.Content) {
				return cur, false
			}
			cur = cur.Content[s.index]
		default:
			if cur.Kind != yaml.MappingNode {
				return cur, false
			}
			var found *yaml.Node
			for i := 0; i+1 < len(cur.Content); i += 2 {
				if cur.Content[i].Value == s.key {
					found = cur.Content[i+1]
					break
				}
			}
			if found == nil {
				return cur, false
			}
			cur = found
		}
	}
	return cur, true
}

// smdPath converts a structured-merge-diff field path (as the OpenAPI
// validator reports it: `.spec.containers[name="app"].image`, `[0]`,
// `[="x"]`) into path segments, resolving key selectors to list indexes
// against n.
func smdPath(n *yaml.Node, p string) []pathSeg {
	var segs []pathSeg
	cur := n
	for cur != nil && cur.Kind == yaml.DocumentNode && len(cur.Content) > 0 {
		cur = cur.Content[0]
	}
	i := 0
	for i < len(p) {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			segs = append(segs, pathSeg{key: p[i+1 : j]})
			cur, _ = step(cur, segs[len(segs)-1])
			i = j
		case '[':
			end := closingBracket(p, i)
			inner := p[i+1 : end]
			idx := -1
			if k, err := strconv.Atoi(inner); err == nil {
				idx = k
			} else if cur != nil && cur.Kind == yaml.SequenceNode {
				idx = selectElement(cur, inner)
			}
			if idx < 0 {
				return segs
			}
			segs = append(segs, pathSeg{index: idx, isIndex: true})
			cur, _ = step(cur, segs[len(segs)-1])
			i = end + 1
		default:
			return segs
		}
	}
	return segs
}

// closingBracket finds the ']' closing the '[' at i, skipping quoted text.
func closingBracket(p string, i int) int {
	inQuote := false
	for j := i + 1; j < len(p); j++ {
		switch {
		case p[j] == '\\' && inQuote:
			j++
		case p[j] == '"':
			inQuote = !inQuote
		case p[j] == ']' && !inQuote:
			return j
		}
	}
	return len(p) - 1
}

// step moves one segment down from n.
func step(n *yaml.Node, s pathSeg) (*yaml.Node, bool) {
	if n == nil {
		return nil, false
	}
	got, ok := nodeAt(n, []pathSeg{s})
	if !ok {
		return nil, false
	}
	return got, true
}

// selectElement finds the list element matching a key selector such as
// `name="app",protocol="TCP"` or a set value `="x"`.
func selectElement(seq *yaml.Node, sel string) int {
	if strings.HasPrefix(sel, "=") {
		var want any
		if json.Unmarshal([]byte(sel[1:]), &want) != nil {
			return -1
		}
		for i, el := range seq.Content {
			if fmt.Sprint(want) == el.Value {
				return i
			}
		}
		return -1
	}
	want := map[string]string{}
	for _, kv := range splitSelector(sel) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return -1
		}
		var val any
		if json.Unmarshal([]byte(v), &val) != nil {
			return -1
		}
		want[k] = fmt.Sprint(val)
	}
	// An exact match first; then one where the keys the element lacks are
	// defaulted by the schema (a port's protocol).
	for _, lenient := range []bool{false, true} {
		for i, el := range seq.Content {
			match := el.Kind == yaml.MappingNode
			for k, v := range want {
				got, ok := nodeAt(el, []pathSeg{{key: k}})
				if !ok && lenient {
					continue
				}
				if !ok || got.Value != v {
					match = false
					break
				}
			}
			if match {
				return i
			}
		}
	}
	return -1
}

// splitSelector splits `a="x,y",b=1` at the commas outside quotes.
func splitSelector(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inQuote:
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case s[i] == ',' && !inQuote:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// nodeValue decodes a YAML node into a Go value (nil when it does not
// decode).
func nodeValue(n *yaml.Node) any {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil
	}
	return v
}
