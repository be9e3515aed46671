package blueprint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// packageFile is one parsed YAML file of a package.
type packageFile struct {
	path    string
	nodes   []*kyaml.RNode
	changed bool
}

// parsedFiles holds a package's YAML files, parsed once, written back only
// where something changed so untouched files keep their bytes.
type parsedFiles struct {
	order []string
	byKey map[string]*packageFile
}

func parseFiles(files map[string]string) (*parsedFiles, error) {
	pf := &parsedFiles{byKey: map[string]*packageFile{}}
	for _, path := range sortedKeys(files) {
		if !isYAMLFile(path) {
			continue
		}
		nodes, err := readNodes(files[path])
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBlueprint, path, err)
		}
		pf.order = append(pf.order, path)
		pf.byKey[path] = &packageFile{path: path, nodes: nodes}
	}
	return pf, nil
}

func readNodes(src string) ([]*kyaml.RNode, error) {
	return (&kio.ByteReader{Reader: strings.NewReader(src), OmitReaderAnnotations: true}).Read()
}

// write returns files with the changed YAML files re-encoded.
func (pf *parsedFiles) write(files map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(files))
	for k, v := range files {
		out[k] = v
	}
	for _, path := range pf.order {
		f := pf.byKey[path]
		if !f.changed {
			continue
		}
		if len(f.nodes) == 0 {
			delete(out, path)
			continue
		}
		s, err := encodeNodes(f.nodes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBlueprint, path, err)
		}
		out[path] = s
	}
	return out, nil
}

func encodeNodes(nodes []*kyaml.RNode) (string, error) {
	var buf bytes.Buffer
	if err := (kio.ByteWriter{Writer: &buf}).Write(nodes); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// each calls fn for every resource, in file order.
func (pf *parsedFiles) each(fn func(f *packageFile, n *kyaml.RNode) error) error {
	for _, path := range pf.order {
		f := pf.byKey[path]
		for _, n := range f.nodes {
			if err := fn(f, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// valueNode encodes a normalised value as a YAML node with its type kept:
// an integer is an !!int, a string that looks like a number stays a
// quoted string.
func valueNode(v any) (*kyaml.RNode, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	n, err := kyaml.Parse(string(data))
	if err != nil {
		return nil, err
	}
	clearStyle(n.YNode())
	return n, nil
}

func clearStyle(n *kyaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		clearStyle(c)
	}
}

// splitFieldPath splits a kyaml field path ("spec.containers[name=a.b].image")
// into its elements, keeping dots inside brackets.
func splitFieldPath(path string) ([]string, error) {
	var out []string
	var cur strings.Builder
	depth := 0
	for _, r := range path {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced ] in field path %q", path)
			}
		case r == '.' && depth == 0:
			if cur.Len() == 0 {
				return nil, fmt.Errorf("empty element in field path %q", path)
			}
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced [ in field path %q", path)
	}
	if cur.Len() == 0 {
		return nil, fmt.Errorf("empty element in field path %q", path)
	}
	out = append(out, cur.String())
	// "containers[name=a]" is two kyaml elements: "containers" and "[name=a]".
	var split []string
	for _, e := range out {
		if i := strings.Index(e, "["); i > 0 {
			split = append(split, e[:i])
			e = e[i:]
		}
		for len(e) > 0 && e[0] == '[' {
			j := strings.Index(e, "]")
			split = append(split, e[:j+1])
			e = e[j+1:]
		}
		if e != "" {
			if strings.ContainsAny(e, "[]") {
				return nil, fmt.Errorf("malformed element %q in field path %q", e, path)
			}
			split = append(split, e)
		}
	}
	return split, nil
}

// setPath writes value at the field path of obj, creating missing maps
// and list elements selected by [key=value]; comments of a replaced field
// are kept.
func setPath(obj *kyaml.RNode, path []string, value *kyaml.RNode) error {
	if len(path) == 0 {
		return fmt.Errorf("empty field path")
	}
	last := path[len(path)-1]
	if strings.HasPrefix(last, "[") {
		return fmt.Errorf("field path must end with a field name, not %s", last)
	}
	parentPath := path[:len(path)-1]
	parent := obj
	if len(parentPath) > 0 {
		var err error
		parent, err = obj.Pipe(kyaml.LookupCreate(kyaml.MappingNode, parentPath...))
		if err != nil {
			return err
		}
		if parent == nil {
			return fmt.Errorf("cannot reach %s", strings.Join(parentPath, "."))
		}
	}
	if parent.YNode().Kind != kyaml.MappingNode {
		return fmt.Errorf("%s is not a map", strings.Join(parentPath, "."))
	}
	if old := parent.Field(last); old != nil && old.Value != nil {
		o, n := old.Value.YNode(), value.YNode()
		n.LineComment, n.HeadComment, n.FootComment = o.LineComment, o.HeadComment, o.FootComment
	}
	return parent.PipeE(kyaml.SetField(last, value))
}
