package deps

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
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

// TestWhyNamesTheProviderOfACapability: a step that a capability fills
// names the release that provides it.
func TestWhyNamesTheProviderOfACapability(t *testing.T) {
	u := universe(t,
		rel("amf", "2.1.0", provides("5gc-amf", "2.1.0"), req("5gc-database >=2, <3", "nrf"), opt("5gc-metrics")),
		rel("postgres", "14.0.0", provides("5gc-database", "2.4.0")),
		rel("nrf", "1.0.0"),
		rel("prometheus", "2.0.0", provides("5gc-metrics", "")))
	p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, Request{Roots: roots("5gc-amf")})
	if err != nil {
		t.Fatal(err)
	}
	for pkg, want := range map[string][]string{
		"amf":        {"you asked for 5gc-amf, provided by amf@2.1.0"},
		"postgres":   {"you asked for 5gc-amf, provided by amf@2.1.0", "amf@2.1.0 requires 5gc-database >=2, <3, provided by postgres@14.0.0"},
		"nrf":        {"you asked for 5gc-amf, provided by amf@2.1.0", "amf@2.1.0 requires nrf"},
		"prometheus": {"you asked for 5gc-amf, provided by amf@2.1.0", "amf@2.1.0 optionally uses 5gc-metrics, provided by prometheus@2.0.0"},
	} {
		if got := p.Why[pkg]; !slices.Equal(got, want) {
			t.Errorf("why %s = %q, want %q", pkg, got, want)
		}
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

// countingContext is a context whose clock is the resolver's own looks at
// it: Err reports the deadline from the (limit+1)-th call on.
type countingContext struct {
	context.Context
	mu    sync.Mutex
	limit int
	calls int
	after int // calls after the first that reported the deadline
	done  chan struct{}
}

func newCountingContext(limit int) *countingContext {
	return &countingContext{Context: context.Background(), limit: limit, done: make(chan struct{})}
}

func (c *countingContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	switch {
	case c.calls == c.limit+1:
		close(c.done)
	case c.calls > c.limit+1:
		c.after++
	}
	if c.calls > c.limit {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *countingContext) Done() <-chan struct{} { return c.done }

// TestDeadlineReturnsBestPlanNotProvenOptimal: a deadline that ends the
// search gives back the best plan the resolver knows (a previous plan
// that still holds), marked not optimal; the resolver stops at the first
// look at the context after the deadline.
func TestDeadlineReturnsBestPlanNotProvenOptimal(t *testing.T) {
	u, r := harderUniverse(t, 1000)
	first, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, r)
	if err != nil || !first.Optimal {
		t.Fatalf("plan %v, err %v", first, err)
	}
	// A new release of a package half-way down: the previous plan still
	// holds, the optimum may differ.
	if err := u.Add(rel("pkg-500", "1.10.0")); err != nil {
		t.Fatal(err)
	}
	r.Previous = first
	ctx := newCountingContext(5)
	p, err := NewSATResolver(ResolverConfig{}).Resolve(ctx, u, r)
	if err != nil {
		t.Fatal(err)
	}
	if p.Optimal {
		t.Error("plan claims optimality although the deadline ended the search")
	}
	if err := Check(u, r, p); err != nil {
		t.Error(err)
	}
	if versions(p) != versions(first) {
		t.Errorf("plan = %s, want the previous plan", versions(p))
	}
	if ctx.calls <= ctx.limit || ctx.after > 1 {
		t.Errorf("the resolver looked at the context %d times, %d of them after the deadline; want it to stop at the first", ctx.calls, ctx.after)
	}
}

// TestDeadlineWithoutAPlanIsTyped: a deadline that ends the search before
// any plan is known is an *InterruptedError wrapping ErrInterrupted and
// the context's error, and so is a context already done (never a panic).
func TestDeadlineWithoutAPlanIsTyped(t *testing.T) {
	u, r := harderUniverse(t, 1000)
	ctx := newCountingContext(5)
	var ie *InterruptedError
	_, err := NewSATResolver(ResolverConfig{}).Resolve(ctx, u, r)
	if !errors.As(err, &ie) || !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.DeadlineExceeded) || ie.Proven != nil {
		t.Fatalf("err = %v, want an *InterruptedError wrapping ErrInterrupted and context.DeadlineExceeded", err)
	}
	if ctx.after > 1 {
		t.Errorf("the resolver looked at the context %d times after the deadline", ctx.after)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, resolver := range []*SATResolver{NewSATResolver(ResolverConfig{}), legacyResolver(ResolverConfig{}, 0)} {
		p, err := resolver.Resolve(done, fiveGC(t), Request{Roots: roots("amf", "upf")})
		if p != nil || !errors.As(err, &ie) || !errors.Is(err, context.Canceled) {
			t.Errorf("a context done before the call: plan %v, err %v; want an *InterruptedError wrapping context.Canceled", p, err)
		}
	}
}

// TestSearchLooksAtTheContextOften: the search looks at its context at
// least once every checkEvery units of work, so a deadline is seen
// promptly wherever the search is.
func TestSearchLooksAtTheContextOften(t *testing.T) {
	u, r := harderUniverse(t, 1000)
	ctx := newCountingContext(1 << 30)
	var work, checks int
	res := NewSATResolver(ResolverConfig{})
	res.observe = func(st searchStats) { work, checks = work+st.work, checks+st.checks }
	if _, err := res.Resolve(ctx, u, r); err != nil {
		t.Fatal(err)
	}
	if work < 10*checkEvery {
		t.Fatalf("only %d units of work: the universe is too easy to tell", work)
	}
	if checks < work/checkEvery || ctx.calls < checks {
		t.Errorf("%d units of work, %d checks counted, %d looks at the context; want a look every %d units", work, checks, ctx.calls, checkEvery)
	}
}

// TestSearchBudgetBoundsConflicts: SearchBudget ends a search that needs
// more conflicts than it allows, like a deadline but independently of
// the machine; without it the same request is solved.
func TestSearchBudgetBoundsConflicts(t *testing.T) {
	u, r := harderUniverse(t, 1000)
	var conflicts int
	full := NewSATResolver(ResolverConfig{})
	full.observe = func(st searchStats) { conflicts += st.conflicts }
	p, err := full.Resolve(context.Background(), u, r)
	if err != nil || !p.Optimal {
		t.Fatalf("plan %v, err %v", p, err)
	}
	if conflicts < 3 {
		t.Fatalf("only %d conflicts: the case does not test the budget", conflicts)
	}
	_, err = NewSATResolver(ResolverConfig{SearchBudget: 2}).Resolve(context.Background(), u, r)
	var ie *InterruptedError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInterrupted) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("budget of 2 conflicts: err = %v, want an *InterruptedError for the budget", err)
	}
	for _, b := range []int{0, -1, conflicts} {
		if p, err := NewSATResolver(ResolverConfig{SearchBudget: b}).Resolve(context.Background(), u, r); err != nil || !p.Optimal {
			t.Errorf("budget %d: plan %v, err %v", b, p, err)
		}
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

// TestLockLetGoIsNotRetriedForever: a lock decided absent that proves
// wrong is not decided absent again (the search before learning used to
// loop until its budget ran out, or forever without one).
func TestLockLetGoIsNotRetriedForever(t *testing.T) {
	u := universe(t,
		rel("a", "1.0.0", conflicts("l")), rel("a", "2.0.0", req("b"), conflicts("l")),
		rel("b", "1.0.0", req("l")), rel("l", "1.0.0"),
	)
	r := Request{Roots: roots("a"), Locked: []ReleaseRef{ref("l", "1.0.0")}, Policy: Policy{AllowLockChanges: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, resolver := range []*SATResolver{NewSATResolver(ResolverConfig{SearchBudget: 100}), legacyResolver(ResolverConfig{}, 1<<40)} {
		p, err := resolver.Resolve(ctx, u, r)
		if err != nil {
			t.Fatal(err)
		}
		if got := versions(p); got != "a=1.0.0" || !p.Optimal {
			t.Errorf("plan = %s (optimal %v), want a=1.0.0", got, p.Optimal)
		}
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
	for _, resolver := range []*SATResolver{NewSATResolver(ResolverConfig{Preference: newestOnly{}}), legacyResolver(ResolverConfig{Preference: newestOnly{}}, -1)} {
		if _, err := resolver.Resolve(context.Background(), u, Request{Roots: roots("a")}); !errors.Is(err, ErrNoSolution) {
			t.Errorf("err = %v, want ErrNoSolution: the only release the preference allows needs a package nobody has", err)
		}
	}
	u = universe(t, rel("a", "2.0.0", req("b")), rel("b", "0.5.0"), rel("b", "1.0.0", req("zz")))
	if _, err := NewSATResolver(ResolverConfig{Preference: newestOnly{}}).Resolve(context.Background(), u, Request{Roots: roots("a")}); !errors.Is(err, ErrNoSolution) {
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
