package blueprint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"

	goyaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/krm/catalog"
)

// LayerReport is one layer's outcome.
type LayerReport struct {
	// Layer is the layer.
	Layer ValidationLayer
	// Ran is false when the layer had nothing to check or could not run;
	// Skipped then says why ("no Parameters declaration", "function
	// docker.io/nephio/nad-fn:latest cannot run here").
	Ran     bool
	Skipped []string
	// Violations are the layer's findings, sorted.
	Violations Violations
}

// Report is the outcome of Validate: every layer, in the order of ValidationLayers,
// each with its own violations.
type Report struct {
	Layers []LayerReport
}

// Violations returns every violation of every layer, in order.
func (r *Report) Violations() Violations {
	var out Violations
	for _, l := range r.Layers {
		out = append(out, l.Violations...)
	}
	return out
}

// Layer returns the report of one layer.
func (r *Report) Layer(l ValidationLayer) LayerReport {
	for _, lr := range r.Layers {
		if lr.Layer == l {
			return lr
		}
	}
	return LayerReport{Layer: l}
}

// Err returns the violations as an error (a Violations, wrapping
// ErrValidation), or nil when there are none.
func (r *Report) Err() error {
	if vs := r.Violations(); len(vs) > 0 {
		return vs
	}
	return nil
}

// ValidateOption configures Validate.
type ValidateOption func(*validateConfig)

type validateConfig struct {
	policies       []Policy
	noDefaults     bool
	pc             PolicyContext
	exec           krm.Executor
	skipPipeline   bool
	lenientSchemas bool
	generate       []GenerateOption
	// outputs maps a template's output file to the template.
	outputs map[string]string
}

// WithPolicies adds compliance policies to the shipped ones (and to the
// Policy resources kept in the package).
func WithPolicies(p ...Policy) ValidateOption {
	return func(c *validateConfig) { c.policies = append(c.policies, p...) }
}

// WithoutDefaultPolicies leaves the shipped policies (DefaultPolicies)
// out, so only the package's own and WithPolicies ones apply.
func WithoutDefaultPolicies() ValidateOption {
	return func(c *validateConfig) { c.noDefaults = true }
}

// WithLifecycle tells the policies the package revision's lifecycle
// ("Draft", "Proposed", "Published"); the no-latest policies apply to
// Published packages.
func WithLifecycle(lifecycle string) ValidateOption {
	return func(c *validateConfig) { c.pc.Lifecycle = lifecycle }
}

// AsDownstream marks the package as a generated (specialised) one, where
// every required injection point must have been filled.
func AsDownstream() ValidateOption {
	return func(c *validateConfig) { c.pc.Downstream = true }
}

// WithPolicyValues gives the policies the values the package was generated
// with (the ha-replicas policy reads ha_enabled).
func WithPolicyValues(values map[string]any) ValidateOption {
	return func(c *validateConfig) { c.pc.Values = values }
}

// WithValidatorExecutor runs the Kptfile's validators with exec instead
// of a krm.Runner over the builtin catalog.
func WithValidatorExecutor(exec krm.Executor) ValidateOption {
	return func(c *validateConfig) { c.exec = exec }
}

// WithoutPipelineValidators skips the pipeline layer.
func WithoutPipelineValidators() ValidateOption {
	return func(c *validateConfig) { c.skipPipeline = true }
}

// WithLenientSchemas makes the OpenAPI layer accept fields the schema does
// not declare (kubeconform's strict=false); by default an unknown field of
// a built-in kind (a typo such as "replica") is a violation.
func WithLenientSchemas() ValidateOption {
	return func(c *validateConfig) { c.lenientSchemas = true }
}

// parsedResource is one resource of the package with where it is.
type parsedResource struct {
	node *yaml.RNode
	file string
	doc  int
}

// ValidatePackage checks a package given as Porch gives it (path ->
// content) layer by layer, in the order of ValidationLayers, and reports every
// violation of every layer at once: YAML syntax of every resource file
// (file, line, column), KRM structure (apiVersion, kind, metadata.name,
// their formats, duplicates), the OpenAPI schema of built-in kinds
// (through krm's catalog kubeconform validator; kinds without a schema,
// such as Nephio's, pass), the compliance policies (DefaultPolicies, the
// package's own Policy resources and WithPolicies), and the Kptfile's
// validators run with krm. ValidationLayers after YAML see the resources that
// parsed; the pipeline layer runs only on a package every earlier layer
// accepted, since kpt would refuse to render it.
//
// The error is nil when nothing was found, a Violations (errors.As;
// errors.Is ErrValidation and each layer's sentinel) when something was,
// and another error only when validation itself could not run (a policy
// that does not compile: *PolicyError; ctx ended).
func ValidatePackage(ctx context.Context, files map[string]string, opts ...ValidateOption) (*Report, error) {
	cfg := &validateConfig{}
	for _, o := range opts {
		o(cfg)
	}
	return validateFiles(ctx, files, cfg, nil)
}

// validateFiles runs the package layers after the given earlier reports.
func validateFiles(ctx context.Context, files map[string]string, cfg *validateConfig, earlier []LayerReport) (*Report, error) {
	rep := &Report{Layers: earlier}
	yamlRep, resources := runYAMLLayer(files)
	krmRep := runKRMLayer(resources)
	for _, lr := range []*LayerReport{&yamlRep, &krmRep} {
		for i, v := range lr.Violations {
			if tmpl, ok := cfg.outputs[v.File]; ok {
				lr.Violations[i].Message += " (output of template " + tmpl + ")"
			}
		}
	}
	rep.Layers = append(rep.Layers, yamlRep, krmRep)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.Layers = append(rep.Layers, runOpenAPILayer(resources, !cfg.lenientSchemas))
	polRep, err := runPolicyLayer(ctx, resources, cfg)
	if err != nil {
		return nil, err
	}
	rep.Layers = append(rep.Layers, polRep)
	pipe := LayerReport{Layer: PipelineLayer}
	switch {
	case cfg.skipPipeline:
		pipe.Skipped = []string{"pipeline validators not requested"}
	case len(rep.Layer(YAMLLayer).Violations) > 0 || len(rep.Layer(KRMLayer).Violations) > 0:
		pipe.Skipped = []string{"the package is not valid KRM, so its pipeline cannot render"}
	default:
		exec := cfg.exec
		if exec == nil {
			exec = defaultValidatorRunner()
		}
		if pipe, err = runPipelineLayer(ctx, exec, files, resources); err != nil {
			return nil, err
		}
	}
	rep.Layers = append(rep.Layers, pipe)
	return rep, rep.Err()
}

