package intent

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for errors.Is; each typed error below matches one of them.
var (
	// ErrInvalidIntent: the intent has invalid fields (InvalidIntentError).
	ErrInvalidIntent = errors.New("intent: invalid intent")
	// ErrNoRuleMatched: no rule's conditions all hold (NoMatchError).
	ErrNoRuleMatched = errors.New("intent: no rule matches the intent")
	// ErrAmbiguousRules: several matching rules share the top priority (AmbiguousError).
	ErrAmbiguousRules = errors.New("intent: several rules match with the same priority")
	// ErrInvalidRules: a rule set does not parse or compile (RulesError).
	ErrInvalidRules = errors.New("intent: invalid rules")
	// ErrRuleEvaluation: a chosen rule's value expression failed (ValueError).
	ErrRuleEvaluation = errors.New("intent: rule evaluation failed")
)

// FieldError is one invalid field of an intent.
type FieldError struct {
	// Field is the field path, e.g. "plmn.mcc" or "slices[1].sd".
	Field string
	// Value is the offending value.
	Value any
	// Reason says what the field must be.
	Reason string
}

func (f FieldError) String() string {
	return fmt.Sprintf("%s: %q %s", f.Field, fmt.Sprint(f.Value), f.Reason)
}

// InvalidIntentError lists every invalid field of an intent at once.
type InvalidIntentError struct {
	Fields []FieldError
}

func (e *InvalidIntentError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	return fmt.Sprintf("%v: %s", ErrInvalidIntent, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrInvalidIntent) hold.
func (e *InvalidIntentError) Is(target error) bool { return target == ErrInvalidIntent }

// Rejection says why one rule did not match an intent.
type Rejection struct {
	// Rule is the rule's name.
	Rule string
	// Reasons lists each condition that was false or failed, with its text.
	Reasons []string
}

// NoMatchError reports that no rule matched, with every rule's rejection.
type NoMatchError struct {
	// Intent is the intent's name and network function, for the message.
	Intent string
	// Rejections has one entry per rule, in rule order.
	Rejections []Rejection
}

func (e *NoMatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %s", ErrNoRuleMatched, e.Intent)
	if len(e.Rejections) == 0 {
		b.WriteString(": the rule set is empty")
	}
	for _, r := range e.Rejections {
		fmt.Fprintf(&b, "; rule %q: %s", r.Rule, strings.Join(r.Reasons, ", "))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNoRuleMatched) hold.
func (e *NoMatchError) Is(target error) bool { return target == ErrNoRuleMatched }

// AmbiguousError reports matching rules that tie at the highest priority.
type AmbiguousError struct {
	// Priority is the shared priority.
	Priority int
	// Rules names the tied rules, in rule order.
	Rules []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%v: rules %s all match at priority %d; give one a higher priority or narrow their conditions",
		ErrAmbiguousRules, strings.Join(e.Rules, ", "), e.Priority)
}

// Is makes errors.Is(err, ErrAmbiguousRules) hold.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguousRules }

// RuleProblem is one defect of a rule set.
type RuleProblem struct {
	// Rule is the rule's name, or its index when it has none.
	Rule string
	// Field is the field of the rule, e.g. "when[0]" or "valueExprs.replicas".
	Field string
	// Err is the parse, compile or check failure.
	Err error
}

// RulesError lists every defect of a rule set.
type RulesError struct {
	// Source names where the rules came from.
	Source string
	// Problems lists the defects in rule order.
	Problems []RuleProblem
}

func (e *RulesError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = fmt.Sprintf("rule %s %s: %v", p.Rule, p.Field, p.Err)
	}
	return fmt.Sprintf("%v in %s: %s", ErrInvalidRules, e.Source, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrInvalidRules) hold.
func (e *RulesError) Is(target error) bool { return target == ErrInvalidRules }

// ValueError reports a value expression of the chosen rule that failed.
type ValueError struct {
	Rule string
	Key  string
	Expr string
	Err  error
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%v: rule %q value %s = %s: %v", ErrRuleEvaluation, e.Rule, e.Key, e.Expr, e.Err)
}

// Is makes errors.Is(err, ErrRuleEvaluation) hold.
func (e *ValueError) Is(target error) bool { return target == ErrRuleEvaluation }

// Unwrap returns the evaluation failure.
func (e *ValueError) Unwrap() error { return e.Err }
