package blueprint

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// PolicyAPIVersion and PolicyKind identify a compliance policy kept in a
// package (a local-config resource) or in a policy file.
const (
	PolicyAPIVersion = "blueprint.porchkit.io/v1alpha1"
	PolicyKind       = "Policy"
)

// Policy is a compliance rule over a package's resources, written as CEL
// expressions (data, not code) so blueprint authors and platform teams can
// add their own. For every resource Match selects, each field Fields names
// is checked with Rule; a field where Rule is false is a violation at that
// field's path, with the value found there and, when Fix is given, the
// proposed value.
//
// The expressions see:
//
//   - object: the resource, as a map;
//   - value: the field's value (null when absent), and present: whether
//     the field exists (Rule and Fix only);
//   - pkg: {"lifecycle": "Draft"|"Proposed"|"Published"|"",
//     "downstream": bool} — what is being validated;
//   - values: the blueprint values the package was generated with ({}
//     when none).
//
// Besides the standard library and the strings extension, closest(s,
// list) returns the element of list nearest to s by edit distance.
type Policy struct {
	// Name identifies the policy in violations (the rule name).
	Name string `yaml:"name" json:"name"`
	// Description says what the policy ensures and why.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Match is a CEL condition selecting the resources to check (empty:
	// every resource).
	Match string `yaml:"match,omitempty" json:"match,omitempty"`
	// Fields are the field paths checked in each selected resource:
	// "spec.replicas", "spec.template.spec.containers[*].image" (every
	// element), "metadata.annotations['kpt.dev/injected-resource']".
	Fields []string `yaml:"fields" json:"fields"`
	// Rule is a CEL condition that must hold for each field.
	Rule string `yaml:"rule" json:"rule"`
	// Message explains a violation.
	Message string `yaml:"message" json:"message"`
	// Fix is an optional CEL expression giving the proposed value.
	Fix string `yaml:"fix,omitempty" json:"fix,omitempty"`
	// FixDescription says how to fix a violation when no value can be
	// proposed (or in addition to it).
	FixDescription string `yaml:"fixDescription,omitempty" json:"fixDescription,omitempty"`
	// Source is where the policy is declared (file path; set by
	// ParsePolicies and by Validate for in-package policies).
	Source string `yaml:"-" json:"source,omitempty"`
}

// PolicyError reports a policy that cannot be used: no name, no field, or
// an expression that does not compile or does not yield a bool.
type PolicyError struct {
	// Policy and Source name the policy and where it is declared.
	Policy, Source string
	// Field is the policy's field at fault ("match", "rule", "fix",
	// "fields[1]").
	Field string
	// Err is the cause.
	Err error
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("blueprint: policy %q (%s): %s: %v", e.Policy, e.Source, e.Field, e.Err)
}

// Is reports ErrInvalidPolicy.
func (e *PolicyError) Is(target error) bool { return target == ErrInvalidPolicy }

// Unwrap returns the cause.
func (e *PolicyError) Unwrap() error { return e.Err }

//go:embed policies/*.yaml
var shippedPolicies embed.FS

// DefaultPolicies returns the policies porchkit ships for Nephio network
// function packages (policies/nephio-nf.yaml): HA network functions run
// at least 2 replicas, no :latest (or untagged) container or pipeline
// function images in Published packages, every required injection point
// is filled in a downstream package, Nephio requirement objects stay
// local-config, interfaces name a known CNI and a network instance, and
// capacities are positive. Each call returns new values.
func DefaultPolicies() []Policy {
	entries, err := shippedPolicies.ReadDir("policies")
	if err != nil {
		panic(fmt.Sprintf("blueprint: shipped policies: %v", err))
	}
	var out []Policy
	for _, e := range entries {
		name := "policies/" + e.Name()
		data, err := shippedPolicies.ReadFile(name)
		if err != nil {
			panic(fmt.Sprintf("blueprint: shipped policies: %v", err))
		}
		ps, err := ParsePolicies("blueprint/"+name, data)
		if err != nil {
			panic(fmt.Sprintf("blueprint: shipped policies: %v", err))
		}
		out = append(out, ps...)
	}
	return out
}

// policyResource is the YAML form of a Policy.
type policyResource struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec Policy `yaml:"spec"`
}