var (
	validatorRunnerOnce sync.Once
	validatorRunner     *krm.Runner
)

// defaultValidatorRunner is a krm.Runner over the builtin catalog, shared
// so its memo and parsed schemas are reused.
func defaultValidatorRunner() *krm.Runner {
	validatorRunnerOnce.Do(func() { validatorRunner = krm.NewRunner(krm.RunnerConfig{}) })
	return validatorRunner
}

// isResourceFile reports the files kpt reads resources from: the Kptfile,
// *.yaml, *.yml and *.json.
func isResourceFile(p string) bool {
	base := path.Base(p)
	if base == "Kptfile" {
		return true
	}
	for _, g := range kio.MatchAll {
		if ok, _ := path.Match(g, base); ok {
			return true
		}
	}
	return false
}

// sortedFiles returns the resource files of files in path order.
func sortedFiles(files map[string]string) []string {
	var out []string
	for p := range files {
		if isResourceFile(p) && !strings.HasPrefix(p, ".git/") && !strings.Contains(p, "/.git/") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// runYAMLLayer parses every resource file; a file that does not parse is a
// violation at the position the YAML parser gives (line and column), and
// contributes no resources.
func runYAMLLayer(files map[string]string) (LayerReport, []parsedResource) {
	rep := LayerReport{Layer: YAMLLayer, Ran: true}
	var out []parsedResource
	for _, f := range sortedFiles(files) {
		content := files[f]
		nodes, err := parseDocuments(content)
		if err != nil {
			rep.Violations = append(rep.Violations, yamlViolation(f, content, err))
			continue
		}
		for i, n := range nodes {
			out = append(out, parsedResource{node: n, file: f, doc: i})
		}
	}
	rep.Violations.Sort()
	return rep, out
}

// parseDocuments decodes every YAML document of a file in one stream, so
// node positions are lines of the file (kio.ByteReader decodes each
// document apart, numbering from its start). Empty and comment-only
// documents hold no resource, as in kpt.
func parseDocuments(content string) ([]*yaml.RNode, error) {
	dec := yaml.NewDecoder(strings.NewReader(content))
	var out []*yaml.RNode
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(doc.Content) == 0 {
			continue
		}
		n := doc.Content[0]
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			continue
		}
		out = append(out, yaml.NewRNode(n))
	}
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// yamlViolation explains a file kyaml could not parse. The position comes
// from goccy/go-yaml's parser (line and column); when it accepts the file
// (the two parsers differ at the edges), from the line kyaml names.
func yamlViolation(file, content string, err error) Violation {
	v := Violation{Layer: YAMLLayer, File: file, Path: ".", Rule: "yaml.syntax", DeclaredAt: "YAML 1.2 (kyaml parser)",
		Message: strings.TrimPrefix(strings.TrimPrefix(err.Error(), "MalformedYAMLError: "), "yaml: ")}
	_, perr := parser.ParseBytes([]byte(content), 0)
	var ge goyaml.Error
	if perr != nil && errors.As(perr, &ge) && ge.GetToken() != nil {
		v.Line, v.Column = ge.GetToken().Position.Line, ge.GetToken().Position.Column
		v.Message = fmt.Sprintf("%s (%s)", v.Message, ge.GetMessage())
	} else if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		v.Line, _ = strconv.Atoi(m[1])
		v.Column = 1
	}
	if v.Line > 0 {
		lines := strings.Split(content, "\n")
		if v.Line <= len(lines) {
			v.Value, v.HasValue = lines[v.Line-1], true
		}
	}
	if !v.HasValue {
		first, _, _ := strings.Cut(content, "\n")
		v.Value, v.HasValue, v.Line, v.Column = first, true, 1, 1
	}
	return v
}

// krmDeclaredAt is where the KRM structure rules come from.
const krmDeclaredAt = "KRM functions specification: every resource has apiVersion, kind and metadata.name, unique per group, kind, namespace and name"

// runKRMLayer checks every resource's identity: apiVersion (group/version),
// kind and metadata.name present and well-formed, and no two resources
// with the same group, kind, namespace and name. Every problem of every
// resource is reported (the catalog's validate-structure stops at a
// resource's first missing field).
func runKRMLayer(resources []parsedResource) LayerReport {
	rep := LayerReport{Layer: KRMLayer, Ran: true}
	type first struct {
		file string
		line int
	}
	seen := map[string]first{}
	for _, r := range resources {
		n := r.node.YNode()
		ref := resourceIdentifier(r.node)
		add := func(p string, rule, msg string, fix *Fix) {
			segs, _ := parseFieldPath(p)
			at, found := nodeAt(n, segs)
			v := Violation{Layer: KRMLayer, Path: p, Resource: ref, File: r.file, Rule: rule,
				DeclaredAt: krmDeclaredAt, Message: msg, Fix: fix}
			if at != nil {
				v.Line, v.Column = at.Line, at.Column
			}
			if found {
				v.Value, v.HasValue = nodeValue(at), true
			}
			rep.Violations = append(rep.Violations, v)
		}
		if n.Kind != yaml.MappingNode {
			rep.Violations = append(rep.Violations, Violation{Layer: KRMLayer, Path: ".", File: r.file, Line: n.Line,
				Column: n.Column, Value: nodeValue(n), HasValue: true, Rule: "krm.object", DeclaredAt: krmDeclaredAt,
				Message: fmt.Sprintf("document %d is a %s, not a KRM object (a mapping)", r.doc, kindOfNode(n))})
			continue
		}
		av, kind, name := r.node.GetApiVersion(), r.node.GetKind(), r.node.GetName()
		switch {
		case av == "":
			add("apiVersion", "krm.apiVersion-required", "the resource has no apiVersion", &Fix{Description: "add apiVersion: <group>/<version> (v1 for the core group)"})
		case !validAPIVersion(av):
			add("apiVersion", "krm.apiVersion-format", fmt.Sprintf("apiVersion %q is not <group>/<version> or <version>", av), nil)
		}
		if kind == "" {
			add("kind", "krm.kind-required", "the resource has no kind", &Fix{Description: "add the resource's kind"})
		}
		switch {
		case name == "":
			add("metadata.name", "krm.name-required", "the resource has no metadata.name", &Fix{Description: "add metadata.name"})
		case kind != "Kptfile" && len(validation.IsDNS1123Subdomain(name)) > 0:
			fixed := dnsName(name)
			add("metadata.name", "krm.name-format",
				fmt.Sprintf("metadata.name %q is not a DNS subdomain: %s", name, strings.Join(validation.IsDNS1123Subdomain(name), "; ")),
				&Fix{Value: fixed, Description: fmt.Sprintf("rename to %q", fixed)})
		}
		if kind == "" || name == "" {
			continue
		}
		group, _, _ := strings.Cut(av, "/")
		if !strings.Contains(av, "/") {
			group = ""
		}
		id := strings.Join([]string{group, kind, r.node.GetNamespace(), name}, "|")
		if f, dup := seen[id]; dup {
			add("metadata.name", "krm.unique-identity",
				fmt.Sprintf("duplicate resource %s %q: also declared at %s:%d", kind, name, f.file, f.line),
				&Fix{Description: "rename or remove one of the two resources"})
			continue
		}
		seen[id] = first{file: r.file, line: n.Line}
	}
	rep.Violations.Sort()
	return rep
}

func kindOfNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

var versionRE = regexp.MustCompile(`^v[0-9]+((alpha|beta)[0-9]+)?$`)

// validAPIVersion accepts "<version>" or "<group>/<version>" with a DNS
// subdomain group; versions other than Kubernetes' vN[alphaN|betaN] form
// are accepted when they are DNS labels, as custom resources may use.
func validAPIVersion(av string) bool {
	group, version, hasGroup := strings.Cut(av, "/")
	if !hasGroup {
		return versionRE.MatchString(av)
	}
	if strings.Contains(version, "/") || len(validation.IsDNS1123Subdomain(group)) > 0 {
		return false
	}
	return len(validation.IsDNS1123Label(version)) == 0
}

// dnsName turns s into a DNS subdomain: lower case, invalid runs replaced
// by '-', trimmed to 253 characters and to alphanumeric ends.
func dnsName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	out := b.String()
	if len(out) > 253 {
		out = out[:253]
	}
	out = strings.Trim(out, "-.")
	if out == "" {
		out = "resource"
	}
	return out
}

var (
	schemaValidatorOnce sync.Once
	schemaValidator     *catalog.SchemaValidator
)

// runOpenAPILayer validates each resource of a built-in kind with krm's
// catalog kubeconform validator (ignore_missing_schemas: custom kinds such
// as Nephio's pass; strict unless lenient). Each result becomes a
// violation at the field the validator names, with the value there.
func runOpenAPILayer(resources []parsedResource, strict bool) LayerReport {
	rep := LayerReport{Layer: OpenAPILayer, Ran: true}
	schemaValidatorOnce.Do(func() { schemaValidator = catalog.NewSchemaValidator() })
	cfg, err := yaml.FromMap(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "kubeconform"},
		"data":     map[string]any{"ignore_missing_schemas": "true", "strict": "true"}})
	if err != nil {
		rep.Skipped = []string{err.Error()}
		rep.Ran = false
		return rep
	}
	for _, r := range resources {
		if r.node.YNode().Kind != yaml.MappingNode || r.node.GetKind() == "" || r.node.GetApiVersion() == "" {
			continue
		}
		results, err := schemaResults(r.node, cfg, strict)
		if err != nil {
			rep.Skipped = append(rep.Skipped, err.Error())
			continue
		}
		gvk := r.node.GetApiVersion() + " " + r.node.GetKind()
		for _, res := range results {
			v := Violation{Layer: OpenAPILayer, Resource: resourceIdentifier(r.node), File: r.file, Path: ".",
				DeclaredAt: "Kubernetes OpenAPI schema of " + gvk + " (k8s.io/api, via krm/catalog kubeconform)",
				Message:    res.Message, Rule: openAPIRule(res.Message)}
			segs := []pathSeg(nil)
			if res.Field != nil && res.Field.Path != "" {
				segs = smdPath(r.node.YNode(), res.Field.Path)
				v.Path = formatFieldPath(segs)
			}
			at, found := nodeAt(r.node.YNode(), segs)
			if at != nil {
				v.Line, v.Column = at.Line, at.Column
			}
			if found {
				v.Value, v.HasValue = nodeValue(at), true
			}
			v.Fix = openAPIFix(v.Rule, res.Message, v.Value)
			rep.Violations = append(rep.Violations, v)
		}
	}
	rep.Violations.Sort()
	return rep
}

// schemaResults runs the catalog validator (strict) over one resource
// until it reports no new undeclared field. The schema walker stops
// walking a mapping at its first undeclared field, in random map order,
// so a single run can hide the mapping's other errors; each undeclared
// field is recorded, removed from a working copy, and the copy checked
// again. Undeclared fields are returned only when strict is set.
func schemaResults(n *yaml.RNode, cfg *yaml.RNode, strict bool) (framework.Results, error) {
	work := n.Copy()
	var out framework.Results
	seen := map[string]bool{}
	for range 10000 {
		rl := &framework.ResourceList{Items: []*yaml.RNode{work.Copy()}, FunctionConfig: cfg}
		if err := schemaValidator.Process(rl); err != nil {
			return nil, err
		}
		var unknown, others framework.Results
		for _, res := range rl.Results {
			if res.Severity != framework.Error {
				continue
			}
			if res.Field != nil && strings.Contains(res.Message, "field not declared in schema") && !seen[res.Field.Path] {
				unknown = append(unknown, res)
				continue
			}
			others = append(others, res)
		}
		if len(unknown) == 0 {
			return append(out, others...), nil
		}
		for _, res := range unknown {
			seen[res.Field.Path] = true
			if strict {
				out = append(out, res)
			}
			segs := smdPath(work.YNode(), res.Field.Path)
			if len(segs) == 0 {
				continue
			}
			parent, ok := nodeAt(work.YNode(), segs[:len(segs)-1])
			if ok && parent.Kind == yaml.MappingNode {
				_ = yaml.NewRNode(parent).PipeE(yaml.Clear(segs[len(segs)-1].key))
			}
		}
	}
	return out, nil
}

