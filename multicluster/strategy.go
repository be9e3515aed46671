package multicluster

import (
	"fmt"
	"slices"
	"time"
)

// StrategyType names a propagation strategy.
type StrategyType string

// Strategies.
const (
	// StrategySequential: one cluster at a time, each gated before the next.
	StrategySequential StrategyType = "Sequential"
	// StrategyParallel: all clusters in one wave, MaxConcurrency at a time.
	StrategyParallel StrategyType = "Parallel"
	// StrategyCanary: a mandatory first wave (named clusters or FirstPercent),
	// then waves of StepPercent, with MinSuccessTime soaks and analysis
	// between waves.
	StrategyCanary StrategyType = "Canary"
	// StrategyBlueGreen: per cluster, a green copy of the workloads beside blue,
	// verified, then Services switched to it and blue removed; a failing
	// green is removed and blue keeps serving.
	StrategyBlueGreen StrategyType = "BlueGreen"
)

// FailurePolicy says what a failed gate does.
type FailurePolicy string

// Failure policies.
const (
	// FailureHalt stops the rollout where it is.
	FailureHalt FailurePolicy = "Halt"
	// FailureRollback returns every touched cluster to its last-known-good
	// revision.
	FailureRollback FailurePolicy = "Rollback"
)

// IntOrPercent is a count or a percentage of the clusters.
type IntOrPercent struct {
	// Value is the count, or the percentage (0-100) when Percent is set.
	Value int
	// Percent makes Value a percentage of the clusters.
	Percent bool
}

// Count is an absolute number of clusters.
func Count(n int) IntOrPercent { return IntOrPercent{Value: n} }

// Percent is a percentage of the clusters (0-100).
func Percent(p int) IntOrPercent { return IntOrPercent{Value: p, Percent: true} }

// Of resolves the value against total clusters: a percentage rounds down,
// but a non-zero percentage is at least one cluster.
func (v IntOrPercent) Of(total int) int {
	if !v.Percent {
		return v.Value
	}
	n := total * v.Value / 100
	if n == 0 && v.Value > 0 && total > 0 {
		n = 1
	}
	return n
}

// String shows the value as "3" or "25%".
func (v IntOrPercent) String() string {
	if v.Percent {
		return fmt.Sprintf("%d%%", v.Value)
	}
	return fmt.Sprint(v.Value)
}

func (v IntOrPercent) validate(field string) error {
	if v.Value < 0 {
		return fieldError(ErrInvalidStrategy, field, "negative: %s", v)
	}
	if v.Percent && v.Value > 100 {
		return fieldError(ErrInvalidStrategy, field, "over 100%%: %s", v)
	}
	return nil
}

// Defaults of a Strategy; every one is a field that can be set.
const (
	// DefaultProgressDeadline is how long a cluster may take from delivery
	// to Available before it counts as failed.
	DefaultProgressDeadline = 10 * time.Minute
	// DefaultPollInterval is how often gates look at a cluster.
	DefaultPollInterval = 2 * time.Second
	// DefaultCanaryFirstPercent is the first canary wave when neither
	// MandatoryClusters nor FirstPercent is set.
	DefaultCanaryFirstPercent = 10
	// DefaultCanaryStepPercent is the size of later canary waves.
	DefaultCanaryStepPercent = 25
)

// Strategy is how a package is rolled out. The knobs are named as Open
// Cluster Management names them. Zero values take the documented defaults.
type Strategy struct {
	// Type is the strategy: Sequential, Parallel, Canary or BlueGreen.
	Type StrategyType
	// MaxConcurrency bounds the clusters delivered to at once within a
	// wave (default: all of the wave; Sequential is always 1).
	MaxConcurrency IntOrPercent
	// MinSuccessTime is the soak after each successful wave before the
	// next starts; analysis runs during it (default 0).
	MinSuccessTime time.Duration
	// ProgressDeadline: a cluster not Available this long after delivery
	// failed (default DefaultProgressDeadline).
	ProgressDeadline time.Duration
	// MaxFailures is how many clusters may fail (count, or percent of all
	// targets) before the gate fails (default 0). Unreachable clusters
	// count; suspended ones do not. A failure in a canary's first wave
	// always fails the gate. With Groups, each decision group also has a
	// budget of its own (Groups.MaxFailures).
	MaxFailures IntOrPercent
	// OnFailure is what a failed gate does (default FailureRollback).
	OnFailure FailurePolicy
	// Canary configures the Canary strategy.
	Canary CanaryStrategy
	// Analysis checks run between waves (during MinSuccessTime, at least
	// once).
	Analysis []Analysis
	// PollInterval is how often gates observe clusters (default
	// DefaultPollInterval).
	PollInterval time.Duration
	// SpreadBy orders the targets round-robin over the values of a key
	// ("region", "zone", "environment" or a label key), so that every wave
	// (a canary's first one included) covers as many of its values as its
	// size allows, instead of taking the clusters in name order (default
	// "": name order).
	SpreadBy string
	// Groups cuts the targets into decision groups that waves never
	// straddle, rolled out one after the other, each with its own failure
	// budget (default: no groups, one budget for all).
	Groups GroupStrategy
	// ApprovalBefore lists the waves (by index) that wait for
	// Propagator.Approve before they start (default: none waits).
	ApprovalBefore []int
	// Webhooks are called before, between and after the waves (default:
	// none).
	Webhooks []Webhook
	// Suspended are clusters held from the start, as if Propagator.Suspend
	// had been called for them (default: none).
	Suspended []string
}