// ParsePolicies reads the Policy resources of a YAML file (other kinds are
// skipped), naming file as their source. The policies are not compiled;
// CompilePolicies does that.
func ParsePolicies(file string, data []byte) ([]Policy, error) {
	nodes, err := (&kio.ByteReader{Reader: strings.NewReader(string(data)), OmitReaderAnnotations: true}).Read()
	if err != nil {
		return nil, &PolicyError{Source: file, Field: "yaml", Err: err}
	}
	var out []Policy
	for _, n := range nodes {
		if n.GetKind() != PolicyKind || n.GetApiVersion() != PolicyAPIVersion {
			continue
		}
		p, err := policyFromNode(file, n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func policyFromNode(file string, n *yaml.RNode) (Policy, error) {
	var pr policyResource
	s, err := n.String()
	if err == nil {
		err = yaml.Unmarshal([]byte(s), &pr)
	}
	if err != nil {
		return Policy{}, &PolicyError{Policy: n.GetName(), Source: file, Field: "spec", Err: err}
	}
	p := pr.Spec
	if p.Name == "" {
		p.Name = pr.Metadata.Name
	}
	p.Source = file
	return p, nil
}

// PolicyContext is what the policies know about the package being
// validated.
type PolicyContext struct {
	// Lifecycle is the package revision's lifecycle ("Draft", "Proposed",
	// "Published"), or "" when it is not a Porch revision.
	Lifecycle string
	// Downstream is true for a generated (specialised) package, where
	// required injection points must be filled.
	Downstream bool
	// Values are the blueprint values the package was generated with.
	Values map[string]any
}

// PolicySet is a compiled set of policies, safe for concurrent use.
type PolicySet struct {
	policies []compiledPolicy
}

type compiledPolicy struct {
	Policy
	fields       [][]pathSeg
	match, rule  cel.Program
	fix          cel.Program
	hasMatch     bool
	hasFix       bool
	declaredAtID string
}

// policyEnv is the CEL environment policies compile in.
func policyEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("object", cel.DynType),
		cel.Variable("value", cel.DynType),
		cel.Variable("present", cel.BoolType),
		cel.Variable("pkg", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("values", cel.MapType(cel.StringType, cel.DynType)),
		cel.OptionalTypes(),
		ext.Strings(),
		cel.Function("closest",
			cel.Overload("closest_string_list_string", []*cel.Type{cel.StringType, cel.ListType(cel.StringType)}, cel.StringType,
				cel.BinaryBinding(celClosest))),
	)
}

func celClosest(s, list ref.Val) ref.Val {
	str, ok := s.Value().(string)
	if !ok {
		return types.NewErr("closest: not a string")
	}
	native, err := list.ConvertToNative(reflect.TypeOf([]string{}))
	if err != nil {
		return types.NewErr("closest: %v", err)
	}
	best, found := closest(str, native.([]string))
	if !found {
		return types.String(str)
	}
	return types.String(best)
}

// CompilePolicies compiles policies into a PolicySet. A policy without a
// name, fields or rule, a bad field path, or an expression that does not
// compile (or, for Match and Rule, is not a bool) is a *PolicyError
// (ErrInvalidPolicy); every policy is checked and the errors joined.
func CompilePolicies(policies []Policy) (*PolicySet, error) {
	env, err := policyEnv()
	if err != nil {
		return nil, err
	}
	set := &PolicySet{}
	var errs []error
	names := map[string]bool{}
	for _, p := range policies {
		fail := func(field string, err error) {
			errs = append(errs, &PolicyError{Policy: p.Name, Source: p.Source, Field: field, Err: err})
		}
		if p.Name == "" {
			fail("name", errors.New("is empty"))
			continue
		}
		if names[p.Source+"#"+p.Name] {
			fail("name", errors.New("is declared twice"))
			continue
		}
		names[p.Source+"#"+p.Name] = true
		cp := compiledPolicy{Policy: p, declaredAtID: p.Source + "#" + p.Name}
		if len(p.Fields) == 0 {
			fail("fields", errors.New("names no field"))
		}
		for i, f := range p.Fields {
			segs, err := parseFieldPath(f)
			if err == nil && len(segs) == 0 {
				err = errors.New("is empty")
			}
			if err != nil {
				fail(fmt.Sprintf("fields[%d]", i), err)
				continue
			}
			cp.fields = append(cp.fields, segs)
		}
		compile := func(field, expr string, wantBool bool) cel.Program {
			ast, iss := env.Compile(expr)
			if iss.Err() != nil {
				fail(field, iss.Err())
				return nil
			}
			if ot := ast.OutputType(); wantBool && !ot.IsExactType(cel.BoolType) && !ot.IsExactType(cel.DynType) {
				fail(field, fmt.Errorf("yields %s, not bool", ast.OutputType()))
				return nil
			}
			prg, err := env.Program(ast)
			if err != nil {
				fail(field, err)
				return nil
			}
			return prg
		}
		if p.Match != "" {
			cp.match, cp.hasMatch = compile("match", p.Match, true), true
		}
		if strings.TrimSpace(p.Rule) == "" {
			fail("rule", errors.New("is empty"))
		} else {
			cp.rule = compile("rule", p.Rule, true)
		}
		if p.Fix != "" {
			cp.fix, cp.hasFix = compile("fix", p.Fix, false), true
		}
		set.policies = append(set.policies, cp)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return set, nil
}

// policyResourceInput is one resource for Evaluate, with where it is.
type policyResourceInput struct {
	node *yaml.RNode
	file string
}

// Evaluate checks resources (parsed package resources; their
// config.kubernetes.io/path or internal.config.kubernetes.io/path
// annotation names the file) against every policy and returns the
// violations, sorted. An expression that fails at run time (a value of
// the wrong type) is itself a violation of that policy, saying why.
func (s *PolicySet) Evaluate(ctx context.Context, resources []*yaml.RNode, pc PolicyContext) (Violations, error) {
	in := make([]policyResourceInput, 0, len(resources))
	for _, n := range resources {
		in = append(in, policyResourceInput{node: n, file: resourcePath(n)})
	}
	return s.evaluate(ctx, in, pc)
}

func (s *PolicySet) evaluate(ctx context.Context, resources []policyResourceInput, pc PolicyContext) (Violations, error) {
	values := pc.Values
	if values == nil {
		values = map[string]any{}
	}
	pkg := map[string]any{"lifecycle": pc.Lifecycle, "downstream": pc.Downstream}
	var out Violations
	for _, r := range resources {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		obj, err := r.node.Map()
		if err != nil {
			continue
		}
		ref := resourceIdentifier(r.node)
		for _, p := range s.policies {
			vars := map[string]any{"object": obj, "pkg": pkg, "values": values, "value": nil, "present": false}
			if p.hasMatch {
				ok, err := evalBool(p.match, vars)
				if err != nil || !ok {
					continue
				}
			}
			for _, segs := range p.fields {
				for _, m := range expandField(obj, segs) {
					vars["value"], vars["present"] = m.value, m.present
					ok, evalErr := evalBool(p.rule, vars)
					if ok {
						continue
					}
					v := Violation{
						Layer: PolicyLayer, Path: formatFieldPath(m.segs), Resource: ref, File: r.file,
						Value: m.value, HasValue: m.present, Rule: p.Name, DeclaredAt: p.declaredAtID,
						Message: p.Message,
					}
					if evalErr != nil {
						v.Message = fmt.Sprintf("%s (the rule could not be evaluated: %v)", p.Message, evalErr)
					}
					if n, found := nodeAt(r.node.YNode(), m.segs); n != nil {
						v.Line, v.Column = n.Line, n.Column
						if !found && n.Kind == yaml.MappingNode && len(n.Content) > 0 {
							// A missing key is located at its parent mapping's first key.
							v.Line, v.Column = n.Content[0].Line, n.Content[0].Column
						}
					}
					v.Fix = p.fixFor(vars)
					out = append(out, v)
				}
			}
		}
	}
	out.Sort()
	return out, nil
}

// fixFor computes the policy's suggested fix for the current field.
func (p compiledPolicy) fixFor(vars map[string]any) *Fix {
	var f *Fix
	if p.hasFix && p.fix != nil {
		if val, _, err := p.fix.Eval(vars); err == nil && !types.IsError(val) {
			native := val.Value()
			if nv, err := val.ConvertToNative(reflect.TypeOf((*any)(nil)).Elem()); err == nil {
				native = nv
			}
			f = &Fix{Value: native, Description: fmt.Sprintf("set to %s", formatValue(native))}
		}
	}
	if p.FixDescription != "" {
		if f == nil {
			f = &Fix{}
		}
		if f.Description != "" {
			f.Description += ": "
		}
		f.Description += p.FixDescription
	}
	return f
}

func evalBool(prg cel.Program, vars map[string]any) (bool, error) {
	if prg == nil {
		return false, errors.New("expression did not compile")
	}
	val, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := val.Value().(bool)
	if !ok {
		return false, fmt.Errorf("yields %v, not a bool", val.Type())
	}
	return b, nil
}

// Policies returns the names of the compiled policies, sorted.
func (s *PolicySet) Policies() []string {
	out := make([]string, 0, len(s.policies))
	for _, p := range s.policies {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// resourceIdentifier names n in a violation.
func resourceIdentifier(n *yaml.RNode) *yaml.ResourceIdentifier {
	return &yaml.ResourceIdentifier{
		TypeMeta: yaml.TypeMeta{APIVersion: n.GetApiVersion(), Kind: n.GetKind()},
		NameMeta: yaml.NameMeta{Name: n.GetName(), Namespace: n.GetNamespace()},
	}
}

// resourcePath is the file a parsed resource came from, per kpt's path
// annotations.
func resourcePath(n *yaml.RNode) string {
	a := n.GetAnnotations()
	if p := a["internal.config.kubernetes.io/path"]; p != "" {
		return p
	}
	return a["config.kubernetes.io/path"]
}
