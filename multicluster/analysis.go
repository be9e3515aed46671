package multicluster

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Analysis is a check run between waves, the Flagger / Argo Rollouts model
// lifted to clusters: Check is evaluated every Interval while the wave
// soaks (at least once), and each evaluation is one of Argo Rollouts'
// results (AnalysisResult):
//
//   - Error: the check itself failed (Prometheus unreachable, say). It is
//     not a failed check: it is evaluated again (after Interval, or the
//     strategy's PollInterval) until it gives a value, and more than
//     ConsecutiveErrorLimit errors in a row fail the gate.
//   - Successful: the value is in Range (and, with a FailureRange, not in
//     it).
//   - Failed: the value is in FailureRange or, without one, outside
//     Range; FailureThreshold failed checks fail the gate.
//   - Inconclusive: with both Range (bounded) and FailureRange, a value in
//     neither. More than InconclusiveLimit of them pause the rollout for
//     a human, as Argo Rollouts does: Resume takes the wave's analysis as
//     passed and the next wave starts; Abort ends the rollout.
type Analysis struct {
	// Name names the check in status and events.
	Name string
	// Check measures something.
	Check Check
	// Range is what a good value is.
	Range Range
	// Interval between evaluations (default: once per soak, at its end
	// when MinSuccessTime is set).
	Interval time.Duration
	// FailureThreshold is how many failed checks fail the gate (default 1).
	FailureThreshold int
	// FailureRange, when set, is what a bad value is; a value in neither
	// range is Inconclusive (default nil: a value outside Range is
	// Failed). With an unbounded Range, a value outside FailureRange is
	// Successful. The ranges must not overlap.
	FailureRange *Range
	// InconclusiveLimit is how many Inconclusive results are tolerated;
	// one more pauses the rollout (default 0, as Argo Rollouts: the first
	// pauses).
	InconclusiveLimit int
	// ConsecutiveErrorLimit is how many errors in a row are tolerated; one
	// more fails the gate (nil: DefaultConsecutiveErrorLimit, as Argo
	// Rollouts; 0: the first error fails it).
	ConsecutiveErrorLimit *int
}

// DefaultConsecutiveErrorLimit is Analysis.ConsecutiveErrorLimit's
// default, Argo Rollouts' own: the fifth error in a row fails the gate.
const DefaultConsecutiveErrorLimit = 4

// AnalysisResult is the outcome of one evaluation of a check.
type AnalysisResult string

// Analysis results, as Argo Rollouts names them.
const (
	// AnalysisSuccessful: the value is good.
	AnalysisSuccessful AnalysisResult = "Successful"
	// AnalysisFailed: the value is bad.
	AnalysisFailed AnalysisResult = "Failed"
	// AnalysisInconclusive: the value is neither good nor bad.
	AnalysisInconclusive AnalysisResult = "Inconclusive"
	// AnalysisError: the check could not measure.
	AnalysisError AnalysisResult = "Error"
)

// errorLimit is the ConsecutiveErrorLimit in force.
func (a Analysis) errorLimit() int {
	if a.ConsecutiveErrorLimit == nil {
		return DefaultConsecutiveErrorLimit
	}
	return *a.ConsecutiveErrorLimit
}

// judge classifies one evaluation and says why.
func (a Analysis) judge(v float64, err error) (AnalysisResult, string) {
	switch {
	case err != nil:
		return AnalysisError, err.Error()
	case a.FailureRange == nil && a.Range.contains(v):
		return AnalysisSuccessful, fmt.Sprintf("%v in %s", v, a.Range)
	case a.FailureRange == nil:
		return AnalysisFailed, fmt.Sprintf("%v outside %s", v, a.Range)
	case a.FailureRange.contains(v):
		return AnalysisFailed, fmt.Sprintf("%v in the failure range %s", v, *a.FailureRange)
	case a.Range.Min == nil && a.Range.Max == nil:
		return AnalysisSuccessful, fmt.Sprintf("%v outside the failure range %s", v, *a.FailureRange)
	case a.Range.contains(v):
		return AnalysisSuccessful, fmt.Sprintf("%v in %s", v, a.Range)
	}
	return AnalysisInconclusive, fmt.Sprintf("%v in neither %s nor the failure range %s", v, a.Range, *a.FailureRange)
}

// overlaps reports whether two ranges share a value.
func (r Range) overlaps(o Range) bool {
	lo, hi := math.Inf(-1), math.Inf(1)
	for _, m := range []*float64{r.Min, o.Min} {
		if m != nil {
			lo = math.Max(lo, *m)
		}
	}
	for _, m := range []*float64{r.Max, o.Max} {
		if m != nil {
			hi = math.Min(hi, *m)
		}
	}
	return lo <= hi
}

// Range bounds a value; nil ends are open.
type Range struct {
	// Min and Max are the closed bounds a good value lies within (nil: no
	// bound on that side). NaN is never in range.
	Min, Max *float64
}

// Between is the closed range [lo, hi].
func Between(lo, hi float64) Range { return Range{Min: &lo, Max: &hi} }

// AtLeast is [lo, +inf).
func AtLeast(lo float64) Range { return Range{Min: &lo} }

// AtMost is (-inf, hi].
func AtMost(hi float64) Range { return Range{Max: &hi} }

func (r Range) contains(v float64) bool {
	return !math.IsNaN(v) && (r.Min == nil || v >= *r.Min) && (r.Max == nil || v <= *r.Max)
}

