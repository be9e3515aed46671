package deps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func unsatError(t *testing.T, u *Universe, r Request) *UnsatisfiableError {
	t.Helper()
	_, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, r)
	var ue *UnsatisfiableError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *UnsatisfiableError", err)
	}
	if !errors.Is(err, ErrNoSolution) {
		t.Errorf("error does not wrap ErrNoSolution")
	}
	return ue
}

// isMUS checks, independently of the explanation code, that the conflict is
// unsatisfiable and that dropping any one fact makes it satisfiable.
func isMUS(t *testing.T, u *Universe, r Request, conflict []Fact) {
	t.Helper()
	e, err := encode(u, r, 1<<20, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	pick := func(skip int) []fact {
		var out []fact
		for i, c := range conflict {
			if i == skip {
				continue
			}
			for _, f := range e.facts {
				if f.Fact.Kind == c.Kind && f.Package == c.Package && f.Release == c.Release && f.Dependency.String() == c.Dependency.String() {
					out = append(out, f)
				}
			}
		}
		return out
	}
	if e.sat(pick(-1)) {
		t.Fatalf("conflict %v is satisfiable", conflict)
	}
	for i := range conflict {
		if !e.sat(pick(i)) {
			t.Errorf("conflict is not minimal: still unsatisfiable without %v", conflict[i])
		}
	}
}

func TestExplanationIsMinimalAndReadable(t *testing.T) {
	u := fiveGC(t)
	r := Request{Roots: roots("amf 2.x", "smf =1.4")}
	ue := unsatError(t, u, r)
	isMUS(t, u, r, ue.Conflict)
	text := ue.Explain()
	for _, want := range []string{
		"amf@2.0.0 requires nrf >=3",
		"smf@1.4.0 requires nrf <3",
		"only one version of nrf can be installed",
		"you asked for amf 2.x and smf =1.4",
		"so no plan exists",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	if len(ue.Conflict) != 5 {
		t.Errorf("conflict has %d facts, want 5 (2 roots, 2 requirements, one-version): %v", len(ue.Conflict), ue.Conflict)
	}
	// The cheapest repair changes one root's range.
	if len(ue.Repairs) != 1 || ue.Repairs[0].Replace == nil {
		t.Fatalf("repairs = %v, want one replaced root", ue.Repairs)
	}
	rep := ue.Repairs[0]
	fixed := r
	fixed.Roots = nil
	for _, d := range r.Roots {
		if d.String() == rep.Fact.Dependency.String() {
			d = *rep.Replace
		}
		fixed.Roots = append(fixed.Roots, d)
	}
	p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, fixed)
	if err != nil {
		t.Fatalf("request with the repair applied (%s) still fails: %v", rep, err)
	}
	if err := Check(u, fixed, p); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", ue.Error())
}

func TestExplanationOfAnUnmatchedRoot(t *testing.T) {
	u := fiveGC(t)
	r := Request{Roots: roots("amf >=5")}
	ue := unsatError(t, u, r)
	if len(ue.Conflict) != 1 || ue.Conflict[0].Kind != FactRoot {
		t.Fatalf("conflict = %v, want the root alone", ue.Conflict)
	}
	if len(ue.Repairs) != 1 || ue.Repairs[0].String() != "allow amf =2.0.0 instead of amf >=5" {
		t.Errorf("repairs = %v, want the newest amf", ue.Repairs)
	}
}

func TestExplanationOfLocksAndExclusions(t *testing.T) {
	u := fiveGC(t)
	// ausf 1.1 needs nrf >=2, but nrf is locked at 1.0.0 and ausf 1.0.0 is excluded.
	r := Request{Roots: roots("ausf"), Locked: []ReleaseRef{ref("nrf", "1.0.0")}, Excluded: []ReleaseRef{ref("ausf", "1.0.0")}}
	ue := unsatError(t, u, r)
	isMUS(t, u, r, ue.Conflict)
	text := ue.Explain()
	for _, want := range []string{"nrf@1.0.0 is locked", "ausf@1.0.0 is excluded", "ausf@1.1.0 requires nrf >=2"} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	if len(ue.Repairs) != 1 || ue.Repairs[0].Fact.Kind != FactLocked || ue.Repairs[0].To == nil {
		t.Fatalf("repairs = %v, want moving the lock", ue.Repairs)
	}
	if !strings.Contains(ue.Repairs[0].String(), "let nrf move from 1.0.0 to") {
		t.Errorf("repair text = %q", ue.Repairs[0])
	}
}

// TestRepairTiesNeverOutweighCost: two widened roots (cost 4) beat one
// dropped root (cost 5), however the ties between facts are broken.
func TestRepairTiesNeverOutweighCost(t *testing.T) {
	u := universe(t,
		rel("a", "1.0.0"), rel("a", "2.0.0", conflicts("d")),
		rel("b", "1.0.0"), rel("b", "2.0.0", conflicts("d")),
		rel("c", "1.0.0"), rel("d", "1.0.0"),
	)
	ue := unsatError(t, u, Request{Roots: roots("a =2.0.0", "b =2.0.0", "c", "d")})
	var got []string
	for _, r := range ue.Repairs {
		got = append(got, r.String())
	}
	if want := "allow a <=1.0.0 instead of a =2.0.0; allow b <=1.0.0 instead of b =2.0.0"; strings.Join(got, "; ") != want {
		t.Errorf("repairs = %q, want %q", got, want)
	}
}

// TestLockRepairAgreesWithAllowLockChanges: a repair that lets a lock move
// names the release the resolver picks when the request allows lock
// changes (with the other repairs applied), and lists the locks the
// resolver changes when several are equally cheap to release.
func TestLockRepairAgreesWithAllowLockChanges(t *testing.T) {
	upf := []*Release{NewRelease("upf", "1.2.0"), NewRelease("upf", "1.3.0"), NewRelease("upf", "1.4.0")}
	for _, c := range []struct {
		name string
		u    *Universe
		req  Request
		want string
	}{{
		// smf needs upf >=1.3; nrf@2, which smf also needs, takes only
		// upf <1.4. Without the lock upf is decided after nrf (1.3.0); with
		// lock changes allowed the locked package is decided first (1.4.0).
		name: "moved lock",
		u: mustUniverse(t, append(upf,
			NewRelease("smf", "1.0.0", Requires("nrf"), Requires("upf", ">=1.3")),
			NewRelease("nrf", "1.0.0"), NewRelease("nrf", "2.0.0", Requires("upf", "<1.4")))...),
		req:  Request{Roots: dependencies("smf"), Locked: []ReleaseRef{MustParseReleaseRef("upf@1.2.0")}},
		want: "let upf move from 1.2.0 to 1.4.0",
	}, {
		// amf =1.0.0 cannot be installed at all, and amf 2.0.0 needs the
		// lock released as well.
		name: "widened root and moved lock",
		u: mustUniverse(t, append(upf,
			NewRelease("amf", "1.0.0", Requires("nrf", ">=5")),
			NewRelease("amf", "2.0.0", Requires("nrf"), Requires("upf", ">=1.3")),
			NewRelease("nrf", "1.0.0"), NewRelease("nrf", "2.0.0", Requires("upf", "<1.4")))...),
		req:  Request{Roots: dependencies("amf =1.0.0"), Locked: []ReleaseRef{MustParseReleaseRef("upf@1.2.0")}},
		want: "allow amf >=2.0.0 instead of amf =1.0.0; let upf move from 1.2.0 to 1.4.0",
	}, {
		// Either lock may go (x@1 needs p >=2, x@2 needs q >=2); the
		// earliest-first tie-break would release p, but the resolver keeps
		// p (decided first, at its locked release) and moves q.
		name: "the lock the resolver changes",
		u: mustUniverse(t,
			NewRelease("smf", "1.0.0", Requires("x")),
			NewRelease("x", "1.0.0", Requires("p", ">=2")), NewRelease("x", "2.0.0", Requires("q", ">=2")),
			NewRelease("p", "1.0.0"), NewRelease("p", "2.0.0"), NewRelease("q", "1.0.0"), NewRelease("q", "2.0.0")),
		req: Request{Roots: dependencies("smf"), Locked: []ReleaseRef{MustParseReleaseRef("p@1.0.0"), MustParseReleaseRef("q@1.0.0")},
			Policy: Policy{Costs: CostModel{TieBreak: TieBreakEarliest}}},
		want: "let q move from 1.0.0 to 2.0.0",
	}} {
		t.Run(c.name, func(t *testing.T) {
			ue := unsatError(t, c.u, c.req)
			var got []string
			for _, r := range ue.Repairs {
				got = append(got, r.String())
			}
			if strings.Join(got, "; ") != c.want {
				t.Errorf("repairs = %q, want %q", got, c.want)
			}
			checkRepairsApply(t, c.name, c.u, c.req, ue.Repairs)
		})
	}
}

// Ranges are printed as they were written, in explanations and repairs.
func TestExplanationKeepsRangesAsWritten(t *testing.T) {
	u := mustUniverse(t,
		NewRelease("nf-sdk", "2.5.0"), NewRelease("nf-sdk", "3.1.0"),
		NewRelease("amf", "1.0.0", Requires("nf-sdk", ">=2.3, <3")),
		NewRelease("smf", "1.0.0", Requires("nf-sdk", ">=3")))
	ue := unsatError(t, u, Request{Roots: dependencies("amf >=1.0, <2", "smf")})
	text := ue.Explain()
	for _, want := range []string{"amf@1.0.0 requires nf-sdk >=2.3, <3", "you asked for amf >=1.0, <2 and smf"} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, ">=2.3 <3") {
		t.Errorf("explanation rewrites the range:\n%s", text)
	}
	// A constraint set directly, without its text, is rendered with commas.
	c, err := semver.NewConstraint(">=2.3 <3 || =4.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if got := (Dependency{Name: "nf-sdk", Constraint: c}).String(); got != "nf-sdk >=2.3, <3 || =4.0.0" {
		t.Errorf("String = %q", got)
	}
	// A parsed dependency whose Constraint was replaced renders the new one.
	d := MustParseDependency("nf-sdk ~2.3")
	d.Constraint = c
	if got := d.String(); got != "nf-sdk >=2.3, <3 || =4.0.0" {
		t.Errorf("String after replacing the constraint = %q", got)
	}
	if d.Allows(semver.MustParse("2.9.0")) != true || d.Allows(semver.MustParse("3.0.0")) {
		t.Errorf("Allows follows the replaced constraint")
	}
}

