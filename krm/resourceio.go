//lint:file-ignore SA1019 kyaml and functions written for kpt v1 still read and write the legacy path, index and id annotations, so Render sets and clears them too

package krm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// packagePathAnnotation names the package a resource belongs to while a
// package tree renders ("/" for the root, "/db" for subpackage db, as in
// Porch); path annotations are relative to that package, as in kpt.
const packagePathAnnotation = "internal.config.kubernetes.io/package-path"

// resourceIDAnnotation identifies resources across a step with selectors,
// as kpt's kpt-resource-id does, so the outputs merge back in place.
const resourceIDAnnotation = "internal.config.kubernetes.io/kpt-resource-id"

// migrationIDAnnotation is the id kyaml's pipeline sets while it reconciles
// legacy and current annotations; cleared like the other reader
// annotations should a function leave it behind.
const migrationIDAnnotation = "internal.config.kubernetes.io/annotations-migration-resource-id"

// readerAnnotations are the annotations Render sets for the functions and
// removes before writing a file back.
var readerAnnotations = map[string]bool{
	kioutil.PathAnnotation: true, kioutil.LegacyPathAnnotation: true,
	kioutil.IndexAnnotation: true, kioutil.LegacyIndexAnnotation: true,
	kioutil.IdAnnotation: true, kioutil.LegacyIdAnnotation: true,
	kioutil.SeqIndentAnnotation: true, packagePathAnnotation: true,
	resourceIDAnnotation: true, migrationIDAnnotation: true,
}

// documentSeparator is a line starting with --- (what kyaml's reader
// splits on).
var documentSeparator = regexp.MustCompile(`\n---.*\n`)

// splitDocuments splits a YAML stream at its document separators, which
// may carry a comment but nothing else, as kyaml's reader does.
func splitDocuments(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var docs []string
	prev := 0
	for _, loc := range documentSeparator.FindAllStringIndex(s, -1) {
		if rest := strings.TrimSpace(s[loc[0]+4 : loc[1]]); rest != "" && rest[0] != '#' {
			return nil, fmt.Errorf("invalid document separator: %s", strings.TrimSpace(s[loc[0]:loc[1]]))
		}
		docs = append(docs, s[prev:loc[0]]+"\n")
		prev = loc[1]
	}
	return append(docs, s[prev:]), nil
}

// readResources parses one resource file the way kpt's package reader does
// (kyaml's reader with PreserveSeqIndent, WrapBareSeqNode and unwrapping
// disabled, so a List or ResourceList stays one resource): one node per
// non-empty document, annotated with its package-relative path, index,
// sequence indentation and package. An empty or comment-only file has no
// resources.
func readResources(pkgDir, file, content string) ([]*yaml.RNode, error) {
	rel := strings.TrimPrefix(strings.TrimPrefix(file, pkgDir), "/")
	docs, err := splitDocuments(strings.ReplaceAll(content, "\r\n", "\n"))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadInput, file, err)
	}
	var out []*yaml.RNode
	for i, doc := range docs {
		node := &yaml.Node{}
		if err := yaml.NewDecoder(strings.NewReader(doc)).Decode(node); err == io.EOF {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("%w: %s: document %d: %v", ErrBadInput, file, i+1, err)
		}
		if yaml.IsYNodeEmptyDoc(node) {
			continue
		}
		rn := yaml.NewRNode(node)
		if yaml.IsMissingOrNull(rn) {
			continue
		}
		if len(node.Content) > 0 && node.Content[0].Kind == yaml.SequenceNode {
			rn = yaml.NewRNode(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Value: yaml.BareSeqNodeWrappingKey}, node.Content[0]}})
		}
		if rn.YNode().Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%w: %s: document %d is a %s, not a resource", ErrBadInput, file, i+1, kindName(rn.YNode().Kind))
		}
		index := strconv.Itoa(len(out))
		setAnnotations(rn,
			kioutil.LegacyIndexAnnotation, index,
			kioutil.LegacyPathAnnotation, rel,
			kioutil.IndexAnnotation, index,
			packagePathAnnotation, "/"+pkgDir,
			kioutil.PathAnnotation, rel,
			kioutil.SeqIndentAnnotation, yaml.DeriveSeqIndentStyle(doc))
		out = append(out, rn)
	}
	return out, nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.ScalarNode:
		return "scalar"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.AliasNode:
		return "alias"
	}
	return "node"
}