// openAPIRule names the schema rule a structured-merge-diff message is
// about.
func openAPIRule(msg string) string {
	switch {
	case strings.Contains(msg, "field not declared in schema"):
		return "openapi.unknown-field"
	case strings.Contains(msg, "expected"):
		return "openapi.type"
	case strings.Contains(msg, "duplicate"):
		return "openapi.duplicate"
	}
	return "openapi.schema"
}

// openAPIFix proposes a conversion for a type error and removal for an
// unknown field.
func openAPIFix(rule, msg string, value any) *Fix {
	switch rule {
	case "openapi.unknown-field":
		return &Fix{Remove: true, Description: "remove the field (the schema does not declare it) or correct its name"}
	case "openapi.type":
		switch {
		case strings.Contains(msg, "expected numeric"), strings.Contains(msg, "expected int"):
			if s, ok := value.(string); ok {
				if i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
					return &Fix{Value: i, Description: fmt.Sprintf("write the number %d without quotes", i)}
				}
			}
			return &Fix{Description: "use a number"}
		case strings.Contains(msg, "expected string"):
			if value != nil {
				s := fmt.Sprint(value)
				return &Fix{Value: s, Description: fmt.Sprintf("quote the value: %q", s)}
			}
			return &Fix{Description: "use a string"}
		case strings.Contains(msg, "expected boolean"), strings.Contains(msg, "expected bool"):
			if s, ok := value.(string); ok {
				if b, err := strconv.ParseBool(s); err == nil {
					return &Fix{Value: b, Description: fmt.Sprintf("write %t without quotes", b)}
				}
			}
			return &Fix{Description: "use true or false"}
		case strings.Contains(msg, "expected map"):
			return &Fix{Description: "use a mapping"}
		case strings.Contains(msg, "expected list"):
			return &Fix{Description: "use a list"}
		}
	}
	return nil
}

// runPolicyLayer evaluates the shipped, in-package and given policies.
func runPolicyLayer(ctx context.Context, resources []parsedResource, cfg *validateConfig) (LayerReport, error) {
	rep := LayerReport{Layer: PolicyLayer, Ran: true}
	var policies []Policy
	if !cfg.noDefaults {
		policies = append(policies, DefaultPolicies()...)
	}
	var in []policyResourceInput
	for _, r := range resources {
		if r.node.YNode().Kind != yaml.MappingNode {
			continue
		}
		if r.node.GetKind() == PolicyKind && r.node.GetApiVersion() == PolicyAPIVersion {
			p, err := policyFromNode(r.file, r.node)
			if err != nil {
				return rep, err
			}
			policies = append(policies, p)
			continue
		}
		in = append(in, policyResourceInput{node: r.node, file: r.file})
	}
	policies = append(policies, cfg.policies...)
	if len(policies) == 0 {
		rep.Ran = false
		rep.Skipped = []string{"no policies"}
		return rep, nil
	}
	set, err := CompilePolicies(policies)
	if err != nil {
		return rep, err
	}
	vs, err := set.evaluate(ctx, in, cfg.pc)
	if err != nil {
		return rep, err
	}
	rep.Violations = vs
	return rep, nil
}

// runPipelineLayer runs each validator of each Kptfile on its own, with krm
// (mutators left out: Validate checks the package as it is), so one
// failing validator does not hide another's findings. A validator that
// cannot run here (no runtime knows it) is reported in Skipped.
func runPipelineLayer(ctx context.Context, exec krm.Executor, files map[string]string, resources []parsedResource) (LayerReport, error) {
	rep := LayerReport{Layer: PipelineLayer}
	type validatorRef struct {
		kptfile string
		index   int
		image   string
		line    int
	}
	var refs []validatorRef
	kptfiles := map[string]*yaml.RNode{}
	for _, r := range resources {
		if r.node.GetKind() != "Kptfile" {
			continue
		}
		kptfiles[r.file] = r.node
		vals, _ := r.node.Pipe(yaml.Lookup("pipeline", "validators"))
		if vals == nil {
			continue
		}
		els, _ := vals.Elements()
		for i, el := range els {
			img := yaml.GetValue(el.Field("image").Value)
			if img == "" && el.Field("exec") != nil {
				img = yaml.GetValue(el.Field("exec").Value)
			}
			refs = append(refs, validatorRef{kptfile: r.file, index: i, image: img, line: el.YNode().Line})
		}
	}
	if len(refs) == 0 {
		rep.Skipped = []string{"the Kptfile has no validators"}
		return rep, nil
	}
	byPlace := map[string]parsedResource{}
	for _, r := range resources {
		byPlace[placeKey(r.file, r.node)] = r
	}
	for _, ref := range refs {
		trial := make(map[string]string, len(files))
		for p, c := range files {
			trial[p] = c
		}
		for p, kf := range kptfiles {
			s, err := onlyValidator(kf, p == ref.kptfile, ref.index)
			if err != nil {
				return rep, err
			}
			trial[p] = s
		}
		_, result, err := krm.Render(ctx, exec, trial)
		if cerr := ctx.Err(); cerr != nil {
			return rep, cerr
		}
		var results framework.Results
		var fe *krm.FunctionError
		switch {
		case errors.Is(err, krm.ErrUnknownFunction), errors.Is(err, krm.ErrNotAllowed), errors.Is(err, krm.ErrNoContainerRuntime),
			errors.Is(err, krm.ErrSandboxUnavailable), errors.Is(err, krm.ErrCapabilityDenied):
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("validator %s (%s pipeline.validators[%d]) cannot run here: %v", ref.image, ref.kptfile, ref.index, err))
			continue
		case errors.As(err, &fe):
			results = fe.Results
			if len(results) == 0 {
				results = framework.Results{{Severity: framework.Error, Message: err.Error()}}
			}
		case err != nil:
			results = framework.Results{{Severity: framework.Error, Message: err.Error()}}
		case result != nil:
			for _, run := range result.Runs {
				if run.Validator {
					results = append(results, run.Results...)
				}
			}
		}
		rep.Ran = true
		for _, res := range results {
			if res.Severity != framework.Error {
				continue
			}
			rep.Violations = append(rep.Violations, validatorViolation(ref.image, fmt.Sprintf("%s:%d pipeline.validators[%d]", ref.kptfile, ref.line, ref.index), res, byPlace))
		}
	}
	rep.Violations.Sort()
	return rep, nil
}

