package catalog

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/filters/fsslice"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/comments"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/order"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SetImage behaves like the catalog's set-image (the Go SDK version that
// the catalog's examples run). The functionConfig is a ConfigMap whose data
// has name, newName, newTag and digest, or a fn.kpt.dev/v1alpha1 SetImage
// with image {name, newName, newTag, digest} and additionalImageFields
// (kustomize field specs, e.g. {kind: MyKind, path: spec/images[]/image}).
//
// Like the catalog, it rewrites the images named name in the containers of
// Pods (spec.containers) and of Deployments, StatefulSets, ReplicaSets and
// DaemonSets (spec.template.spec.containers); init containers, Jobs,
// CronJobs and PodTemplates are left alone. A digest wins over newTag.
// Then, when additionalImageFields is given, the image fields it names are
// rewritten in every resource with kustomize's image-tag rules of the
// catalog's release, and, as the catalog's JSON round trip does, every
// resource is re-encoded (strings are quoted only where YAML needs it;
// comments and field order are kept, as kpt restores them).
//
// The results are the catalog's: an info "summary: updated a total of N
// image(s)" (additional fields count each match), an error result naming
// a resource whose field cannot be rewritten. A config without name, or
// with none of newName, newTag and digest, or of another kind, or with an
// unknown ConfigMap key, is a *ConfigError with the catalog's two error
// results, and nothing changes.
func SetImage(rl *framework.ResourceList) error {
	cfg, cerr := readSetImageConfig(rl)
	if cerr != nil {
		return cerr
	}
	img := cfg.Image
	matches := imageMatcher(img.Name)
	count := 0
	for _, n := range rl.Items {
		var pod *subObject
		spec := newKubeObject(n).root().getMap("spec")
		switch n.GetKind() {
		case "Pod":
			pod = spec
		case "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "PodTemplate":
			if spec != nil {
				if template := spec.getMap("template"); template != nil {
					pod = template.getMap("spec")
				}
			}
		}
		if pod == nil {
			continue
		}
		for _, c := range pod.getSlice("containers") {
			old, _ := scalarField(c.node, "image")
			if !matches(old) {
				continue
			}
			if updated := newImage(old, img); updated != old {
				c.setNestedString(updated, "image")
				count++
			}
		}
	}
	if cfg.AdditionalImageFields != nil {
		legacyMatches := legacyImageMatcher(cfg.kustomizeImage.Name)
		for i, n := range rl.Items {
			updated, err := setAdditionalImages(n, cfg.kustomizeImage, legacyMatches, cfg.AdditionalImageFields, &count)
			if err != nil {
				rl.Results = append(rl.Results, objectResult(framework.Error, err.Error(), n))
				continue
			}
			rl.Items[i] = updated
		}
	}
	rl.Results = append(rl.Results, infoResult(fmt.Sprintf("summary: updated a total of %v image(s)", count)))
	return nil
}

