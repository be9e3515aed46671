package blueprint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// The Parameters kind: a local-config resource a blueprint carries to
// declare its values.
const (
	// ParametersAPIVersion is the declaration's apiVersion.
	ParametersAPIVersion = "blueprint.porchkit.io/v1alpha1"
	// ParametersKind is the declaration's kind.
	ParametersKind = "Parameters"
	// LocalConfigAnnotation marks resources kpt and Porch never apply.
	LocalConfigAnnotation = "config.kubernetes.io/local-config"
)

// Parameters declares a blueprint's values: their JSON Schema (draft
// 2020-12), where each lands (Bindings), per-environment overlays and which
// values the target cluster supplies. In a package it is the spec of a
// blueprint.porchkit.io/v1alpha1 Parameters resource marked local-config:
//
//	apiVersion: blueprint.porchkit.io/v1alpha1
//	kind: Parameters
//	metadata:
//	  name: amf
//	  annotations:
//	    config.kubernetes.io/local-config: "true"
//	spec:
//	  schema: {type: object, properties: {replicas: {type: integer, default: 1}}}
//	  bindings:
//	  - value: replicas
//	    resource: {kind: Deployment, name: amf}
//	    field: spec.replicas
//	  environments:
//	    prod: {replicas: 3}
//	  cluster:
//	    region: region
type Parameters struct {
	// Name is the declaration's metadata.name.
	Name string `json:"-"`
	// File is the package file holding the declaration ("" when it was
	// inferred or built in code).
	File string `json:"-"`
	// Description says what the blueprint makes, for Describe.
	Description string `json:"description,omitempty"`
	// Schema is the JSON Schema of the values, as decoded JSON. Its
	// $schema defaults to draft 2020-12; references outside the document
	// are refused. An object schema listing properties rejects other keys
	// unless it says otherwise (additionalProperties, patternProperties,
	// unevaluatedProperties) or is composed (allOf, anyOf, oneOf, $ref).
	Schema map[string]any `json:"schema,omitempty"`
	// Bindings say where each value is written.
	Bindings []Binding `json:"bindings,omitempty"`
	// Environments are value overlays by environment name (dev, staging,
	// prod, ...), layered over the schema's defaults.
	Environments map[string]Values `json:"environments,omitempty"`
	// Cluster maps value paths to the cluster-context field that supplies
	// them ("region", "zone", "site", "name", "environment",
	// "capabilities", "labels.<key>"). When nil, every top-level schema
	// property named like a cluster field takes it.
	Cluster map[string]string `json:"cluster,omitempty"`
}

// Binding says where one value lands. Exactly one of Resource, Setter and
// Injection is set.
type Binding struct {
	// Value is the value's path in the values, dot-separated
	// ("replicas", "ha.enabled").
	Value string `json:"value"`
	// Resource selects the resources whose Field receives the value.
	Resource *Selector `json:"resource,omitempty"`
	// Field is the field path in the selected resource or injection point,
	// in kyaml's notation ("spec.replicas",
	// "spec.template.spec.containers[name=amf].image"). For an injection
	// point an empty Field means the whole spec (or data).
	Field string `json:"field,omitempty"`
	// Setter names a kpt setter: the value goes to every field whose
	// "# kpt-set:" comment references it, and to apply-setters configs.
	Setter string `json:"setter,omitempty"`
	// Injection selects a config-injection point of the package (a
	// resource annotated kpt.dev/config-injection); the value fills Field
	// of it and the point counts as injected.
	Injection *Selector `json:"injection,omitempty"`
}

func (b Binding) target() string {
	switch {
	case b.Resource != nil:
		return strings.TrimSpace(fmt.Sprintf("%s %s", b.Resource, b.Field))
	case b.Setter != "":
		return "setter " + b.Setter
	case b.Injection != nil:
		return strings.TrimSpace(fmt.Sprintf("injection point %s %s", b.Injection, b.Field))
	}
	return "nothing"
}

