package catalog

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SetImage replaces the name, tag or digest of container images named
// config.name, in every containers and initContainers list.
func SetImage(rl *framework.ResourceList) error {
	cfg, err := imageConfig(rl)
	if err != nil {
		return err
	}
	if cfg["name"] == "" {
		return framework.Results{{Severity: framework.Error, Message: "functionConfig must set the image name"}}
	}
	for _, n := range rl.Items {
		if err := visitContainers(n, func(c *yaml.RNode) error {
			f := c.Field("image")
			if f == nil {
				return nil
			}
			name, tag, digest := splitImage(yaml.GetValue(f.Value))
			if name != cfg["name"] {
				return nil
			}
			if cfg["newName"] != "" {
				name = cfg["newName"]
			}
			switch {
			case cfg["digest"] != "":
				tag, digest = "", cfg["digest"]
			case cfg["newTag"] != "":
				tag, digest = cfg["newTag"], ""
			}
			image := name
			if tag != "" {
				image += ":" + tag
			}
			if digest != "" {
				image += "@" + digest
			}
			return c.PipeE(yaml.SetField("image", yaml.NewStringRNode(image)))
		}); err != nil {
			return err
		}
	}
	return nil
}

func imageConfig(rl *framework.ResourceList) (map[string]string, error) {
	if rl.FunctionConfig != nil && rl.FunctionConfig.GetKind() == "SetImage" {
		img := rl.FunctionConfig.Field("image")
		if img == nil {
			return map[string]string{}, nil
		}
		out := map[string]string{}
		err := img.Value.VisitFields(func(n *yaml.MapNode) error {
			out[n.Key.YNode().Value] = n.Value.YNode().Value
			return nil
		})
		return out, err
	}
	return configData(rl, "image")
}

// splitImage splits name[:tag][@digest].
func splitImage(s string) (name, tag, digest string) {
	if i := strings.Index(s, "@"); i >= 0 {
		s, digest = s[:i], s[i+1:]
	}
	slash := strings.LastIndex(s, "/")
	if i := strings.LastIndex(s, ":"); i > slash {
		s, tag = s[:i], s[i+1:]
	}
	return s, tag, digest
}

// visitContainers calls fn for each container of a pod spec anywhere in n.
func visitContainers(n *yaml.RNode, fn func(*yaml.RNode) error) error {
	var walk func(*yaml.RNode) error
	walk = func(node *yaml.RNode) error {
		switch node.YNode().Kind {
		case yaml.MappingNode:
			return node.VisitFields(func(f *yaml.MapNode) error {
				key := f.Key.YNode().Value
				if (key == "containers" || key == "initContainers") && f.Value.YNode().Kind == yaml.SequenceNode {
					return f.Value.VisitElements(fn)
				}
				return walk(f.Value)
			})
		case yaml.SequenceNode:
			return node.VisitElements(walk)
		}
		return nil
	}
	return walk(n)
}
