package porch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
)

// ApproversAnnotation lists, comma-separated, who approved a revision; the
// RequireApprovers policy counts distinct names in it.
const ApproversAnnotation = "approval.porchkit.io/approvers"

// ErrApprovalDenied: an approval policy refused the transition.
var ErrApprovalDenied = errors.New("approval denied by policy")

// Policy decides whether a revision may be published. Policies are consulted
// by LifecycleManager before it approves; they do not call Porch themselves.
type Policy interface {
	Decide(ctx context.Context, req *ApprovalRequest) (Decision, error)
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(ctx context.Context, req *ApprovalRequest) (Decision, error)

// Decide implements Policy.
func (f PolicyFunc) Decide(ctx context.Context, req *ApprovalRequest) (Decision, error) {
	return f(ctx, req)
}

// Decision is a policy's answer.
type Decision struct {
	// Allowed reports whether the transition may happen.
	Allowed bool
	// Policy names the policy that decided.
	Policy string
	// Reason says why, for the audit record and the error.
	Reason string
}

// ApprovalRequest is what a policy sees.
type ApprovalRequest struct {
	// Revision is the revision to publish, as read just before deciding.
	Revision *porchapi.PackageRevision
	// Actor is who asks (LifecycleOptions.Actor).
	Actor string
	// Reader lists other revisions, for policies that compare.
	Reader PackageRevisionReader

	pull    func(ctx context.Context) (*Package, error)
	once    sync.Once
	pkg     *Package
	pullErr error
}

// Package returns the revision's files, read once per request.
func (r *ApprovalRequest) Package(ctx context.Context) (*Package, error) {
	r.once.Do(func() { r.pkg, r.pullErr = r.pull(ctx) })
	return r.pkg, r.pullErr
}

// DeniedError is returned when a policy refuses; it wraps ErrApprovalDenied.
type DeniedError struct {
	// Name is the package revision whose approval was refused.
	Name string
	// Decision is the policy's refusal.
	Decision Decision
}

// Error implements error.
func (e *DeniedError) Error() string {
	return fmt.Sprintf("porch: approve %q: denied by policy %s: %s", e.Name, e.Decision.Policy, e.Decision.Reason)
}

// Unwrap makes errors.Is(err, ErrApprovalDenied) true.
func (e *DeniedError) Unwrap() error { return ErrApprovalDenied }

// AllowAll approves everything; it is LifecycleManager's default.
func AllowAll() Policy {
	return PolicyFunc(func(context.Context, *ApprovalRequest) (Decision, error) {
		return Decision{Allowed: true, Policy: "allow-all", Reason: "no approval policy configured"}, nil
	})
}

// AutoApproveInitial approves the first revision of a package (no Published
// revision of it exists yet) and refuses later ones, which need another
// policy (combine with AnyOf).
func AutoApproveInitial() Policy {
	return PolicyFunc(func(ctx context.Context, req *ApprovalRequest) (Decision, error) {
		list, err := req.Reader.List(ctx, InRepository(req.Revision.Spec.RepositoryName), ForPackage(req.Revision.Spec.PackageName))
		if err != nil {
			return Decision{}, err
		}
		for _, pr := range list {
			if IsPublished(&pr) && pr.Spec.Revision > 0 && pr.Name != req.Revision.Name {
				return Decision{Policy: "auto-approve-initial", Reason: fmt.Sprintf("%s is already published as revision %d", pr.Spec.PackageName, pr.Spec.Revision)}, nil
			}
		}
		return Decision{Allowed: true, Policy: "auto-approve-initial", Reason: "first revision of the package"}, nil
	})
}

// RequireApprovers approves when ApproversAnnotation names at least n
// distinct approvers.
func RequireApprovers(n int) Policy {
	return PolicyFunc(func(_ context.Context, req *ApprovalRequest) (Decision, error) {
		seen := map[string]bool{}
		for _, a := range strings.Split(req.Revision.Annotations[ApproversAnnotation], ",") {
			if a = strings.TrimSpace(a); a != "" {
				seen[a] = true
			}
		}
		d := Decision{Policy: fmt.Sprintf("require-%d-approvers", n), Reason: fmt.Sprintf("%d of %d approvers recorded", len(seen), n)}
		d.Allowed = len(seen) >= n
		return d, nil
	})
}

// RequireCondition approves when the revision has condition condType with
// status True, for example the result of a validation run.
func RequireCondition(condType string) Policy {
	return PolicyFunc(func(_ context.Context, req *ApprovalRequest) (Decision, error) {
		for _, c := range req.Revision.Status.Conditions {
			if c.Type == condType {
				return Decision{Allowed: c.Status == porchapi.ConditionTrue, Policy: "require-condition " + condType,
					Reason: fmt.Sprintf("condition %s is %s: %s", condType, c.Status, c.Message)}, nil
			}
		}
		return Decision{Policy: "require-condition " + condType, Reason: "condition " + condType + " not reported"}, nil
	})
}

// AllOf approves when every policy does; the first refusal decides.
func AllOf(policies ...Policy) Policy {
	return PolicyFunc(func(ctx context.Context, req *ApprovalRequest) (Decision, error) {
		var reasons []string
		for _, p := range policies {
			d, err := p.Decide(ctx, req)
			if err != nil || !d.Allowed {
				return d, err
			}
			reasons = append(reasons, d.Policy+": "+d.Reason)
		}
		return Decision{Allowed: true, Policy: "all-of", Reason: strings.Join(reasons, "; ")}, nil
	})
}

// AnyOf approves when one policy does; if none does, all reasons are given.
func AnyOf(policies ...Policy) Policy {
	return PolicyFunc(func(ctx context.Context, req *ApprovalRequest) (Decision, error) {
		var reasons []string
		for _, p := range policies {
			d, err := p.Decide(ctx, req)
			if err != nil {
				return d, err
			}
			if d.Allowed {
				return d, nil
			}
			reasons = append(reasons, d.Policy+": "+d.Reason)
		}
		return Decision{Policy: "any-of", Reason: strings.Join(reasons, "; ")}, nil
	})
}

// celPolicy evaluates a CEL expression.
type celPolicy struct {
	expr       string
	program    cel.Program
	needsFiles bool
}

// CELPolicy compiles a CEL expression that must evaluate to a bool. It sees
// `revision` (the PackageRevision as JSON-shaped maps), `resources` (the
// package's KRM objects as maps) and `files` (path to file content), e.g.
//
//	revision.spec.packageName.startsWith("team-a/") &&
//	resources.all(r, r.kind != "Secret")
func CELPolicy(expr string) (Policy, error) {
	env, err := cel.NewEnv(
		cel.Variable("revision", cel.DynType),
		cel.Variable("resources", cel.ListType(cel.DynType)),
		cel.Variable("files", cel.MapType(cel.StringType, cel.StringType)),
	)
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, &Error{Op: "compile policy", Kind: ErrInvalid, Message: iss.Err().Error(), Err: iss.Err()}
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, newError("compile policy", "", ErrInvalid, "expression has type %s, want bool", ast.OutputType())
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, &Error{Op: "compile policy", Kind: ErrInvalid, Message: err.Error(), Err: err}
	}
	return &celPolicy{expr: expr, program: prg, needsFiles: strings.Contains(expr, "resources") || strings.Contains(expr, "files")}, nil
}