// Selector picks resources by apiVersion, kind, name and namespace; an
// empty field matches anything.
type Selector struct {
	// APIVersion is the group/version ("apps/v1").
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind is the resource kind.
	Kind string `json:"kind,omitempty"`
	// Name is metadata.name.
	Name string `json:"name,omitempty"`
	// Namespace is metadata.namespace.
	Namespace string `json:"namespace,omitempty"`
}

// String renders the selector as apiVersion/kind/name, omitting empty parts.
func (s *Selector) String() string {
	parts := []string{}
	for _, p := range []string{s.APIVersion, s.Kind, s.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "any resource"
	}
	return strings.Join(parts, "/")
}

// Matches reports whether the resource matches every set field.
func (s *Selector) Matches(rn *kyaml.RNode) bool {
	if s == nil {
		return false
	}
	m := rn.GetMeta
	meta, err := m()
	if err != nil {
		return false
	}
	return (s.APIVersion == "" || s.APIVersion == meta.APIVersion) &&
		(s.Kind == "" || s.Kind == meta.Kind) &&
		(s.Name == "" || s.Name == meta.Name) &&
		(s.Namespace == "" || s.Namespace == meta.Namespace)
}

// parametersObject is the resource form of a declaration.
type parametersObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations,omitempty"`
	} `json:"metadata"`
	Spec Parameters `json:"spec"`
}

// Resource returns the declaration as a YAML resource marked local-config,
// to be kept in a package.
func (p *Parameters) Resource() (string, error) {
	var obj parametersObject
	obj.APIVersion, obj.Kind = ParametersAPIVersion, ParametersKind
	obj.Metadata.Name = p.Name
	obj.Metadata.Annotations = map[string]string{LocalConfigAnnotation: "true"}
	obj.Spec = *p
	out, err := sigsyaml.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidParameters, err)
	}
	return string(out), nil
}

// ParseParameters reads a Parameters resource (one YAML document).
func ParseParameters(file, src string) (*Parameters, error) {
	var obj parametersObject
	if err := sigsyaml.UnmarshalStrict([]byte(src), &obj); err != nil {
		return nil, &ParametersError{File: file, Field: "spec", Err: err}
	}
	if obj.APIVersion != ParametersAPIVersion || obj.Kind != ParametersKind {
		return nil, &ParametersError{File: file, Field: "apiVersion", Err: fmt.Errorf("want %s %s, got %s %s", ParametersAPIVersion, ParametersKind, obj.APIVersion, obj.Kind)}
	}
	if obj.Metadata.Annotations[LocalConfigAnnotation] != "true" {
		return nil, &ParametersError{File: file, Field: "metadata.annotations", Err: fmt.Errorf("%s: \"true\" is required, or the declaration would be applied to clusters", LocalConfigAnnotation)}
	}
	p := obj.Spec
	p.Name, p.File = obj.Metadata.Name, file
	for _, env := range sortedKeys(p.Environments) {
		norm, err := normalizeValues(p.Environments[env])
		if err != nil {
			return nil, &ParametersError{File: file, Field: "spec.environments." + env, Err: err}
		}
		p.Environments[env] = norm
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return &p, nil
}

// FindParameters returns the package's declaration, or nil when it has
// none. More than one declaration is an error.
func FindParameters(files map[string]string) (*Parameters, error) {
	var found *Parameters
	for _, path := range sortedKeys(files) {
		if !isYAMLFile(path) {
			continue
		}
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(files[path]), OmitReaderAnnotations: true}).Read()
		if err != nil {
			// Files that are not YAML are reported by the KRM checks of
			// their own; a declaration has to parse.
			if strings.Contains(files[path], ParametersAPIVersion) {
				return nil, &ParametersError{File: path, Field: "spec", Err: err}
			}
			continue
		}
		for _, n := range nodes {
			if n.GetApiVersion() != ParametersAPIVersion || n.GetKind() != ParametersKind {
				continue
			}
			if found != nil {
				return nil, &ParametersError{File: path, Field: "metadata.name", Err: fmt.Errorf("second declaration %q (first in %s)", n.GetName(), found.File)}
			}
			src, err := n.String()
			if err != nil {
				return nil, &ParametersError{File: path, Field: "spec", Err: err}
			}
			if found, err = ParseParameters(path, src); err != nil {
				return nil, err
			}
		}
	}
	return found, nil
}

