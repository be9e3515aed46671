package intent

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"
)

// RulesAPIVersion and RulesKind identify a rules document.
const (
	RulesAPIVersion = "intent.porchkit.io/v1alpha1"
	RulesKind       = "Rules"
)

// celCostLimit bounds the work of one expression, so a rule cannot stall
// FromIntent.
const celCostLimit = 1_000_000

// Rule maps intents to a blueprint: when every condition in When holds,
// the rule matches, and the blueprint named by Blueprint is generated with
// Values overlaid by the results of ValueExprs.
type Rule struct {
	// Name identifies the rule in decisions and errors; unique in a set.
	Name string `json:"name"`
	// Description says what the rule is for.
	Description string `json:"description,omitempty"`
	// Priority orders matching rules: the highest wins, and a tie at the
	// top is an AmbiguousError.
	Priority int `json:"priority,omitempty"`
	// When holds CEL conditions over the variable intent; all must be true.
	// An empty list matches every intent.
	When []string `json:"when,omitempty"`
	// Blueprint names the blueprint and a semver constraint on its version.
	Blueprint BlueprintRef `json:"blueprint"`
	// Environment names the blueprint environment overlay; empty means the
	// intent's environment.
	Environment string `json:"environment,omitempty"`
	// Values are literal blueprint values; a key with dots ("plmn.mcc")
	// sets a nested value.
	Values map[string]any `json:"values,omitempty"`
	// ValueExprs are CEL expressions over intent whose results become
	// blueprint values; they are set after Values, in key order. An
	// expression that yields null sets nothing, leaving the value to the
	// blueprint's defaults and environment overlay.
	ValueExprs map[string]string `json:"valueExprs,omitempty"`

	when  []cel.Program
	exprs map[string]cel.Program
}

// BlueprintRef names a blueprint and the versions a rule accepts.
type BlueprintRef struct {
	// Name is the blueprint name in the catalog.
	Name string `json:"name"`
	// Version is a Masterminds semver constraint such as "^1.0.0"; empty
	// means any version (the newest).
	Version string `json:"version,omitempty"`
}

// Rules is an ordered, compiled rule set.
type Rules struct {
	source string
	rules  []*Rule
}

type rulesDocument struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	} `json:"metadata,omitempty"`
	Spec struct {
		Rules []*Rule `json:"rules"`
	} `json:"spec"`
}

//go:embed rules/*.yaml
var libraryRules embed.FS

// LibraryRules returns the rules that map intents for AMF, SMF, UPF and NRF
// to porchkit's shipped example blueprints (package blueprint/library).
func LibraryRules() *Rules {
	r, err := LoadRules(libraryRules, "rules")
	if err != nil {
		panic(err) // the shipped rules are checked by the package's tests
	}
	return r
}

// LoadRules reads every .yaml file under dir of fsys, in name order, and
// compiles the rules they hold, in file then document order.
func LoadRules(fsys fs.FS, dir string) (*Rules, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRules, err)
	}
	var all []*Rule
	var names []string
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		p := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidRules, err)
		}
		rs, err := parseRules(p, data)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
		names = append(names, p)
	}
	return compileRules(strings.Join(names, ","), all)
}

// ParseRules compiles the rules documents in data (one or more YAML
// documents of kind Rules); source names them in errors.
func ParseRules(source string, data []byte) (*Rules, error) {
	rs, err := parseRules(source, data)
	if err != nil {
		return nil, err
	}
	return compileRules(source, rs)
}

func parseRules(source string, data []byte) ([]*Rule, error) {
	docs := kyaml.NewDecoder(bytes.NewReader(data))
	var out []*Rule
	for i := 0; ; i++ {
		var node kyaml.Node
		if derr := docs.Decode(&node); derr != nil {
			if errors.Is(derr, io.EOF) {
				break
			}
			return nil, &RulesError{Source: source, Problems: []RuleProblem{{Rule: fmt.Sprintf("document %d", i), Field: "yaml", Err: derr}}}
		}
		raw, merr := kyaml.NewRNode(&node).MarshalJSON()
		if merr != nil {
			return nil, &RulesError{Source: source, Problems: []RuleProblem{{Rule: fmt.Sprintf("document %d", i), Field: "yaml", Err: merr}}}
		}
		if string(raw) == "null" {
			continue
		}
		var doc rulesDocument
		if uerr := yaml.UnmarshalStrict(raw, &doc); uerr != nil {
			return nil, &RulesError{Source: source, Problems: []RuleProblem{{Rule: fmt.Sprintf("document %d", i), Field: "yaml", Err: uerr}}}
		}
		if doc.APIVersion != RulesAPIVersion || doc.Kind != RulesKind {
			return nil, &RulesError{Source: source, Problems: []RuleProblem{{Rule: fmt.Sprintf("document %d", i), Field: "apiVersion/kind",
				Err: fmt.Errorf("got %s %s, want %s %s", doc.APIVersion, doc.Kind, RulesAPIVersion, RulesKind)}}}
		}
		out = append(out, doc.Spec.Rules...)
	}
	return out, nil
}