// A dependency on a capability names the releases that provide it.
func TestExplanationNamesCapabilityProviders(t *testing.T) {
	u := mustUniverse(t,
		NewRelease("amf", "1.0.0", Requires("5gc-database", ">=2")),
		NewRelease("postgres", "14.0.0", Provides("5gc-database", "2.0.0")),
		NewRelease("mysql", "8.0.0", Provides("5gc-database", "1.0.0")))
	ue := unsatError(t, u, Request{Roots: dependencies("amf"), Excluded: []ReleaseRef{MustParseReleaseRef("postgres@14.0.0")}})
	isMUS(t, u, Request{Roots: dependencies("amf"), Excluded: []ReleaseRef{MustParseReleaseRef("postgres@14.0.0")}}, ue.Conflict)
	text := ue.Explain()
	if want := "amf@1.0.0 requires 5gc-database >=2 (provided by postgres@14.0.0)"; !strings.Contains(text, want) {
		t.Errorf("explanation lacks %q:\n%s", want, text)
	}
	if strings.Contains(text, "mysql") {
		t.Errorf("explanation names a provider out of range:\n%s", text)
	}
	if len(ue.Repairs) != 1 || ue.Repairs[0].String() != "allow the excluded postgres@14.0.0" {
		t.Errorf("repairs = %v", ue.Repairs)
	}
	// Many providers are cut short.
	if got := withProviders(MustParseDependency("db"), []string{"a@1", "b@1", "c@1", "d@1", "e@1"}); got != "db (provided by a@1, b@1, c@1 and 2 more)" {
		t.Errorf("withProviders = %q", got)
	}
}

