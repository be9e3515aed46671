package catalog

import (
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// setterComment matches "# kpt-set: ${name}" and patterns mixing text and
// setters, e.g. "# kpt-set: ${image}:${tag}".
var setterRef = regexp.MustCompile(`\$\{([^}]+)\}`)

// ApplySetters rewrites every field whose line comment is
// "# kpt-set: <pattern>" with the pattern's setters replaced by the
// functionConfig's values. A list field takes a YAML list value. Fields
// whose setters are not all given are left alone.
func ApplySetters(rl *framework.ResourceList) error {
	values, err := configData(rl, "data")
	if err != nil {
		return err
	}
	var results framework.Results
	for _, n := range rl.Items {
		if err := walkComments(n.YNode(), func(key, value *yaml.Node) error {
			pattern, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(commentOf(key, value), "#")), "kpt-set:")
			if !ok {
				return nil
			}
			pattern = strings.TrimSpace(pattern)
			missing := false
			out := setterRef.ReplaceAllStringFunc(pattern, func(ref string) string {
				v, ok := values[ref[2:len(ref)-1]]
				missing = missing || !ok
				return v
			})
			if missing {
				return nil
			}
			if value.Kind == yaml.SequenceNode {
				list, err := yaml.Parse(out)
				if err != nil || list.YNode().Kind != yaml.SequenceNode {
					results = append(results, &framework.Result{Severity: framework.Error,
						Message: fmt.Sprintf("setter value %q for a list field must be a YAML list", out)})
					return nil
				}
				value.Content = list.YNode().Content
				return nil
			}
			// Like kpt: the new value keeps the field's style; a plain field
			// stays plain, so a number stays a number.
			value.Value = out
			if value.Style == 0 {
				value.Tag = ""
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if len(results) > 0 {
		return results
	}
	return nil
}

func commentOf(key, value *yaml.Node) string {
	if value.LineComment != "" {
		return value.LineComment
	}
	return key.LineComment
}

// walkComments calls fn for each mapping field.
func walkComments(n *yaml.Node, fn func(key, value *yaml.Node) error) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if err := walkComments(c, fn); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := fn(n.Content[i], n.Content[i+1]); err != nil {
				return err
			}
			if err := walkComments(n.Content[i+1], fn); err != nil {
				return err
			}
		}
	}
	return nil
}