func (p *celPolicy) Decide(ctx context.Context, req *ApprovalRequest) (Decision, error) {
	rev, err := toMap(req.Revision)
	if err != nil {
		return Decision{}, err
	}
	vars := map[string]any{"revision": rev, "resources": []any{}, "files": map[string]string{}}
	if p.needsFiles {
		pkg, err := req.Package(ctx)
		if err != nil {
			return Decision{}, err
		}
		nodes, err := pkg.Nodes()
		if err != nil {
			return Decision{}, err
		}
		resources := make([]any, 0, len(nodes))
		for _, n := range nodes {
			m, err := n.Map()
			if err != nil {
				return Decision{}, err
			}
			resources = append(resources, m)
		}
		vars["resources"], vars["files"] = resources, pkg.Resources
	}
	out, _, err := p.program.ContextEval(ctx, vars)
	if err != nil {
		return Decision{Policy: "cel", Reason: "evaluation failed: " + err.Error()}, nil
	}
	ok, isBool := out.Value().(bool)
	if !isBool {
		return Decision{Policy: "cel", Reason: fmt.Sprintf("expression returned %T, not bool", out.Value())}, nil
	}
	reason := "expression holds: " + p.expr
	if !ok {
		reason = "expression is false: " + p.expr
	}
	return Decision{Allowed: ok, Policy: "cel", Reason: reason}, nil
}

func toMap(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(data, &m)
}