// placeKey identifies a resource by file and identity, to find a
// validator result's resource.
func placeKey(file string, n *yaml.RNode) string {
	return strings.Join([]string{file, n.GetApiVersion(), n.GetKind(), n.GetNamespace(), n.GetName()}, "|")
}

// validatorViolation turns one validator result into a violation, finding
// the resource and the value at the result's field when the result does
// not carry them.
func validatorViolation(image, declaredAt string, res *framework.Result, byPlace map[string]parsedResource) Violation {
	v := Violation{Layer: PipelineLayer, Rule: image, DeclaredAt: declaredAt, Message: res.Message, Path: ".",
		Resource: res.ResourceRef}
	if res.File != nil {
		v.File = res.File.Path
	}
	if res.Field != nil {
		if res.Field.Path != "" {
			v.Path = res.Field.Path
		}
		if res.Field.CurrentValue != nil {
			v.Value, v.HasValue = res.Field.CurrentValue, true
		}
		if res.Field.ProposedValue != nil {
			v.Fix = &Fix{Value: res.Field.ProposedValue, Description: fmt.Sprintf("set to %s", formatValue(res.Field.ProposedValue))}
		}
	}
	if res.ResourceRef == nil {
		return v
	}
	var r *parsedResource
	for key, cand := range byPlace {
		if (v.File == "" || cand.file == v.File) && strings.HasSuffix(key, "|"+strings.Join([]string{res.ResourceRef.APIVersion,
			res.ResourceRef.Kind, res.ResourceRef.Namespace, res.ResourceRef.Name}, "|")) {
			if r == nil || cand.file < r.file {
				c := cand
				r = &c
			}
		}
	}
	if r == nil {
		return v
	}
	v.File = r.file
	segs, err := parseFieldPath(strings.TrimPrefix(v.Path, "."))
	if v.Path == "." || err != nil {
		segs = nil
	}
	if strings.HasPrefix(v.Path, ".") && v.Path != "." {
		segs = smdPath(r.node.YNode(), v.Path)
		v.Path = formatFieldPath(segs)
	}
	at, found := nodeAt(r.node.YNode(), segs)
	if at != nil {
		v.Line, v.Column = at.Line, at.Column
	}
	if found && !v.HasValue {
		v.Value, v.HasValue = nodeValue(at), true
	}
	return v
}

// onlyValidator returns the Kptfile kf with no mutators and, when keep is
// set, only validator index; otherwise with no pipeline functions at all.
func onlyValidator(kf *yaml.RNode, keep bool, index int) (string, error) {
	c := kf.Copy()
	pipe, err := c.Pipe(yaml.Lookup("pipeline"))
	if err != nil || pipe == nil {
		return c.MustString(), err
	}
	if err := pipe.PipeE(yaml.Clear("mutators")); err != nil {
		return "", err
	}
	vals, err := pipe.Pipe(yaml.Lookup("validators"))
	if err != nil {
		return "", err
	}
	if vals != nil {
		els, _ := vals.Elements()
		if err := pipe.PipeE(yaml.Clear("validators")); err != nil {
			return "", err
		}
		if keep && index < len(els) {
			list := yaml.NewListRNode()
			if err := list.PipeE(yaml.Append(els[index].YNode())); err != nil {
				return "", err
			}
			if err := pipe.PipeE(yaml.SetField("validators", list)); err != nil {
				return "", err
			}
		}
	}
	return c.String()
}

// WithGenerateOptions gives Validate the options Generate would get: the
// environment overlay, the cluster context and the package name, so the
// values validated are the effective values Generate would use.
func WithGenerateOptions(opts ...GenerateOption) ValidateOption {
	return func(c *validateConfig) { c.generate = append(c.generate, opts...) }
}

