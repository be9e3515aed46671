package blueprint

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Validation sentinels. A *Violations error wraps ErrValidation and, for
// each layer that found something, that layer's sentinel, so callers can
// branch with errors.Is on the kind of problem.
var (
	// ErrValidation means a package or its values failed validation; the
	// error is a Violations listing every problem.
	ErrValidation = errors.New("blueprint: validation failed")
	// ErrSchemaViolation means a resource of a built-in kind does not match
	// its OpenAPI schema.
	ErrSchemaViolation = errors.New("blueprint: resource violates its OpenAPI schema")
	// ErrPolicyViolation means a compliance policy rejected a resource.
	ErrPolicyViolation = errors.New("blueprint: policy violation")
	// ErrValidatorFailed means a validator of the Kptfile pipeline reported
	// errors.
	ErrValidatorFailed = errors.New("blueprint: pipeline validator failed")
	// ErrInvalidPolicy means a policy does not compile or is malformed; see
	// *PolicyError.
	ErrInvalidPolicy = errors.New("blueprint: invalid policy")
)

// ValidationLayer names one validation layer. Validate runs them in the order of
// ValidationLayers and reports each separately.
type ValidationLayer string

// The validation layers, in the order they run.
const (
	// ValuesLayer checks the values against the Parameters schema.
	ValuesLayer ValidationLayer = "values"
	// TemplateLayer executes the package's .tmpl files.
	TemplateLayer ValidationLayer = "template"
	// YAMLLayer parses every resource file.
	YAMLLayer ValidationLayer = "yaml"
	// KRMLayer checks apiVersion, kind and metadata.name and duplicates.
	KRMLayer ValidationLayer = "krm"
	// OpenAPILayer checks built-in kinds against the Kubernetes OpenAPI
	// schema, through krm's catalog schema validator.
	OpenAPILayer ValidationLayer = "openapi"
	// PolicyLayer evaluates the CEL compliance policies.
	PolicyLayer ValidationLayer = "policy"
	// PipelineLayer runs the Kptfile's validators.
	PipelineLayer ValidationLayer = "pipeline"
)

// ValidationLayers lists every layer in the order Validate runs and reports them.
var ValidationLayers = []ValidationLayer{ValuesLayer, TemplateLayer, YAMLLayer, KRMLayer, OpenAPILayer, PolicyLayer, PipelineLayer}

func layerRank(l ValidationLayer) int {
	for i, x := range ValidationLayers {
		if x == l {
			return i
		}
	}
	return len(ValidationLayers)
}

// Violation is one problem found by validation, with everything needed to
// explain and fix it: where (path, file, line, column, resource), what (the
// offending value), why (the rule and where it is declared) and how to fix
// it (Fix, when one can be computed).
type Violation struct {
	// Layer is the layer that found it.
	Layer ValidationLayer `json:"layer"`
	// Path locates the offending value: a JSON pointer into the values for
	// the values layer ("/replicas", "/region"), a field path inside
	// Resource otherwise ("spec.replicas",
	// "spec.template.spec.containers[0].image",
	// "metadata.annotations['kpt.dev/injected-resource']"). A missing
	// required key's path is the key's own path.
	Path string `json:"path"`
	// Resource names the resource the path is in (nil for values and for
	// a file that is not KRM).
	Resource *yaml.ResourceIdentifier `json:"resource,omitempty"`
	// File is the package file ("" for values given by the caller); Line
	// and Column are 1-based positions in it (0 when unknown).
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Value is the offending value; HasValue is false when there is none
	// at Path (a missing key), which tells that case from a null value.
	Value    any  `json:"value,omitempty"`
	HasValue bool `json:"hasValue"`
	// Rule names what was violated: a JSON Schema keyword ("enum",
	// "minimum"), a structure rule ("krm.name-required"), an OpenAPI rule
	// ("openapi.type"), a policy name, or a validator image.
	Rule string `json:"rule"`
	// DeclaredAt is where the rule is declared: a schema keyword location
	// ("parameters.yaml#/properties/replicas/minimum"), a policy
	// ("policies/nephio-nf.yaml#ha-replicas"), or the validator's image.
	DeclaredAt string `json:"declaredAt"`
	// Message explains the violation in one sentence.
	Message string `json:"message"`
	// Fix is a suggested correction, when one can be computed.
	Fix *Fix `json:"fix,omitempty"`
}

// Fix is a suggested correction for a violation: the value to put at the
// violation's path (the closest enum value, the bound of a range, the
// expected type's conversion, the missing key's default) or, when Remove
// is set, the advice to delete it.
type Fix struct {
	// Value is the proposed value (nil when Remove is set or only a
	// description can be given).
	Value any `json:"value,omitempty"`
	// Remove proposes deleting the value at the path (an unknown key).
	Remove bool `json:"remove,omitempty"`
	// Description says what to do, in words.
	Description string `json:"description"`
}

