package deps

import (
	"context"
	"errors"
	"strings"
	"testing"
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