// Check verifies the declaration: the schema compiles, every binding has
// one target and a value path the schema declares, every overlay
// satisfies the schema's types.
func (p *Parameters) Check() error {
	s, err := p.Compile()
	if err != nil {
		return err
	}
	for i, b := range p.Bindings {
		field := fmt.Sprintf("spec.bindings[%d]", i)
		n := 0
		for _, set := range []bool{b.Resource != nil, b.Setter != "", b.Injection != nil} {
			if set {
				n++
			}
		}
		switch {
		case b.Value == "":
			return &ParametersError{File: p.File, Field: field + ".value", Err: errors.New("empty value path")}
		case n != 1:
			return &ParametersError{File: p.File, Field: field, Err: errors.New("exactly one of resource, setter and injection must be set")}
		case b.Resource != nil && b.Field == "":
			return &ParametersError{File: p.File, Field: field + ".field", Err: errors.New("a resource binding needs a field path")}
		case b.Resource != nil && b.Resource.Kind == "" && b.Resource.Name == "":
			return &ParametersError{File: p.File, Field: field + ".resource", Err: errors.New("a resource selector needs a kind or a name")}
		case b.Field != "" && !validFieldPath(b.Field):
			return &ParametersError{File: p.File, Field: field + ".field", Err: fmt.Errorf("malformed field path %q", b.Field)}
		case !s.declares(b.Value):
			return &ParametersError{File: p.File, Field: field + ".value", Err: fmt.Errorf("%q is not a property of the schema", b.Value)}
		}
	}
	for _, env := range sortedKeys(p.Environments) {
		if _, err := normalizeValues(p.Environments[env]); err != nil {
			return &ParametersError{File: p.File, Field: "spec.environments." + env, Err: err}
		}
	}
	return nil
}

func validFieldPath(path string) bool {
	_, err := splitFieldPath(path)
	return err == nil
}

// Schema is a compiled values schema.
type Schema struct {
	root *jsonschema.Schema
}

// schemaURL is the in-memory location of a compiled values schema.
const schemaURL = "mem:///values.schema.json"

// refuseLoader keeps $ref inside the document: a blueprint must not make
// the generator read files or the network.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external schema reference %q refused", url)
}

// Compile compiles the schema (draft 2020-12 unless $schema says
// otherwise). An empty schema accepts any object.
func (p *Parameters) Compile() (*Schema, error) {
	doc := p.Schema
	if doc == nil {
		doc = map[string]any{"type": "object"}
	}
	norm, err := normalize(doc)
	if err != nil {
		return nil, &ParametersError{File: p.File, Field: "spec.schema", Err: err}
	}
	closeObjects(norm, 0)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(schemaURL, norm); err != nil {
		return nil, &ParametersError{File: p.File, Field: "spec.schema", Err: err}
	}
	root, err := c.Compile(schemaURL)
	if err != nil {
		return nil, &ParametersError{File: p.File, Field: "spec.schema", Err: err}
	}
	return &Schema{root: root}, nil
}

// openingKeywords are the keywords that decide what else an object schema
// admits, or compose it with others; a schema with any of them is left as
// written.
var openingKeywords = []string{"additionalProperties", "patternProperties", "unevaluatedProperties",
	"allOf", "anyOf", "oneOf", "$ref", "$dynamicRef", "if", "dependentSchemas", "not"}

