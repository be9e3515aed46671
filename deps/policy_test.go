package deps

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
)

func TestUpgradeChangesTheFewestLockedPackages(t *testing.T) {
	// Deployed: app 1, lib 1, tool 1. The new app 2 needs lib 2; tool works
	// with any lib, so only app and lib must move.
	u := universe(t,
		rel("app", "1.0.0", req("lib 1.x")), rel("app", "2.0.0", req("lib 2.x")),
		rel("lib", "1.0.0"), rel("lib", "2.0.0"),
		rel("tool", "1.0.0", req("lib")), rel("tool", "2.0.0", req("lib")),
	)
	locked := []ReleaseRef{ref("app", "1.0.0"), ref("lib", "1.0.0"), ref("tool", "1.0.0")}
	r := Request{Roots: roots("app >=2", "tool"), Locked: locked, Policy: Policy{AllowLockChanges: true}}
	p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, r)
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(p); got != "lib=2.0.0 app=2.0.0 tool=1.0.0" {
		t.Errorf("plan = %s; want app and lib upgraded, tool kept at 1.0.0", got)
	}
	// Without permission to change locks, the same request has no plan.
	r.Policy.AllowLockChanges = false
	if _, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, r); !errors.Is(err, ErrNoSolution) {
		t.Errorf("err = %v, want ErrNoSolution with hard locks", err)
	}
}

func TestNeedsAreCarriedAndWhyExplainsInclusion(t *testing.T) {
	u := universe(t, rel("upf", "1.0.0", req("smf"), needs("sriov")), rel("smf", "1.0.0", needs("region=eu")))
	p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, Request{Roots: roots("upf")})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Needs["upf"]; len(got) != 1 || got[0] != "sriov" {
		t.Errorf("needs of upf = %v", got)
	}
	if got := p.Why["smf"]; len(got) != 2 || got[0] != "you asked for upf" || got[1] != "upf@1.0.0 requires smf" {
		t.Errorf("why smf = %q", got)
	}
}

func TestPreviousPlanSeedsReplanning(t *testing.T) {
	u := fiveGC(t)
	r := Request{Roots: roots("amf", "upf")}
	first, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, r)
	if err != nil {
		t.Fatal(err)
	}
	// A new nrf release appears: re-planning from the previous plan moves
	// nrf to it, proven optimal.
	if err := u.Add(rel("nrf", "2.5.0")); err != nil {
		t.Fatal(err)
	}
	r.Previous = first
	second, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, r)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Optimal || versions(second) != "nrf=2.5.0 ausf=1.1.0 amf=1.0.0 smf=1.4.0 upf=1.0.0" {
		t.Errorf("re-plan = %s (optimal %v)", versions(second), second.Optimal)
	}
	// A previous plan that the change made invalid is ignored, not trusted.
	r.Excluded = []ReleaseRef{ref("nrf", "2.5.0"), ref("nrf", "2.0.0")}
	r.Previous = second
	third, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(u, r, third); err != nil || third.Releases["nrf"].Version.String() != "1.0.0" {
		t.Errorf("plan after excluding the previous choice = %s, %v", versions(third), err)
	}
}

func TestDeadlineReturnsBestPlanNotProvenOptimal(t *testing.T) {
	u := fiveGC(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time for anything beyond the first model
	p, err := NewSATResolver(ResolverConfig{}).Resolve(ctx, u, Request{Roots: roots("amf", "upf")})
	if err != nil {
		t.Fatal(err)
	}
	if p.Optimal {
		t.Error("plan claims optimality although the budget ended the search")
	}
	if err := Check(u, Request{Roots: roots("amf", "upf")}, p); err != nil {
		t.Error(err)
	}
}

// oldestFirst is a preference some operators use for conservative rollouts.
type oldestFirst struct{}

func (oldestFirst) Order(in PreferenceInput) []string { return in.Reached }

func (oldestFirst) Choices(in PreferenceInput, pkg string) []*Release {
	rels := slices.Clone(in.Packages[pkg])
	slices.Reverse(rels)
	return rels
}

func TestCustomPreference(t *testing.T) {
	p, err := NewSATResolver(ResolverConfig{Preference: oldestFirst{}}).Resolve(context.Background(), fiveGC(t), Request{Roots: roots("ausf")})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(p); got != "nrf=1.0.0 ausf=1.0.0" {
		t.Errorf("plan = %s, want the oldest versions", got)
	}
}

func TestBadInput(t *testing.T) {
	for _, s := range []string{"", "nrf >=banana", "NRF", "nrf >=1 <<2", "a/b"} {
		if _, err := ParseDependency(s); !errors.Is(err, ErrInvalidConstraint) {
			t.Errorf("ParseDependency(%q) err = %v, want ErrInvalidConstraint", s, err)
		} else {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Text != s {
				t.Errorf("ParseDependency(%q): error does not carry the text: %v", s, err)
			}
		}
	}
	if _, err := NewUniverse(rel("a", "1.0.0", req("a >=1"))); !errors.Is(err, ErrInvalidRelease) {
		t.Errorf("self dependency: err = %v", err)
	}
	if _, err := NewUniverse(rel("a", "1.0.0"), rel("a", "1.0.0")); !errors.Is(err, ErrInvalidRelease) {
		t.Errorf("duplicate release: err = %v", err)
	}
	if _, err := NewUniverse(&Release{Name: "a"}); !errors.Is(err, ErrInvalidRelease) {
		t.Errorf("release without version: err = %v", err)
	}
	empty := universe(t)
	if _, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), empty, Request{Roots: roots("a")}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("empty universe: err = %v", err)
	}
	big := universe(t, rel("a", "1.0.0", req("b")), rel("b", "1.0.0"), rel("b", "2.0.0"))
	if _, err := NewSATResolver(ResolverConfig{MaxReleases: 2}).Resolve(context.Background(), big, Request{Roots: roots("a")}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the size limit: err = %v", err)
	}
	r := Request{Roots: roots("a"), Locked: []ReleaseRef{ref("b", "1.0.0")}, Excluded: []ReleaseRef{ref("b", "1.0.0")}}
	if _, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), big, r); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("locked and excluded: err = %v", err)
	}
	if _, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), nil, Request{Roots: roots("a")}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("nil universe: err = %v", err)
	}
}