// TestRepairsRespectTheCyclePolicy: widening x is the cheapest edit, but
// every x it admits draws a cycle; with cycles forbidden the repair drops
// x instead, and with cycles allowed it widens x.
func TestRepairsRespectTheCyclePolicy(t *testing.T) {
	u := universe(t,
		rel("x", "1.0.0", req("y >=2")), rel("y", "1.0.0"),
		rel("x", "2.0.0", req("z")), rel("z", "1.0.0", req("x")),
		rel("w", "1.0.0"))
	r := Request{Roots: roots("x =1.0.0", "w")}
	ue := unsatError(t, u, r)
	if got := fmt.Sprint(ue.Repairs); got != "[drop the request for x =1.0.0]" {
		t.Errorf("cycles forbidden: repairs = %s, want the root x dropped", got)
	}
	edited := applyRepairs(r, ue.Repairs)
	if _, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, edited); err != nil {
		t.Errorf("the repaired request %v fails: %v", edited.Roots, err)
	}
	r.Policy.AllowCycles = true
	ue = unsatError(t, u, r)
	if got := fmt.Sprint(ue.Repairs); got != "[allow x >=2.0.0 instead of x =1.0.0]" {
		t.Errorf("cycles allowed: repairs = %s, want x widened", got)
	}
}