// CanaryStrategy shapes a canary's waves (Strategy.Canary).
type CanaryStrategy struct {
	// MandatoryClusters form the first wave, which must fully succeed.
	MandatoryClusters []string
	// FirstPercent sizes the first wave when MandatoryClusters is empty
	// (default DefaultCanaryFirstPercent).
	FirstPercent int
	// StepPercent sizes each later wave (default
	// DefaultCanaryStepPercent).
	StepPercent int
}

// withDefaults returns s with zero values replaced by defaults.
func (s Strategy) withDefaults() Strategy {
	if s.ProgressDeadline == 0 {
		s.ProgressDeadline = DefaultProgressDeadline
	}
	if s.PollInterval == 0 {
		s.PollInterval = DefaultPollInterval
	}
	if s.OnFailure == "" {
		s.OnFailure = FailureRollback
	}
	if s.Type == StrategyCanary {
		if s.Canary.FirstPercent == 0 && len(s.Canary.MandatoryClusters) == 0 {
			s.Canary.FirstPercent = DefaultCanaryFirstPercent
		}
		if s.Canary.StepPercent == 0 {
			s.Canary.StepPercent = DefaultCanaryStepPercent
		}
	}
	return s
}

// Validate checks the strategy's numbers; errors are *FieldError wrapping
// ErrInvalidStrategy.
func (s Strategy) Validate() error {
	switch s.Type {
	case StrategySequential, StrategyParallel, StrategyCanary, StrategyBlueGreen:
	case "":
		return fieldError(ErrInvalidStrategy, "type", "missing (Sequential, Parallel, Canary or BlueGreen)")
	default:
		return fieldError(ErrInvalidStrategy, "type", "unknown %q", s.Type)
	}
	if err := s.MaxConcurrency.validate("maxConcurrency"); err != nil {
		return err
	}
	if err := s.MaxFailures.validate("maxFailures"); err != nil {
		return err
	}
	for name, d := range map[string]time.Duration{"minSuccessTime": s.MinSuccessTime, "progressDeadline": s.ProgressDeadline, "pollInterval": s.PollInterval} {
		if d < 0 {
			return fieldError(ErrInvalidStrategy, name, "negative: %s", d)
		}
	}
	switch s.OnFailure {
	case "", FailureHalt, FailureRollback:
	default:
		return fieldError(ErrInvalidStrategy, "onFailure", "unknown %q (Halt or Rollback)", s.OnFailure)
	}
	for name, p := range map[string]int{"canary.firstPercent": s.Canary.FirstPercent, "canary.stepPercent": s.Canary.StepPercent} {
		if p < 0 || p > 100 {
			return fieldError(ErrInvalidStrategy, name, "%d is not a percentage", p)
		}
	}
	if s.Type != StrategyCanary && (len(s.Canary.MandatoryClusters) > 0 || s.Canary.FirstPercent > 0 || s.Canary.StepPercent > 0) {
		return fieldError(ErrInvalidStrategy, "canary", "set for a %s strategy", s.Type)
	}
	for i, a := range s.Analysis {
		if err := a.validate(fmt.Sprintf("analysis[%d]", i)); err != nil {
			return err
		}
	}
	return s.validateKnobs()
}

func chunk(xs []string, size int) [][]string {
	var out [][]string
	for len(xs) > 0 {
		k := min(size, len(xs))
		out = append(out, slices.Clone(xs[:k]))
		xs = xs[k:]
	}
	return out
}