// NewRules compiles rules given in Go; the slice's order is the rule order.
func NewRules(rules ...Rule) (*Rules, error) {
	rs := make([]*Rule, len(rules))
	for i := range rules {
		r := rules[i]
		rs[i] = &r
	}
	return compileRules("NewRules", rs)
}

func celEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("intent", cel.MapType(cel.StringType, cel.DynType)),
		ext.Strings(), ext.Math(), ext.Lists(), ext.Sets(),
	)
}

func compileRules(source string, rules []*Rule) (*Rules, error) {
	env, err := celEnv()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRules, err)
	}
	var problems []RuleProblem
	seen := map[string]bool{}
	for i, r := range rules {
		id := r.Name
		if id == "" {
			id = fmt.Sprintf("#%d", i)
			problems = append(problems, RuleProblem{Rule: id, Field: "name", Err: errors.New("is required")})
		} else if seen[id] {
			problems = append(problems, RuleProblem{Rule: id, Field: "name", Err: errors.New("is not unique")})
		}
		seen[id] = true
		if r.Blueprint.Name == "" {
			problems = append(problems, RuleProblem{Rule: id, Field: "blueprint.name", Err: errors.New("is required")})
		}
		if r.Blueprint.Version != "" {
			if _, verr := semver.NewConstraint(r.Blueprint.Version); verr != nil {
				problems = append(problems, RuleProblem{Rule: id, Field: "blueprint.version", Err: verr})
			}
		}
		r.when = make([]cel.Program, len(r.When))
		for j, src := range r.When {
			prg, cerr := compile(env, src, true)
			if cerr != nil {
				problems = append(problems, RuleProblem{Rule: id, Field: fmt.Sprintf("when[%d]", j), Err: cerr})
				continue
			}
			r.when[j] = prg
		}
		r.exprs = make(map[string]cel.Program, len(r.ValueExprs))
		for _, key := range sortedKeys(r.ValueExprs) {
			if key == "" {
				problems = append(problems, RuleProblem{Rule: id, Field: "valueExprs", Err: errors.New("has an empty key")})
				continue
			}
			prg, cerr := compile(env, r.ValueExprs[key], false)
			if cerr != nil {
				problems = append(problems, RuleProblem{Rule: id, Field: "valueExprs." + key, Err: cerr})
				continue
			}
			r.exprs[key] = prg
		}
		for key := range r.Values {
			if key == "" {
				problems = append(problems, RuleProblem{Rule: id, Field: "values", Err: errors.New("has an empty key")})
			}
		}
	}
	if len(problems) > 0 {
		return nil, &RulesError{Source: source, Problems: problems}
	}
	return &Rules{source: source, rules: rules}, nil
}

func compile(env *cel.Env, src string, boolean bool) (cel.Program, error) {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if boolean && ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("condition %q has type %s, want bool", src, ast.OutputType())
	}
	return env.Program(ast, cel.CostLimit(celCostLimit), cel.EvalOptions(cel.OptOptimize))
}

// Rules returns the rules in order; callers must not change them.
func (rs *Rules) Rules() []*Rule { return rs.rules }

// Source names where the rules were loaded from.
func (rs *Rules) Source() string { return rs.source }

// Decision is the outcome of matching an intent against rules.
type Decision struct {
	// Rule is the chosen rule.
	Rule *Rule
	// Blueprint is the chosen blueprint and version constraint.
	Blueprint BlueprintRef
	// Environment is the blueprint environment overlay to apply.
	Environment string
	// Values are the blueprint values the rule computed.
	Values map[string]any
	// Matched names every matching rule, highest priority first.
	Matched []string
	// Rejected says why each other rule did not match, in rule order.
	Rejected []Rejection
}