// closeObjects makes every object schema that lists properties and says
// nothing about other keys reject them (additionalProperties: false), so a
// misspelt value key is an error rather than silently ignored. A schema
// opts out with additionalProperties: true; members of allOf, anyOf and
// oneOf are left open, since they are combined with others.
func closeObjects(doc any, depth int) {
	s, ok := doc.(map[string]any)
	if !ok || depth > 64 {
		return
	}
	if props, ok := s["properties"].(map[string]any); ok {
		open := false
		for _, k := range openingKeywords {
			if _, set := s[k]; set {
				open = true
			}
		}
		if !open {
			s["additionalProperties"] = false
		}
		for _, sub := range props {
			closeObjects(sub, depth+1)
		}
	}
	for _, k := range []string{"items", "additionalProperties", "contains", "then", "else"} {
		closeObjects(s[k], depth+1)
	}
	for _, k := range []string{"$defs", "definitions"} {
		if defs, ok := s[k].(map[string]any); ok {
			for _, sub := range defs {
				closeObjects(sub, depth+1)
			}
		}
	}
	if items, ok := s["prefixItems"].([]any); ok {
		for _, sub := range items {
			closeObjects(sub, depth+1)
		}
	}
}

// declares reports whether the dotted path names a property the schema
// describes (or the schema leaves open).
func (s *Schema) declares(path string) bool {
	sch := s.root
	for _, key := range strings.Split(path, ".") {
		sch = deref(sch)
		if sch == nil {
			return false
		}
		next, ok := sch.Properties[key]
		if !ok {
			if sch.AdditionalProperties == false || (sch.Properties == nil && sch.AdditionalProperties == nil && !hasType(sch, "object")) {
				return false
			}
			if as, ok := sch.AdditionalProperties.(*jsonschema.Schema); ok {
				next = as
			} else {
				return true
			}
		}
		sch = next
	}
	return true
}

func hasType(s *jsonschema.Schema, t string) bool {
	return s.Types != nil && slices.Contains(s.Types.ToStrings(), t)
}

// deref follows $ref to the schema that holds the keywords.
func deref(s *jsonschema.Schema) *jsonschema.Schema {
	for i := 0; s != nil && s.Ref != nil && i < 32; i++ {
		if len(s.Properties) > 0 || s.Types != nil {
			return s
		}
		s = s.Ref
	}
	return s
}

// SchemaErrors validates values against the schema and returns every
// failure, the leaves of the validator's error tree in a deterministic
// order (by instance location, then keyword location); nil means valid.
// Values are normalised to JSON types first (an int is a number); values
// that cannot be (NaN, a channel) are a single failure at their location.
func (s *Schema) SchemaErrors(values Values) []SchemaError {
	inst, err := normalizeValues(values)
	if err != nil {
		var ne *normalizeError
		loc := ""
		if errors.As(err, &ne) {
			loc = ne.pointer
		}
		return []SchemaError{{InstanceLocation: loc, Keyword: "type", Message: err.Error()}}
	}
	verr := s.root.Validate(inst)
	if verr == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(verr, &ve) {
		return []SchemaError{{Message: verr.Error()}}
	}
	printer := message.NewPrinter(language.English)
	var out []SchemaError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		out = append(out, leafError(e, inst, printer))
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].InstanceLocation != out[j].InstanceLocation {
			return out[i].InstanceLocation < out[j].InstanceLocation
		}
		return out[i].KeywordLocation < out[j].KeywordLocation
	})
	return slices.CompactFunc(out, func(a, b SchemaError) bool {
		return a.InstanceLocation == b.InstanceLocation && a.KeywordLocation == b.KeywordLocation && a.Message == b.Message
	})
}