// String shows the range as "[min, max]".
func (r Range) String() string {
	lo, hi := "-inf", "+inf"
	if r.Min != nil {
		lo = fmt.Sprint(*r.Min)
	}
	if r.Max != nil {
		hi = fmt.Sprint(*r.Max)
	}
	return "[" + lo + ", " + hi + "]"
}

// AnalysisInput is what a check is told about the rollout.
type AnalysisInput struct {
	// Rollout is the propagation's ID.
	Rollout ID
	// Package and Revision are what is being rolled out.
	Package, Revision string
	// Wave is the index of the wave just completed.
	Wave int
	// Clusters are the clusters rolled out so far, this wave's included.
	Clusters []string
}

// Check measures one value.
type Check interface {
	// Evaluate returns the value to compare with the Analysis' Range; an
	// error is an AnalysisError result, not a failed check.
	Evaluate(ctx context.Context, in AnalysisInput) (float64, error)
}

// CheckFunc is a Check written as a Go func.
type CheckFunc func(ctx context.Context, in AnalysisInput) (float64, error)

// Evaluate implements Check.
func (f CheckFunc) Evaluate(ctx context.Context, in AnalysisInput) (float64, error) {
	return f(ctx, in)
}

// PrometheusQuery is a Check that runs an instant PromQL query; the result
// must be a scalar or a one-sample vector. In Query, {{cluster_regex}}
// becomes a regular expression matching the clusters rolled out so far
// (for a label matcher such as cluster=~"{{cluster_regex}}").
type PrometheusQuery struct {
	// Address is the Prometheus server's URL.
	Address string
	// Query is the PromQL expression.
	Query string
	// Client configures the HTTP client (its Address is ignored).
	Client promapi.Config
}

// Evaluate implements Check.
func (q *PrometheusQuery) Evaluate(ctx context.Context, in AnalysisInput) (float64, error) {
	cfg := q.Client
	cfg.Address = q.Address
	client, err := promapi.NewClient(cfg)
	if err != nil {
		return 0, err
	}
	query := expandClusters(q.Query, in.Clusters)
	v, _, err := promv1.NewAPI(client).Query(ctx, query, time.Now())
	if err != nil {
		return 0, fmt.Errorf("prometheus %s: %w", query, err)
	}
	switch v := v.(type) {
	case *model.Scalar:
		return float64(v.Value), nil
	case model.Vector:
		if len(v) != 1 {
			return 0, fmt.Errorf("prometheus %s: %d samples, want 1", query, len(v))
		}
		return float64(v[0].Value), nil
	}
	return 0, fmt.Errorf("prometheus %s: a %s result, want a scalar or a vector", query, v.Type())
}

func (a Analysis) validate(field string) error {
	switch {
	case a.Check == nil:
		return fieldError(ErrInvalidStrategy, field+".check", "missing")
	case a.Interval < 0:
		return fieldError(ErrInvalidStrategy, field+".interval", "negative: %s", a.Interval)
	case a.FailureThreshold < 0:
		return fieldError(ErrInvalidStrategy, field+".failureThreshold", "negative: %d", a.FailureThreshold)
	case a.Range.Min != nil && a.Range.Max != nil && *a.Range.Min > *a.Range.Max:
		return fieldError(ErrInvalidStrategy, field+".range", "empty: %s", a.Range)
	case a.InconclusiveLimit < 0:
		return fieldError(ErrInvalidStrategy, field+".inconclusiveLimit", "negative: %d", a.InconclusiveLimit)
	case a.ConsecutiveErrorLimit != nil && *a.ConsecutiveErrorLimit < 0:
		return fieldError(ErrInvalidStrategy, field+".consecutiveErrorLimit", "negative: %d", *a.ConsecutiveErrorLimit)
	}
	if f := a.FailureRange; f != nil {
		bounded := a.Range.Min != nil || a.Range.Max != nil
		switch {
		case f.Min == nil && f.Max == nil:
			return fieldError(ErrInvalidStrategy, field+".failureRange", "unbounded: every value would fail")
		case f.Min != nil && f.Max != nil && *f.Min > *f.Max:
			return fieldError(ErrInvalidStrategy, field+".failureRange", "empty: %s", *f)
		case bounded && a.Range.overlaps(*f):
			return fieldError(ErrInvalidStrategy, field+".failureRange", "%s overlaps range %s", *f, a.Range)
		}
	}
	if q, ok := a.Check.(*PrometheusQuery); ok && (q.Address == "" || q.Query == "") {
		return fieldError(ErrInvalidStrategy, field+".check", "a Prometheus query needs an address and a query")
	}
	return nil
}

// expandClusters replaces {{cluster_regex}} with an anchored alternation
// of the cluster names.
func expandClusters(query string, clusters []string) string {
	const placeholder = "{{cluster_regex}}"
	if !strings.Contains(query, placeholder) {
		return query
	}
	quoted := make([]string, len(clusters))
	for i, c := range clusters {
		quoted[i] = regexp.QuoteMeta(c)
	}
	return strings.ReplaceAll(query, placeholder, "^("+strings.Join(quoted, "|")+")$")
}

// pauseForHuman pauses the rollout with reason, as Pause does, and waits
// for Resume (true) or for ctx to end (false).
func (r *rollout) pauseForHuman(ctx context.Context, reason string) bool {
	if err := r.pause(); err != nil {
		return false
	}
	r.mu.Lock()
	r.reason, r.dirty = reason, true
	r.mu.Unlock()
	r.save()
	if err := r.waitIfPaused(ctx); err != nil {
		return false
	}
	r.clearReason(reason)
	return true
}