// Decide validates in and picks the rule for it: the matching rule with
// the highest priority, a NoMatchError when none matches, or an
// AmbiguousError when the top priority is shared.
func (rs *Rules) Decide(in Intent) (*Decision, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	act := map[string]any{"intent": in.celValue()}
	var matched []*Rule
	var rejected []Rejection
	for _, r := range rs.rules {
		var reasons []string
		for j, prg := range r.when {
			out, _, err := prg.Eval(act)
			switch {
			case err != nil:
				reasons = append(reasons, fmt.Sprintf("when[%d] %s failed: %v", j, r.When[j], err))
			case out.Type() != types.BoolType:
				reasons = append(reasons, fmt.Sprintf("when[%d] %s is %s, not a bool", j, r.When[j], out.Type().TypeName()))
			case out != types.True:
				reasons = append(reasons, fmt.Sprintf("when[%d] %s is false", j, r.When[j]))
			}
		}
		if len(reasons) > 0 {
			rejected = append(rejected, Rejection{Rule: r.Name, Reasons: reasons})
		} else {
			matched = append(matched, r)
		}
	}
	if len(matched) == 0 {
		return nil, &NoMatchError{Intent: fmt.Sprintf("%s (%s)", in.Name, in.NetworkFunction), Rejections: rejected}
	}
	sort.SliceStable(matched, func(i, j int) bool { return matched[i].Priority > matched[j].Priority })
	if len(matched) > 1 && matched[1].Priority == matched[0].Priority {
		amb := &AmbiguousError{Priority: matched[0].Priority}
		for _, m := range matched {
			if m.Priority == matched[0].Priority {
				amb.Rules = append(amb.Rules, m.Name)
			}
		}
		sort.SliceStable(amb.Rules, func(i, j int) bool { return rs.index(amb.Rules[i]) < rs.index(amb.Rules[j]) })
		return nil, amb
	}
	chosen := matched[0]
	values := map[string]any{}
	for _, key := range sortedKeys(chosen.Values) {
		setPath(values, key, deepCopy(chosen.Values[key]))
	}
	for _, key := range sortedKeys(chosen.ValueExprs) {
		out, _, err := chosen.exprs[key].Eval(act)
		if err != nil {
			return nil, &ValueError{Rule: chosen.Name, Key: key, Expr: chosen.ValueExprs[key], Err: err}
		}
		if out.Type() == types.NullType {
			continue // null leaves the value to the blueprint's defaults and overlays
		}
		v, err := native(out)
		if err != nil {
			return nil, &ValueError{Rule: chosen.Name, Key: key, Expr: chosen.ValueExprs[key], Err: err}
		}
		setPath(values, key, v)
	}
	d := &Decision{Rule: chosen, Blueprint: chosen.Blueprint, Environment: chosen.Environment, Values: values, Rejected: rejected}
	if d.Environment == "" {
		d.Environment = string(in.Environment)
	}
	for _, m := range matched {
		d.Matched = append(d.Matched, m.Name)
	}
	return d, nil
}

func (rs *Rules) index(name string) int {
	for i, r := range rs.rules {
		if r.Name == name {
			return i
		}
	}
	return len(rs.rules)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// setPath sets m[a][b]... for the dotted key "a.b...", creating maps.
func setPath(m map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}

// native converts a CEL result to the JSON-shaped Go values blueprints
// take: integers stay int64, maps are keyed by string.
func native(v ref.Val) (any, error) {
	switch v.Type() {
	case types.NullType:
		return nil, nil
	case types.BoolType, types.IntType, types.DoubleType, types.StringType:
		return v.Value(), nil
	case types.UintType:
		return int64(v.Value().(uint64)), nil
	case types.ListType:
		l := v.(traits.Lister)
		n, _ := l.Size().Value().(int64)
		out := make([]any, 0, n)
		for it := l.Iterator(); it.HasNext() == types.True; {
			e, err := native(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case types.MapType:
		m := v.(traits.Mapper)
		out := map[string]any{}
		for it := m.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.Value().(string)
			if !ok {
				return nil, fmt.Errorf("map key %v is %s, want string", k.Value(), k.Type().TypeName())
			}
			e, err := native(m.Get(k))
			if err != nil {
				return nil, err
			}
			out[ks] = e
		}
		return out, nil
	}
	if types.IsError(v) {
		return nil, fmt.Errorf("%v", v)
	}
	return nil, fmt.Errorf("value of CEL type %s (%v) cannot be a blueprint value", v.Type().TypeName(), reflect.TypeOf(v.Value()))
}