// String formats v on one line: file:line:column, layer, path, value,
// message, rule and fix.
func (v Violation) String() string {
	var b strings.Builder
	if v.File != "" {
		b.WriteString(v.File)
		if v.Line > 0 {
			fmt.Fprintf(&b, ":%d", v.Line)
			if v.Column > 0 {
				fmt.Fprintf(&b, ":%d", v.Column)
			}
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "[%s] ", v.Layer)
	if v.Resource != nil {
		fmt.Fprintf(&b, "%s/%s ", v.Resource.Kind, v.Resource.Name)
	}
	b.WriteString(displayPath(v.Path))
	if v.HasValue {
		fmt.Fprintf(&b, " = %s", formatValue(v.Value))
	} else {
		b.WriteString(" (absent)")
	}
	fmt.Fprintf(&b, ": %s (rule %s at %s)", v.Message, v.Rule, v.DeclaredAt)
	if v.Fix != nil {
		fmt.Fprintf(&b, "; fix: %s", v.Fix.Description)
	}
	return b.String()
}

func displayPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// formatValue renders a value compactly for messages and kpt results.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	default:
		return fmt.Sprintf("%v", x)
	}
}

// Violations is the error validation returns: every violation found, in
// the deterministic order of Sort (layer, then file, line, column, path,
// rule). It wraps ErrValidation and the sentinel of each layer present.
type Violations []Violation

// Error lists every violation, one per line after a summary.
func (vs Violations) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "blueprint: %d validation violation(s)", len(vs))
	for _, v := range vs {
		b.WriteString("\n  ")
		b.WriteString(v.String())
	}
	return b.String()
}

// Unwrap returns ErrValidation and the sentinel of every layer that has a
// violation, for errors.Is.
func (vs Violations) Unwrap() []error {
	out := []error{ErrValidation}
	seen := map[error]bool{}
	for _, v := range vs {
		s := layerSentinel(v.Layer)
		if s != nil && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// layerSentinel is the sentinel a layer's violations wrap.
func layerSentinel(l ValidationLayer) error {
	switch l {
	case ValuesLayer:
		return ErrInvalidValues
	case TemplateLayer:
		return ErrTemplate
	case YAMLLayer, KRMLayer:
		return ErrNotKRM
	case OpenAPILayer:
		return ErrSchemaViolation
	case PolicyLayer:
		return ErrPolicyViolation
	case PipelineLayer:
		return ErrValidatorFailed
	}
	return nil
}

// Sort orders vs deterministically: by layer (in the order of ValidationLayers),
// file, line, column, path, rule, then message.
func (vs Violations) Sort() {
	sort.SliceStable(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if ra, rb := layerRank(a.Layer), layerRank(b.Layer); ra != rb {
			return ra < rb
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// Layer returns the violations of one layer, in order.
func (vs Violations) Layer(l ValidationLayer) Violations {
	var out Violations
	for _, v := range vs {
		if v.Layer == l {
			out = append(out, v)
		}
	}
	return out
}

// Result renders v as a kpt function result (kpt's fnresult ResultItem,
// as kyaml models it): severity error, the message, the resource, the
// file, and field.path with currentValue and proposedValue. ValidationLayer, rule,
// where the rule is declared, line and column go into tags, which the
// format keeps as a string map.
func (v Violation) Result() *framework.Result {
	r := &framework.Result{
		Severity:    framework.Error,
		Message:     v.Message,
		ResourceRef: v.Resource,
		Tags: map[string]string{
			"layer":      string(v.Layer),
			"rule":       v.Rule,
			"declaredAt": v.DeclaredAt,
		},
	}
	field := &framework.Field{Path: v.Path}
	if v.HasValue {
		field.CurrentValue = v.Value
	}
	if v.Fix != nil {
		if v.Fix.Value != nil {
			field.ProposedValue = v.Fix.Value
		}
		r.Tags["fix"] = v.Fix.Description
	}
	r.Field = field
	if v.File != "" {
		r.File = &framework.File{Path: v.File}
	}
	if v.Line > 0 {
		r.Tags["line"] = strconv.Itoa(v.Line)
	}
	if v.Column > 0 {
		r.Tags["column"] = strconv.Itoa(v.Column)
	}
	return r
}

// Results renders every violation as kpt function results, in order, for
// a ResourceList's results or a Kptfile-style report.
func (vs Violations) Results() framework.Results {
	out := make(framework.Results, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.Result())
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// closest returns the candidate nearest to s by edit distance (case
// folded), the first one on ties, and false when there are none.
func closest(s string, candidates []string) (string, bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD >= 0
}