// imageSpec is the catalog's image config.
type imageSpec struct {
	Name    string `json:"name,omitempty"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// setImageConfig is the catalog's SetImage config, decoded.
type setImageConfig struct {
	Image                 imageSpec         `json:"image,omitempty"`
	Data                  map[string]string `json:"data,omitempty"`
	AdditionalImageFields types.FsSlice     `json:"additionalImageFields,omitempty"`
	// kustomizeImage is the config's image field as the additional fields
	// use it (not overridden by data).
	kustomizeImage imageSpec
}

// readSetImageConfig reads the functionConfig as the catalog's SDK does and
// validates it; a rejection records the catalog's results.
func readSetImageConfig(rl *framework.ResourceList) (*setImageConfig, error) {
	const fnName = "set-image"
	fc := rl.FunctionConfig
	die := func(field, msg string, obj *yaml.RNode) error {
		terminated := "function is terminated: " + msg
		first := errorResult(msg)
		if obj != nil {
			first = objectResult(framework.Error, msg, obj)
			terminated = fmt.Sprintf("function is terminated by Resource(apiVersion=%v, kind=%v, namespace=%v, name=%v): %v",
				obj.GetApiVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName(), msg)
		}
		return reject(rl, &ConfigError{Function: fnName, Field: field, Reason: msg}, first, errorResult(terminated))
	}
	cfg := &setImageConfig{}
	ko := (*kubeObject)(nil)
	if fc != nil {
		ko = newKubeObject(fc)
	}
	switch {
	case fc == nil || fc.YNode().Kind != yaml.MappingNode || len(fc.YNode().Content) == 0:
		rl.Results = append(rl.Results, infoResult("`FunctionConfig` is not given"))
	case ko.isGVK("", "v1", "ConfigMap"):
		if d := fc.Field("data"); d != nil && d.Value.YNode().Kind == yaml.MappingNode {
			cfg.Data = scalarMap(d.Value.YNode())
		}
	case ko.isGVK("fn.kpt.dev", "v1alpha1", "SetImage"):
		j, err := fc.MarshalJSON()
		if err == nil {
			err = json.Unmarshal(j, cfg)
		}
		if err != nil {
			return nil, die("image", fmt.Sprintf("unable to convert object to *transformer.SetImage with error: %v", err), fc)
		}
		cfg.kustomizeImage = cfg.Image
	default:
		return nil, die("kind", fmt.Sprintf("unknown FunctionConfig `%v`, expect SetImage", fc.GetKind()), fc)
	}
	keys := make([]string, 0, len(cfg.Data))
	for k := range cfg.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := cfg.Data[k]
		switch k {
		case "name":
			cfg.Image.Name = v
		case "newName":
			cfg.Image.NewName = v
		case "newTag":
			cfg.Image.NewTag = v
		case "digest":
			cfg.Image.Digest = v
		default:
			return nil, die("data."+k, fmt.Sprintf("ConfigMap has wrong field name %v", k), nil)
		}
	}
	if cfg.Image.Name == "" {
		return nil, die("image.name", "must specify `name`", nil)
	}
	if cfg.Image.NewName == "" && cfg.Image.NewTag == "" && cfg.Image.Digest == "" {
		return nil, die("image.newName", "must specify one of `newName`, `newTag`, or `digest`", nil)
	}
	return cfg, nil
}

// imageMatcher matches the images of that name, with any tag and a sha256
// digest, as the catalog's container pass matches them.
func imageMatcher(name string) func(image string) bool {
	return regexpMatcher("^" + name + "(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$")
}

// regexpMatcher matches expr, or nothing when expr does not compile.
func regexpMatcher(expr string) func(string) bool {
	re, err := regexp.Compile(expr)
	if err != nil {
		return func(string) bool { return false }
	}
	return re.MatchString
}

// splitImage splits [host[:port]/]path[:tag][@digest]; a colon before the
// first slash is a port.
func splitImage(image string) (name, tag, digest string) {
	search, offset := image, 0
	if slash := strings.Index(image, "/"); slash > 0 {
		search, offset = image[slash:], slash
	}
	at, colon := strings.Index(search, "@"), strings.Index(search, ":")
	switch {
	case colon < 0 && at < 0:
		return image, "", ""
	case at >= 0 && (at < colon || colon < 0):
		return image[:at+offset], "", image[at+offset+1:]
	case at >= 0:
		return image[:colon+offset], image[colon+offset+1 : at+offset], image[at+offset+1:]
	default:
		return image[:colon+offset], image[colon+offset+1:], ""
	}
}

// newImage is the catalog's container-pass rewrite. As in the catalog, an
// image with a digest and no tag that only gets a new name keeps its
// digest without the "@".
func newImage(old string, img imageSpec) string {
	name, tag, digest := splitImage(old)
	if tag != "" {
		tag = ":" + tag
	}
	if img.NewName != "" {
		name = img.NewName
	}
	if img.NewTag != "" {
		tag = ":" + img.NewTag
	}
	if img.Digest != "" {
		tag = "@" + img.Digest
	}
	if tag == "" {
		return name + digest
	}
	return name + tag
}

// setAdditionalImages applies the additional image fields to a copy of n
// as the catalog does (through JSON, then comments and field order put
// back as kpt does), counting every matching field.
func setAdditionalImages(n *yaml.RNode, img imageSpec, matches func(string) bool, fields types.FsSlice, count *int) (*yaml.RNode, error) {
	j, err := n.MarshalJSON()
	if err != nil {
		return nil, err
	}
	work, err := yaml.ConvertJSONToYamlNode(string(j))
	if err != nil {
		return nil, err
	}
	if work.GetKind() != "CustomResourceDefinition" {
		err := work.PipeE(fsslice.Filter{FsSlice: fields, SetValue: func(rn *yaml.RNode) error {
			if err := yaml.ErrorIfInvalid(rn, yaml.ScalarNode); err != nil {
				return err
			}
			value := rn.YNode().Value
			if !matches(value) {
				return nil
			}
			name, tag := legacySplitImage(value)
			if img.NewName != "" {
				name = img.NewName
			}
			if img.NewTag != "" {
				tag = ":" + img.NewTag
			}
			if img.Digest != "" {
				tag = "@" + img.Digest
			}
			*count++
			return rn.PipeE(yaml.FieldSetter{StringValue: name + tag})
		}})
		if err != nil {
			return nil, err
		}
	}
	if j, err = work.MarshalJSON(); err != nil {
		return nil, err
	}
	out := &yaml.RNode{}
	if err := out.UnmarshalJSON(j); err != nil {
		return nil, err
	}
	if err := comments.CopyComments(n, out); err != nil {
		return nil, err
	}
	if err := order.SyncOrder(n, out); err != nil {
		return nil, err
	}
	return out, nil
}

// legacyImageMatcher and legacySplitImage are the image rules of the
// kustomize release the catalog's additional fields use: the tag keeps
// its separator, and a digest must come before any tag.
func legacyImageMatcher(name string) func(image string) bool {
	return regexpMatcher("^" + name + "(@sha256)?(:[a-zA-Z0-9_.{}-]*)?$")
}

func legacySplitImage(image string) (name, tag string) {
	colon := -1
	if slash := strings.Index(image, "/"); slash < 0 {
		colon = strings.LastIndex(image, ":")
	} else if last := strings.LastIndex(image[slash:], ":"); last > 0 {
		colon = slash + last
	}
	at := strings.LastIndex(image, "@")
	if colon < 0 && at < 0 {
		return image, ""
	}
	i := colon
	if at > 0 {
		i = at
	}
	return image[:i], image[i:]
}

// objectResult is a result about one resource, as the catalog's SDK
// writes it: the resource and its file.
func objectResult(severity framework.Severity, msg string, n *yaml.RNode) *framework.Result {
	path, index := fileOf(n)
	return &framework.Result{Severity: severity, Message: msg, ResourceRef: resourceRef(n),
		File: &framework.File{Path: path, Index: index}}
}

// fileOf is the file path and index annotations of a resource, as the
// SDK reads them: the index is -1 when there is none.
func fileOf(n *yaml.RNode) (string, int) {
	a := n.GetAnnotations()
	index := -1
	if idx, ok := a[kioutil.IndexAnnotation]; ok && idx != "" {
		index, _ = strconv.Atoi(idx)
	}
	return a[kioutil.PathAnnotation], index
}