// Validate checks a blueprint with values the way Generate would use
// them, every layer in the order of ValidationLayers, and reports every
// violation at once:
//
//   - values: the effective values (schema defaults < environment overlay
//     < values < cluster context) against the Parameters schema (inferred
//     for a package without a declaration); every schema failure, each
//     with the JSON pointer, the value, the keyword and its location in
//     the declaration, and a fix where one can be computed. A key the
//     schema does not declare is a violation too ("unknown-key") when
//     the object's schema lists properties and says nothing of
//     additionalProperties or patternProperties: values are closed by
//     default, so a misspelt key cannot pass silently; a schema opens an
//     object with additionalProperties.
//   - template: every .tmpl file executed with the effective values, each
//     failure with its file, line and column; outputs replace their
//     templates for the later layers.
//   - then the values are bound where the declaration says and the
//     package layers of ValidatePackage run on the result, the policies
//     seeing the effective values.
//
// The error is nil, a Violations, or an error saying why validation could
// not run (nil blueprint: ErrInvalidBlueprint; a declaration that does
// not compile: *ParametersError; ctx ended).
func Validate(ctx context.Context, bp *Blueprint, values Values, opts ...ValidateOption) (*Report, error) {
	if bp == nil {
		return nil, fmt.Errorf("%w: nil blueprint", ErrInvalidBlueprint)
	}
	cfg := &validateConfig{}
	for _, o := range opts {
		o(cfg)
	}
	var gen GenerateOptions
	for _, o := range cfg.generate {
		if o != nil {
			o.ApplyToGenerate(&gen)
		}
	}
	if gen.Name == "" {
		gen.Name = bp.Name
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	files := maps.Clone(bp.Files)
	params, err := FindParameters(files)
	if err != nil {
		return nil, err
	}
	if params == nil {
		if params, err = Infer(files); err != nil {
			return nil, err
		}
	}
	schema, err := params.Compile()
	if err != nil {
		return nil, err
	}
	valuesRep := LayerReport{Layer: ValuesLayer, Ran: true}
	effective, origins, err := params.layer(schema, values, gen.Environment, gen.Cluster)
	layered := err == nil
	switch {
	case err == nil:
		valuesRep.Violations = valueViolations(params, schema.SchemaErrors(effective), effective, origins)
		valuesRep.Violations = append(valuesRep.Violations, unknownKeyViolations(params, effective, origins)...)
	default:
		var ve *ValuesError
		if !errors.As(err, &ve) {
			return nil, err
		}
		valuesRep.Violations = valuesErrorViolations(params, ve, gen.Environment)
		effective = Values{}
	}
	valuesRep.Violations.Sort()
	if cfg.pc.Values == nil {
		cfg.pc.Values = effective
	}
	cfg.outputs = map[string]string{}
	tmplRep := LayerReport{Layer: TemplateLayer, Skipped: []string{"the values could not be layered, so the templates were not executed"}}
	if layered {
		tmplRep, files = runTemplateLayer(files, TemplateData{Values: effective, Package: gen.Name, Blueprint: bp.Ref()},
			func(dotted string) bool { return declaresKey(params.Schema, dotted) }, cfg.outputs)
		tmplRep.Violations = withoutConsequences(tmplRep.Violations, valuesRep.Violations)
	}
	if len(valuesRep.Violations) == 0 && len(tmplRep.Violations) == 0 {
		bound, err := bind(files, params.Bindings, effective)
		var be *BindingError
		switch {
		case errors.As(err, &be):
			valuesRep.Violations = append(valuesRep.Violations, bindingViolation(params, be, effective))
		case err != nil:
			return nil, err
		default:
			files = bound.files
		}
	}
	return validateFiles(ctx, files, cfg, []LayerReport{valuesRep, tmplRep})
}

// declaresKey reports whether the raw schema lists the dotted value path
// among its properties (following local $ref).
func declaresKey(schema map[string]any, dotted string) bool {
	cur := schemaAt(schema, "")
	for _, k := range strings.Split(dotted, ".") {
		props, _ := cur["properties"].(map[string]any)
		next, ok := props[k].(map[string]any)
		if !ok {
			return false
		}
		if ref, ok := next["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
			next = schemaAt(schema, strings.TrimPrefix(ref, "#"))
		}
		cur = next
	}
	return true
}

// withoutConsequences drops the template failures at a value the values
// layer already reports (a template reading a missing required value):
// the cause is listed once, where it can be fixed.
func withoutConsequences(tmpl, values Violations) Violations {
	var out Violations
	for _, t := range tmpl {
		caused := false
		for _, v := range values {
			if strings.HasPrefix(t.Path, "/") && (t.Path == v.Path || strings.HasPrefix(t.Path, v.Path+"/")) {
				caused = true
				break
			}
		}
		if !caused {
			out = append(out, t)
		}
	}
	return out
}

// declaredAt names a schema keyword's location in the declaration.
func declaredAt(p *Parameters, keywordLocation string) string {
	file := p.File
	if file == "" {
		file = "inferred parameters"
	}
	return file + "#" + keywordLocation
}

// pointerTokens splits a JSON pointer into unescaped tokens.
func pointerTokens(ptr string) []string {
	if ptr == "" || ptr == "/" {
		return nil
	}
	toks := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks
}

// dotted turns a JSON pointer into the dot path Origins uses.
func dotted(ptr string) string { return strings.Join(pointerTokens(ptr), ".") }

// schemaAt returns the raw schema object at a pointer into the
// declaration's schema (following local $ref), or nil.
func schemaAt(root map[string]any, ptr string) map[string]any {
	var cur any = root
	for _, t := range pointerTokens(ptr) {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	m, _ := cur.(map[string]any)
	if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
		if target := schemaAt(root, strings.TrimPrefix(ref, "#")); target != nil {
			return target
		}
	}
	return m
}

// parentSchemaLocation strips the keyword from a keyword location.
func parentSchemaLocation(kw string) string {
	if i := strings.LastIndex(kw, "/"); i >= 0 {
		return kw[:i]
	}
	return ""
}

// originNote says which layer set a value, when it was not the caller.
func originNote(origins Origins, ptr string) string {
	if l, ok := origins[dotted(ptr)]; ok && l != LayerValues {
		return fmt.Sprintf(" (set by the %s layer)", l)
	}
	return ""
}

// valueViolations explains every schema failure.
func valueViolations(p *Parameters, errs []SchemaError, effective Values, origins Origins) Violations {
	var out Violations
	for _, se := range errs {
		if se.Keyword == "required" {
			missing, _ := se.Details["missing"].([]string)
			parent := schemaAt(p.Schema, parentSchemaLocation(se.KeywordLocation))
			for _, key := range missing {
				v := Violation{Layer: ValuesLayer, Path: se.InstanceLocation + "/" + escapePointer(key), Rule: "required",
					DeclaredAt: declaredAt(p, se.KeywordLocation), Message: fmt.Sprintf("missing required value %q", key)}
				v.Fix = requiredFix(parent, key)
				out = append(out, v)
			}
			continue
		}
		v := Violation{Layer: ValuesLayer, Path: se.InstanceLocation, Value: se.Value, HasValue: se.HasValue,
			Rule: se.Keyword, DeclaredAt: declaredAt(p, se.KeywordLocation),
			Message: se.Message + originNote(origins, se.InstanceLocation)}
		if v.Rule == "" {
			v.Rule = "schema"
		}
		if v.Path == "" {
			v.Path = "/"
		}
		v.Fix = schemaFix(p, se)
		out = append(out, v)
	}
	return out
}

// requiredFix proposes the missing key's default or first example.
func requiredFix(parent map[string]any, key string) *Fix {
	props, _ := parent["properties"].(map[string]any)
	prop, _ := props[key].(map[string]any)
	if d, ok := prop["default"]; ok {
		return &Fix{Value: d, Description: fmt.Sprintf("add %q (its default is %s)", key, formatValue(d))}
	}
	if ex, ok := prop["examples"].([]any); ok && len(ex) > 0 {
		return &Fix{Value: ex[0], Description: fmt.Sprintf("add %q, for example %s", key, formatValue(ex[0]))}
	}
	if en, ok := prop["enum"].([]any); ok && len(en) > 0 {
		return &Fix{Value: en[0], Description: fmt.Sprintf("add %q, one of %s", key, joinValues(en))}
	}
	if t, ok := prop["type"].(string); ok {
		return &Fix{Description: fmt.Sprintf("add %q (type %s)", key, t)}
	}
	return &Fix{Description: fmt.Sprintf("add %q", key)}
}

func joinValues(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = formatValue(v)
	}
	return strings.Join(parts, ", ")
}

// numberOf reads a schema bound as a float64.
func numberOf(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	if s := fmt.Sprint(v); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	return 0, false
}

// asNumber renders a bound as an int64 when it is whole.
func asNumber(f float64) any {
	if f == float64(int64(f)) {
		return int64(f)
	}
	return f
}