// field returns the value under key in mapping m, or nil.
func field(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// annotationsNode returns n's metadata.annotations mapping, creating the
// missing parts when create is set (nil otherwise, or when a part is not a
// mapping).
func annotationsNode(n *yaml.RNode, create bool) *yaml.Node {
	m := n.YNode()
	meta := field(m, yaml.MetadataField)
	if meta == nil {
		if !create || m.Kind != yaml.MappingNode {
			return nil
		}
		meta = &yaml.Node{Kind: yaml.MappingNode}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: yaml.MetadataField}, meta)
	}
	annotations := field(meta, yaml.AnnotationsField)
	if annotations == nil {
		if !create || meta.Kind != yaml.MappingNode {
			return nil
		}
		annotations = &yaml.Node{Kind: yaml.MappingNode}
		meta.Content = append(meta.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: yaml.AnnotationsField}, annotations)
	}
	if annotations.Kind != yaml.MappingNode {
		return nil
	}
	return annotations
}

// lookup returns the value of key in a resource's annotations mapping a
// (from annotationsNode), reading the node tree directly:
// RNode.GetAnnotations builds a map per call.
func lookup(a *yaml.Node, key string) (string, bool) {
	v := field(a, key)
	if v == nil {
		return "", false
	}
	return v.Value, true
}

// annotation returns the value of annotation key on n.
func annotation(n *yaml.RNode, key string) (string, bool) {
	return lookup(annotationsNode(n, false), key)
}

// setAnnotations sets key/value pairs as annotations on the mapping n,
// quoted like kyaml's SetAnnotation writes them; an existing value keeps
// its style.
func setAnnotations(n *yaml.RNode, kv ...string) {
	if a := annotationsNode(n, true); a != nil {
		setIn(a, kv...)
	}
}

// setIn sets key/value pairs in the annotations mapping a.
func setIn(a *yaml.Node, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if v := field(a, kv[i]); v != nil {
			v.Kind, v.Tag, v.Value, v.Content = yaml.ScalarNode, yaml.NodeTagString, kv[i+1], nil
			continue
		}
		a.Content = append(a.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: kv[i]},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: kv[i+1], Style: yaml.SingleQuotedStyle})
	}
}

// clearAnnotations removes the annotations for which drop is true, then an
// annotations mapping and a metadata mapping left empty, as kyaml's writer
// does.
func clearAnnotations(n *yaml.RNode, drop map[string]bool) {
	m := n.YNode()
	meta := field(m, yaml.MetadataField)
	a := annotationsNode(n, false)
	if a == nil {
		return
	}
	kept := a.Content[:0]
	for i := 0; i+1 < len(a.Content); i += 2 {
		if !drop[a.Content[i].Value] {
			kept = append(kept, a.Content[i], a.Content[i+1])
		}
	}
	a.Content = kept
	if len(a.Content) == 0 {
		removeField(meta, yaml.AnnotationsField)
		if len(meta.Content) == 0 {
			removeField(m, yaml.MetadataField)
		}
	}
}

func removeField(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// appendTop appends the canonical encoding of a resource's top mapping m
// (see appendNode), leaving out the annotations Render itself sets and the
// annotations and metadata mappings they alone fill, so a resource encodes
// the same while it renders as it did when read: equal encodings before and
// after a render mean the resource is unchanged. Document-level comments
// are left out too, as an exec'd function's output has no document node.
func appendTop(b []byte, m *yaml.Node) []byte {
	if m.Kind != yaml.MappingNode {
		return appendNode(b, m)
	}
	b = appendNodeHeader(b, m)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == yaml.MetadataField && v.Kind == yaml.MappingNode {
			b = appendMetadata(b, k, v)
			continue
		}
		b = appendNode(appendNode(b, k), v)
	}
	return append(b, 2)
}