func leafError(e *jsonschema.ValidationError, inst any, p *message.Printer) SchemaError {
	kwPath := e.ErrorKind.KeywordPath()
	frag := e.SchemaURL
	if i := strings.Index(frag, "#"); i >= 0 {
		frag = frag[i+1:]
	} else {
		frag = ""
	}
	kwLoc := frag
	for _, tok := range kwPath {
		kwLoc += "/" + escapePointer(tok)
	}
	se := SchemaError{
		InstanceLocation: pointer(e.InstanceLocation),
		KeywordLocation:  kwLoc,
		Message:          e.ErrorKind.LocalizedString(p),
		Details:          map[string]any{},
	}
	if len(kwPath) > 0 {
		se.Keyword = kwPath[0]
	}
	if v, ok := lookupPointer(inst, e.InstanceLocation); ok {
		se.Value, se.HasValue = v, true
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		se.Details["want"] = k.Want
	case *kind.Enum:
		se.Details["enum"] = k.Want
	case *kind.Const:
		se.Details["const"] = k.Want
	case *kind.Required:
		se.Details["missing"] = k.Missing
	case *kind.AdditionalProperties:
		se.Details["unexpected"] = k.Properties
		// Point at the first unexpected key, where the mistake is.
		if len(k.Properties) == 1 {
			se.InstanceLocation += "/" + escapePointer(k.Properties[0])
			if v, ok := lookupPointer(inst, append(slices.Clone(e.InstanceLocation), k.Properties[0])); ok {
				se.Value, se.HasValue = v, true
			}
		}
	case *kind.Minimum:
		se.Details["minimum"] = ratNumber(k.Want)
	case *kind.Maximum:
		se.Details["maximum"] = ratNumber(k.Want)
	case *kind.ExclusiveMinimum:
		se.Details["exclusiveMinimum"] = ratNumber(k.Want)
	case *kind.ExclusiveMaximum:
		se.Details["exclusiveMaximum"] = ratNumber(k.Want)
	case *kind.MultipleOf:
		se.Details["multipleOf"] = ratNumber(k.Want)
	case *kind.Pattern:
		se.Details["pattern"] = k.Want
	case *kind.MinLength:
		se.Details["minLength"] = k.Want
	case *kind.MaxLength:
		se.Details["maxLength"] = k.Want
	case *kind.MinItems:
		se.Details["minItems"] = k.Want
	case *kind.MaxItems:
		se.Details["maxItems"] = k.Want
	case *kind.Format:
		se.Details["format"] = k.Want
	}
	if len(se.Details) == 0 {
		se.Details = nil
	}
	return se
}

// Validate checks values against the schema; the error is a *ValuesError
// listing every failure.
func (s *Schema) Validate(values Values) error {
	if errs := s.SchemaErrors(values); len(errs) > 0 {
		return &ValuesError{Errors: errs}
	}
	return nil
}

// Defaults returns the values the schema's defaults give: every property
// with a default, nested objects included (an object property without a
// default of its own is created when something inside has one).
func (s *Schema) Defaults() Values {
	out, _ := schemaDefaults(s.root, 0).(map[string]any)
	if out == nil {
		return Values{}
	}
	return out
}

func schemaDefaults(s *jsonschema.Schema, depth int) any {
	s = deref(s)
	if s == nil || depth > 32 {
		return nil
	}
	if s.Default != nil {
		return deepCopyValue(*s.Default)
	}
	var obj map[string]any
	for _, key := range sortedKeys(s.Properties) {
		if d := schemaDefaults(s.Properties[key], depth+1); d != nil {
			if obj == nil {
				obj = map[string]any{}
			}
			obj[key] = d
		}
	}
	for _, sub := range s.AllOf {
		if m, ok := schemaDefaults(sub, depth+1).(map[string]any); ok {
			if obj == nil {
				obj = map[string]any{}
			}
			for k, v := range m {
				if _, set := obj[k]; !set {
					obj[k] = v
				}
			}
		}
	}
	if obj == nil {
		return nil
	}
	return obj
}

func isYAMLFile(path string) bool {
	return strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") || path == KptfileName || strings.HasSuffix(path, "/"+KptfileName)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// compactJSON renders v for messages.
func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(buf.String())
}