// wantsInteger reports whether the schema at a keyword's parent says
// integer.
func wantsInteger(p *Parameters, kwLoc string) bool {
	s := schemaAt(p.Schema, parentSchemaLocation(kwLoc))
	switch t := s["type"].(type) {
	case string:
		return t == "integer"
	case []any:
		for _, x := range t {
			if x == "integer" {
				return true
			}
		}
	}
	return false
}

// schemaFix proposes a correction for one schema failure: the closest
// enum value, the bound of a range, the const, a conversion to the
// expected type, or a description.
func schemaFix(p *Parameters, se SchemaError) *Fix {
	d := se.Details
	switch se.Keyword {
	case "enum":
		want, _ := d["enum"].([]any)
		if len(want) == 0 {
			return nil
		}
		names := make([]string, len(want))
		for i, w := range want {
			names[i] = fmt.Sprint(w)
		}
		best, _ := closest(fmt.Sprint(se.Value), names)
		for i, n := range names {
			if n == best {
				return &Fix{Value: want[i], Description: fmt.Sprintf("use %s, the closest allowed value (allowed: %s)", formatValue(want[i]), joinValues(want))}
			}
		}
	case "const":
		return &Fix{Value: d["const"], Description: fmt.Sprintf("use %s", formatValue(d["const"]))}
	case "minimum", "maximum":
		if b, ok := numberOf(d[se.Keyword]); ok {
			return &Fix{Value: asNumber(b), Description: fmt.Sprintf("use %v, the %s", asNumber(b), se.Keyword)}
		}
	case "exclusiveMinimum", "exclusiveMaximum":
		if b, ok := numberOf(d[se.Keyword]); ok {
			if wantsInteger(p, se.KeywordLocation) {
				if se.Keyword == "exclusiveMinimum" {
					b = float64(int64(b)) + 1
				} else {
					b = float64(int64(b)) - 1
				}
				return &Fix{Value: asNumber(b), Description: fmt.Sprintf("use %v, the nearest allowed integer", asNumber(b))}
			}
			return &Fix{Description: fmt.Sprintf("use a value %s %v", map[string]string{"exclusiveMinimum": "above", "exclusiveMaximum": "below"}[se.Keyword], asNumber(b))}
		}
	case "multipleOf":
		if m, ok := numberOf(d["multipleOf"]); ok && m != 0 {
			if v, ok := numberOf(se.Value); ok {
				n := float64(int64(v/m+0.5)) * m
				return &Fix{Value: asNumber(n), Description: fmt.Sprintf("use %v, the nearest multiple of %v", asNumber(n), asNumber(m))}
			}
		}
	case "type":
		want, _ := d["want"].([]string)
		return typeFix(se.Value, want)
	case "pattern":
		return &Fix{Description: fmt.Sprintf("use a value matching %v", d["pattern"])}
	case "minLength", "maxLength", "minItems", "maxItems":
		return &Fix{Description: fmt.Sprintf("respect %s %v", se.Keyword, d[se.Keyword])}
	case "format":
		return &Fix{Description: fmt.Sprintf("use a valid %v", d["format"])}
	case "additionalProperties":
		unexpected, _ := d["unexpected"].([]string)
		parent := schemaAt(p.Schema, parentSchemaLocation(se.KeywordLocation))
		return unknownKeyFix(parent, unexpected)
	}
	return nil
}

// typeFix converts value to the expected type when it can be.
func typeFix(value any, want []string) *Fix {
	if len(want) == 0 {
		return nil
	}
	for _, w := range want {
		switch w {
		case "integer":
			switch v := value.(type) {
			case string:
				if i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
					return &Fix{Value: i, Description: fmt.Sprintf("write the integer %d without quotes", i)}
				}
			case float64:
				return &Fix{Value: int64(v), Description: fmt.Sprintf("use the integer %d", int64(v))}
			}
		case "number":
			if v, ok := value.(string); ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					return &Fix{Value: asNumber(f), Description: fmt.Sprintf("write the number %v without quotes", asNumber(f))}
				}
			}
		case "boolean":
			if v, ok := value.(string); ok {
				if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
					return &Fix{Value: b, Description: fmt.Sprintf("write %t without quotes", b)}
				}
			}
		case "string":
			switch value.(type) {
			case int64, float64, bool, json.Number:
				s := fmt.Sprint(value)
				return &Fix{Value: s, Description: fmt.Sprintf("quote the value: %q", s)}
			}
		}
	}
	return &Fix{Description: "use a " + strings.Join(want, " or ")}
}

// unknownKeyFix proposes removing unexpected keys, naming the closest
// declared one.
func unknownKeyFix(parent map[string]any, unexpected []string) *Fix {
	props, _ := parent["properties"].(map[string]any)
	var declared []string
	for k := range props {
		declared = append(declared, k)
	}
	sort.Strings(declared)
	f := &Fix{Remove: true, Description: "remove the key"}
	if len(unexpected) == 1 {
		if best, ok := closest(unexpected[0], declared); ok {
			f.Description = fmt.Sprintf("remove the key, or rename it to %q (the closest declared key)", best)
		}
	}
	return f
}

// unknownKeyViolations reports keys the schema does not declare, in
// objects whose schema lists properties and leaves additionalProperties
// and patternProperties unset (values are closed by default).
func unknownKeyViolations(p *Parameters, effective Values, origins Origins) Violations {
	var out Violations
	var walk func(schemaLoc string, sch map[string]any, val any, ptr string)
	walk = func(schemaLoc string, sch map[string]any, val any, ptr string) {
		obj, ok := val.(map[string]any)
		if !ok || sch == nil {
			return
		}
		props, hasProps := sch["properties"].(map[string]any)
		_, hasAP := sch["additionalProperties"]
		_, hasPP := sch["patternProperties"]
		_, hasUP := sch["unevaluatedProperties"]
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := ptr + "/" + escapePointer(k)
			if ps, ok := props[k].(map[string]any); ok {
				loc := schemaLoc + "/properties/" + escapePointer(k)
				if ref, ok := ps["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
					loc = strings.TrimPrefix(ref, "#")
				}
				walk(loc, schemaAt(p.Schema, loc), obj[k], child)
				continue
			}
			if !hasProps || hasAP || hasPP || hasUP {
				continue
			}
			out = append(out, Violation{Layer: ValuesLayer, Path: child, Value: obj[k], HasValue: true, Rule: "unknown-key",
				DeclaredAt: declaredAt(p, schemaLoc+"/properties"),
				Message:    fmt.Sprintf("%q is not a declared value%s", k, originNote(origins, child)),
				Fix:        unknownKeyFix(sch, []string{k})})
		}
	}
	walk("", schemaAt(p.Schema, ""), map[string]any(effective), "")
	return out
}