// TestLockLetGoIsNotRetriedForever: a lock decided absent that backjumping
// proves wrong is not decided absent again (it used to loop until the
// budget ran out, or forever with no budget).
func TestLockLetGoIsNotRetriedForever(t *testing.T) {
	u := universe(t,
		rel("a", "1.0.0", conflicts("l")), rel("a", "2.0.0", req("b"), conflicts("l")),
		rel("b", "1.0.0", req("l")), rel("l", "1.0.0"),
	)
	r := Request{Roots: roots("a"), Locked: []ReleaseRef{ref("l", "1.0.0")}, Policy: Policy{AllowLockChanges: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var solverUsed bool
	log := funcr.New(func(_, args string) { solverUsed = solverUsed || strings.Contains(args, "search budget spent") }, funcr.Options{Verbosity: 1})
	p, err := NewSATResolver(ResolverConfig{SearchBudget: 1 << 40, Logger: log}).Resolve(ctx, u, r)
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(p); got != "a=1.0.0" || !p.Optimal || solverUsed {
		t.Errorf("plan = %s (optimal %v, solver used %v), want a=1.0.0 by backjumping alone", got, p.Optimal, solverUsed)
	}
}

// newestOnly is a preference that never chooses an older release.
type newestOnly struct{}

func (newestOnly) Order(in PreferenceInput) []string { return in.Reached }

func (newestOnly) Choices(in PreferenceInput, pkg string) []*Release { return in.Packages[pkg][:1] }

// TestPreferenceOmittingReleases: releases a preference leaves out are out
// of the solver's encodings too, so the search and the solver agree.
func TestPreferenceOmittingReleases(t *testing.T) {
	u := universe(t, rel("a", "1.0.0"), rel("a", "2.0.0", req("zz")))
	for _, cfg := range []ResolverConfig{{Preference: newestOnly{}}, {Preference: newestOnly{}, SearchBudget: -1}} {
		if _, err := NewSATResolver(cfg).Resolve(context.Background(), u, Request{Roots: roots("a")}); !errors.Is(err, ErrNoSolution) {
			t.Errorf("err = %v, want ErrNoSolution: the only release the preference allows needs a package nobody has", err)
		}
	}
	u = universe(t, rel("a", "2.0.0", req("b")), rel("b", "0.5.0"), rel("b", "1.0.0", req("zz")))
	if _, err := NewSATResolver(ResolverConfig{Preference: newestOnly{}, SearchBudget: -1}).Resolve(context.Background(), u, Request{Roots: roots("a")}); !errors.Is(err, ErrNoSolution) {
		t.Errorf("err = %v, want ErrNoSolution", err)
	}
}

// TestDuplicateLockCountsOnce: a lock listed twice does not let the plan
// change two locks where one suffices.
func TestDuplicateLockCountsOnce(t *testing.T) {
	u := universe(t,
		rel("a", "1.0.0"), rel("a", "2.0.0", req("m >=2.0.0")),
		rel("b", "1.0.0", conflicts("l =1.0.0")),
		rel("l", "1.0.0"), rel("l", "2.0.0"), rel("m", "1.0.0"), rel("m", "2.0.0"),
	)
	r := Request{Roots: roots("a", "b"), Locked: []ReleaseRef{ref("l", "1.0.0"), ref("l", "1.0.0"), ref("m", "1.0.0")}, Policy: Policy{AllowLockChanges: true}}
	p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, r)
	if err != nil {
		t.Fatal(err)
	}
	if p.Releases["m"] == nil || p.Releases["m"].Version.String() != "1.0.0" || p.Releases["l"].Version.String() != "2.0.0" {
		t.Errorf("plan = %s, want only l moved (to 2.0.0), m kept at 1.0.0", versions(p))
	}
}

// TestZeroConfigSearchBudget: the zero ResolverConfig has the default
// budget, so a dead end is backjumped over; a negative budget goes to the
// solver at the first one. Both give the same plan.
func TestZeroConfigSearchBudget(t *testing.T) {
	u := universe(t,
		rel("a", "1.0.0", conflicts("l")), rel("a", "2.0.0", req("b"), conflicts("l")),
		rel("b", "1.0.0", req("l")), rel("l", "1.0.0"),
	)
	r := Request{Roots: roots("a"), Locked: []ReleaseRef{ref("l", "1.0.0")}, Policy: Policy{AllowLockChanges: true}}
	for _, tc := range []struct {
		budget int
		solver bool
	}{{0, false}, {-1, true}} {
		var solverUsed bool
		log := funcr.New(func(_, args string) { solverUsed = solverUsed || strings.Contains(args, "search budget spent") }, funcr.Options{Verbosity: 1})
		p, err := NewSATResolver(ResolverConfig{SearchBudget: tc.budget, Logger: log}).Resolve(context.Background(), u, r)
		if err != nil {
			t.Fatal(err)
		}
		if got := versions(p); got != "a=1.0.0" || solverUsed != tc.solver {
			t.Errorf("SearchBudget %d: plan = %s, solver used %v, want a=1.0.0 with solver %v", tc.budget, got, solverUsed, tc.solver)
		}
	}
}