func appendMetadata(b []byte, key, meta *yaml.Node) []byte {
	var fields [][2]*yaml.Node
	for i := 0; i+1 < len(meta.Content); i += 2 {
		k, v := meta.Content[i], meta.Content[i+1]
		if k.Value == yaml.AnnotationsField && v.Kind == yaml.MappingNode && ownAnnotations(v) == 0 {
			continue
		}
		fields = append(fields, [2]*yaml.Node{k, v})
	}
	if len(fields) == 0 {
		return b
	}
	b = appendNode(b, key)
	b = appendNodeHeader(b, meta)
	for _, f := range fields {
		b = appendNode(b, f[0])
		if f[0].Value != yaml.AnnotationsField || f[1].Kind != yaml.MappingNode {
			b = appendNode(b, f[1])
			continue
		}
		b = appendNodeHeader(b, f[1])
		for i := 0; i+1 < len(f[1].Content); i += 2 {
			if !readerAnnotations[f[1].Content[i].Value] {
				b = appendNode(appendNode(b, f[1].Content[i]), f[1].Content[i+1])
			}
		}
		b = append(b, 2)
	}
	return append(b, 2)
}

// ownAnnotations counts the annotations that are not Render's own.
func ownAnnotations(a *yaml.Node) int {
	n := 0
	for i := 0; i+1 < len(a.Content); i += 2 {
		if !readerAnnotations[a.Content[i].Value] {
			n++
		}
	}
	return n
}

// errBadIndex is an index annotation that is not a number.
var errBadIndex = errors.New("index annotation is not a number")

// orderFile puts a file's resources in index order, as kyaml's package
// writer does: a resource without an index is numbered from the file's
// highest index on, in list order, and equal indexes keep list order.
func orderFile(nodes []*yaml.RNode) ([]*yaml.RNode, error) {
	idx := make([]int, len(nodes))
	have := make([]bool, len(nodes))
	next := 0
	for i, n := range nodes {
		v, ok := fileIndex(annotationsNode(n, false))
		if !ok {
			continue
		}
		x, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %q", errBadIndex, v)
		}
		idx[i], have[i] = x, true
		next = max(next, x)
	}
	for i := range nodes {
		if !have[i] {
			idx[i] = next
			next++
		}
	}
	order := make([]int, len(nodes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return idx[order[a]] < idx[order[b]] })
	out := make([]*yaml.RNode, len(nodes))
	for i, o := range order {
		out[i] = nodes[o]
	}
	return out, nil
}

// encodeFile writes a file's resources as kyaml's package writer does: the
// reader annotations cleared, each document with its own sequence
// indentation, and a .json file holding one resource as JSON. It changes
// the nodes, which Render owns and drops afterwards.
func encodeFile(p string, nodes []*yaml.RNode) (string, error) {
	seqIndent := make([]string, len(nodes))
	for i, n := range nodes {
		seqIndent[i], _ = annotation(n, kioutil.SeqIndentAnnotation)
		clearAnnotations(n, readerAnnotations)
	}
	var buf bytes.Buffer
	if len(nodes) == 1 && matchesAny(kio.JSONMatch, path.Base(p)) {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(nodes[0]); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	// One encoder per document: the YAML encoder keeps every event of its
	// lifetime, so a long-lived one costs memory in proportion to the file.
	for i, n := range nodes {
		if i > 0 {
			buf.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&buf)
		if seqIndent[i] == string(yaml.WideSequenceStyle) {
			enc.DefaultSeqIndent()
		}
		doc := n.Document()
		if v := field(n.YNode(), yaml.BareSeqNodeWrappingKey); v != nil && len(n.YNode().Content) == 2 {
			doc = v
		}
		if err := enc.Encode(doc); err != nil {
			return "", err
		}
		if err := enc.Close(); err != nil {
			return "", err
		}
	}
	return buf.String(), nil
}

func matchesAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