// valuesErrorViolations explains a failure of layering the values: an
// unknown environment, or values that are not JSON-like.
func valuesErrorViolations(p *Parameters, ve *ValuesError, env string) Violations {
	if errors.Is(ve.Err, ErrUnknownEnvironment) {
		var envs []string
		for k := range p.Environments {
			envs = append(envs, k)
		}
		sort.Strings(envs)
		v := Violation{Layer: ValuesLayer, Path: "environment", Value: env, HasValue: true, Rule: "environment",
			DeclaredAt: declaredAt(p, "spec.environments"), Message: ve.Err.Error()}
		if best, ok := closest(env, envs); ok {
			v.Fix = &Fix{Value: best, Description: fmt.Sprintf("use %q, the closest declared environment", best)}
		}
		return Violations{v}
	}
	out := valueViolations(p, ve.Errors, nil, nil)
	if len(out) == 0 {
		out = Violations{{Layer: ValuesLayer, Path: "/", Rule: "values", DeclaredAt: declaredAt(p, ""), Message: ve.Error()}}
	}
	return out
}

// bindingViolation explains a value that could not be written where its
// binding says.
func bindingViolation(p *Parameters, be *BindingError, effective Values) Violation {
	ptr := "/" + strings.ReplaceAll(be.Binding.Value, ".", "/")
	v := Violation{Layer: ValuesLayer, Path: ptr, Rule: "binding", File: be.File,
		DeclaredAt: declaredAt(p, fmt.Sprintf("spec.bindings[%d]", be.Index)), Message: be.Error()}
	v.Value, v.HasValue = effective.Get(be.Binding.Value)
	return v
}

// templateActionRE finds the action a template failed at.
var (
	templateActionRE  = regexp.MustCompile(`at <([^>]*)>`)
	templateStartedRE = regexp.MustCompile(`started at [^:]+:(\d+)`)
)

// runTemplateLayer executes every template, reporting every failure, and
// returns the files with each template that ran replaced by its output.
func runTemplateLayer(files map[string]string, data TemplateData, declared func(dotted string) bool, outputs map[string]string) (LayerReport, map[string]string) {
	rep := LayerReport{Layer: TemplateLayer}
	out := maps.Clone(files)
	for _, p := range sortedKeys(files) {
		if !strings.HasSuffix(p, TemplateSuffix) {
			continue
		}
		rep.Ran = true
		target := strings.TrimSuffix(p, TemplateSuffix)
		fail := func(v Violation) {
			v.Layer, v.File = TemplateLayer, p
			if v.DeclaredAt == "" {
				v.DeclaredAt = "text/template with blueprint.TemplateFuncs"
			}
			rep.Violations = append(rep.Violations, v)
		}
		if _, exists := files[target]; exists {
			fail(Violation{Path: ".", Value: target, HasValue: true, Rule: "template.output-exists", Line: 1, Column: 1,
				Message: fmt.Sprintf("output file %s already exists in the package", target),
				Fix:     &Fix{Description: "rename the template or remove " + target}})
			continue
		}
		if !strings.HasSuffix(target, ".yaml") && !strings.HasSuffix(target, ".yml") {
			fail(Violation{Path: ".", Value: target, HasValue: true, Rule: "template.output-name", Line: 1, Column: 1,
				Message: "a template's output file must end .yaml or .yml",
				Fix:     &Fix{Value: target + ".yaml", Description: "name the template " + target + ".yaml" + TemplateSuffix}})
			continue
		}
		text, err := executeTemplate(p, files[p], data)
		if err != nil {
			fail(templateViolation(p, files[p], err, data.Values, declared))
			delete(out, p)
			continue
		}
		delete(out, p)
		out[target] = text
		outputs[target] = p
	}
	rep.Violations.Sort()
	return rep, out
}

// templateViolation explains a template failure: where (file, line,
// column), the action it failed at (a .Values path becomes a JSON
// pointer), and, for a missing value key, the closest declared one.
func templateViolation(file, src string, err error, values Values, declared func(dotted string) bool) Violation {
	v := Violation{Rule: "template.execute", Path: ".", Message: err.Error()}
	var te *TemplateError
	if errors.As(err, &te) {
		v.Line, v.Column = te.Line, te.Column
		v.Message = te.Err.Error()
		var ee template.ExecError
		if !errors.As(te.Err, &ee) {
			v.Rule = "template.parse"
		}
	}
	if m := templateStartedRE.FindStringSubmatch(v.Message); m != nil {
		// An unclosed action: point at where it starts.
		v.Line, _ = strconv.Atoi(m[1])
		v.Column = 0
	}
	if v.Line > 0 {
		if lines := strings.Split(src, "\n"); v.Line <= len(lines) && strings.TrimSpace(lines[v.Line-1]) != "" {
			v.Value, v.HasValue = strings.TrimSpace(lines[v.Line-1]), true
		}
	}
	if m := templateActionRE.FindStringSubmatch(v.Message); m != nil {
		action := m[1]
		v.Value, v.HasValue = action, true
		if rest, ok := strings.CutPrefix(action, ".Values."); ok {
			v.Path = "/" + strings.ReplaceAll(rest, ".", "/")
			parentPath, key := "", rest
			if i := strings.LastIndex(rest, "."); i >= 0 {
				parentPath, key = rest[:i], rest[i+1:]
			}
			parent := map[string]any(values)
			if parentPath != "" {
				got, _ := values.Get(parentPath)
				parent, _ = got.(map[string]any)
			}
			var keys []string
			for k := range parent {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if _, present := parent[key]; !present && !declared(rest) {
				if best, ok := closest(key, keys); ok {
					full := best
					if parentPath != "" {
						full = parentPath + "." + best
					}
					v.Fix = &Fix{Value: ".Values." + full, Description: fmt.Sprintf("use .Values.%s, the closest value", full)}
				}
			}
		} else {
			v.Path = action
		}
	}
	if !v.HasValue {
		first, _, _ := strings.Cut(src, "\n")
		v.Value, v.HasValue = first, true
	}
	return v
}
