package blueprint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

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
	rep.Layers = append(rep.Layers, yamlRep)
	rep.Layers = append(rep.Layers, runKRMLayer(resources))
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