// TestDeadlineDuringExplanation: a deadline at any point of the
// resolution of an unsatisfiable request ends it at the first look at the
// context after it; once no plan is proven to exist, the error matches
// ErrNoSolution whatever the explanation had reached, and one cut short
// is an *UnsatisfiableError whose conflict is still unsatisfiable, marked
// Interrupted and matching ErrInterrupted and the context's error.
func TestDeadlineDuringExplanation(t *testing.T) {
	u, r := syntheticUniverse(t, 300, true)
	full := newCountingContext(1 << 30)
	_, err := NewSATResolver(ResolverConfig{}).Resolve(full, u, r)
	var ue *UnsatisfiableError
	if !errors.As(err, &ue) || ue.Interrupted != nil {
		t.Fatalf("without a deadline: err = %v, want a complete *UnsatisfiableError", err)
	}
	proven := -1 // the first limit at which no plan is proven
	cutShort := 0
	for limit := 0; limit < full.calls; limit += max(1, full.calls/12) {
		ctx := newCountingContext(limit)
		_, err := NewSATResolver(ResolverConfig{}).Resolve(ctx, u, r)
		if ctx.after > 1 {
			t.Errorf("limit %d: the resolver looked at the context %d times after the deadline", limit, ctx.after)
		}
		var ie *InterruptedError
		var got *UnsatisfiableError
		switch {
		case errors.As(err, &got):
			if got.Interrupted == nil || !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("limit %d: err = %v, want one marked interrupted", limit, err)
			}
			e, eerr := encode(u, r, 1<<20, -1, nil)
			if eerr != nil {
				t.Fatal(eerr)
			}
			var facts []fact
			for _, c := range got.Conflict {
				for _, f := range e.facts {
					if f.Fact.Kind == c.Kind && f.Package == c.Package && f.Release == c.Release && f.Dependency.String() == c.Dependency.String() {
						facts = append(facts, f)
					}
				}
			}
			if len(got.Conflict) == 0 || e.sat(facts) {
				t.Errorf("limit %d: conflict %v of an explanation cut short is satisfiable", limit, got.Conflict)
			}
			cutShort++
			if proven < 0 {
				proven = limit
			}
		case errors.As(err, &ie):
			if errors.Is(err, ErrNoSolution) && proven < 0 {
				proven = limit
			}
			if proven >= 0 && !errors.Is(err, ErrNoSolution) {
				t.Errorf("limit %d: err = %v, want ErrNoSolution after it was proven at limit %d", limit, err, proven)
			}
		default:
			t.Fatalf("limit %d: err = %v, want an *UnsatisfiableError or an *InterruptedError", limit, err)
		}
	}
	t.Logf("%d looks at the context; no plan proven from limit %d; %d explanations cut short", full.calls, proven, cutShort)
	if cutShort == 0 {
		t.Errorf("no deadline among %d looks at the context fell in the explanation", full.calls)
	}
}
