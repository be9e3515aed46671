package deps

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// rel builds a release: rel("amf", "2.0.0", req("nrf >=3")).
func rel(name, version string, opts ...func(*Release)) *Release {
	r := &Release{Name: name, Version: semver.MustParse(version)}
	for _, o := range opts {
		o(r)
	}
	return r
}

func req(deps ...string) func(*Release) {
	return func(r *Release) {
		for _, d := range deps {
			r.Requires = append(r.Requires, MustParseDependency(d))
		}
	}
}

func opt(deps ...string) func(*Release) {
	return func(r *Release) {
		for _, d := range deps {
			r.Optional = append(r.Optional, MustParseDependency(d))
		}
	}
}

func conflicts(deps ...string) func(*Release) {
	return func(r *Release) {
		for _, d := range deps {
			r.Conflicts = append(r.Conflicts, MustParseDependency(d))
		}
	}
}

func provides(name, version string) func(*Release) {
	return func(r *Release) {
		c := Capability{Name: name}
		if version != "" {
			c.Version = semver.MustParse(version)
		}
		r.Provides = append(r.Provides, c)
	}
}

func needs(n ...string) func(*Release) { return func(r *Release) { r.Needs = append(r.Needs, n...) } }

func universe(t testing.TB, rels ...*Release) *Universe {
	t.Helper()
	u, err := NewUniverse(rels...)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func roots(ds ...string) []Dependency {
	var out []Dependency
	for _, d := range ds {
		out = append(out, MustParseDependency(d))
	}
	return out
}

func ref(name, version string) ReleaseRef {
	return ReleaseRef{Name: name, Version: semver.MustParse(version)}
}

// versions renders a plan as name=version pairs, sorted.
func versions(p *Plan) string {
	var out []string
	for _, g := range p.Order {
		for _, n := range g {
			out = append(out, n+"="+p.Releases[n].Version.String())
		}
	}
	return strings.Join(out, " ")
}

// legacyResolver is the resolver with the search before it learned
// (backjumping, then gophersat as its oracle past budget; a negative
// budget goes to the solver at the first dead end, 0 is the old default).
func legacyResolver(cfg ResolverConfig, budget int) *SATResolver {
	r := NewSATResolver(cfg)
	r.legacy, r.legacyBudget = true, budget
	return r
}

// fiveGC is a small 5G core universe.
func fiveGC(t testing.TB) *Universe {
	return universe(t,
		rel("nrf", "1.0.0"), rel("nrf", "2.0.0"), rel("nrf", "3.0.0"),
		rel("ausf", "1.0.0", req("nrf >=1")), rel("ausf", "1.1.0", req("nrf >=2")),
		rel("amf", "1.0.0", req("nrf >=1, <3", "ausf 1.x")),
		rel("amf", "2.0.0", req("nrf >=3", "ausf ~1.1")),
		rel("smf", "1.4.0", req("nrf <3")),
		rel("smf", "1.5.0", req("nrf >=2")),
		rel("upf", "1.0.0", req("smf >=1.4, <1.5")),
	)
}

func TestResolveRules(t *testing.T) {
	cases := []struct {
		name    string
		u       func(testing.TB) *Universe
		req     Request
		want    string // name=version pairs in install order
		wantErr error
		// learningOnly: the legacy search gets it wrong (it refused a
		// request whose preferred plan has a cycle).
		learningOnly bool
	}{
		{
			name: "dependencies, newest first, install order",
			u:    fiveGC,
			req:  Request{Roots: roots("amf")},
			want: "nrf=3.0.0 ausf=1.1.0 amf=2.0.0",
		},
		{
			name: "a root's constraint narrows its dependencies",
			u:    fiveGC,
			req:  Request{Roots: roots("amf 1.x")},
			want: "nrf=2.0.0 ausf=1.1.0 amf=1.0.0",
		},
		{
			name: "two roots share a dependency version",
			u:    fiveGC,
			req:  Request{Roots: roots("amf", "upf")},
			want: "nrf=2.0.0 ausf=1.1.0 amf=1.0.0 smf=1.4.0 upf=1.0.0",
		},
		{
			name: "roots win over transitive recency",
			u: func(t testing.TB) *Universe {
				return universe(t, rel("app", "1.0.0", req("lib 1.x")), rel("app", "2.0.0", req("lib 2.x")),
					rel("lib", "1.9.0"), rel("lib", "2.0.0"))
			},
			req:  Request{Roots: roots("app")},
			want: "lib=2.0.0 app=2.0.0",
		},
		{
			name: "optional dependency taken when possible",
			u: func(t testing.TB) *Universe {
				return universe(t, rel("amf", "1.0.0", opt("metrics")), rel("metrics", "1.0.0"))
			},
			req:  Request{Roots: roots("amf")},
			want: "metrics=1.0.0 amf=1.0.0",
		},
		{
			name: "optional dependency dropped when it cannot be satisfied",
			u: func(t testing.TB) *Universe {
				return universe(t, rel("amf", "1.0.0", opt("metrics"), conflicts("metrics")), rel("metrics", "1.0.0"))
			},
			req:  Request{Roots: roots("amf")},
			want: "amf=1.0.0",
		},
		{
			name: "conflict forces an older version",
			u: func(t testing.TB) *Universe {
				return universe(t, rel("a", "1.0.0"), rel("a", "2.0.0", conflicts("b")), rel("b", "1.0.0"))
			},
			req:  Request{Roots: roots("a", "b")},
			want: "a=1.0.0 b=1.0.0",
		},
		{
			name: "capability provided by a package",
			u: func(t testing.TB) *Universe {
				return universe(t, rel("udm", "1.0.0", req("5gc-database >=1")),
					rel("mongo", "6.0.0", provides("5gc-database", "1.2.0")), rel("redis", "7.0.0", provides("5gc-database", "0.9.0")))
			},
			req:  Request{Roots: roots("udm")},
			want: "mongo=6.0.0 udm=1.0.0",
		},
		{
			name: "lock keeps the deployed version",
			u:    fiveGC,
			req:  Request{Roots: roots("ausf"), Locked: []ReleaseRef{ref("nrf", "1.0.0")}},
			want: "nrf=1.0.0 ausf=1.0.0",
		},
		{
			name: "exclusion skips a bad version",
			u:    fiveGC,
			req:  Request{Roots: roots("amf"), Excluded: []ReleaseRef{ref("amf", "2.0.0")}},
			want: "nrf=2.0.0 ausf=1.1.0 amf=1.0.0",
		},
		{
			name: "cycle allowed by policy forms one group",
			u: func(t testing.TB) *Universe {
				return universe(t, rel("a", "1.0.0", req("b")), rel("b", "1.0.0", req("a")), rel("c", "1.0.0", req("a")))
			},
			req:  Request{Roots: roots("c"), Policy: Policy{AllowCycles: true}},
			want: "a=1.0.0 b=1.0.0 c=1.0.0",
		},
		{
			name: "cycle refused by default",
			u: func(t testing.TB) *Universe {
				return universe(t, rel("a", "1.0.0", req("b")), rel("b", "1.0.0", req("a")))
			},
			req:     Request{Roots: roots("a")},
			wantErr: ErrCycle,
		},
		{
			// The newest b closes a cycle; an older b does not, so with
			// cycles forbidden the plan takes it.
			name: "cycle avoided by another version",
			u: func(t testing.TB) *Universe {
				return universe(t, rel("a", "1.0.0", req("b")), rel("b", "1.0.0"), rel("b", "2.0.0", req("a")))
			},
			req:          Request{Roots: roots("a")},
			want:         "b=1.0.0 a=1.0.0",
			learningOnly: true,
		},
		{
			// An optional dependency that would close a cycle is left out.
			name: "optional dependency left out to avoid a cycle",
			u: func(t testing.TB) *Universe {
				return universe(t, rel("a", "1.0.0", req("b")), rel("b", "1.0.0", opt("c")), rel("c", "1.0.0", req("a")))
			},
			req:          Request{Roots: roots("a")},
			want:         "b=1.0.0 a=1.0.0",
			learningOnly: true,
		},
		{
			// An optional dependency on a package in the plan is an edge.
			name: "optional dependency on a package in the plan closes a cycle",
			u: func(t testing.TB) *Universe {
				return universe(t, rel("a", "1.0.0", req("b")), rel("b", "1.0.0", opt("a")))
			},
			req:     Request{Roots: roots("a")},
			wantErr: ErrCycle,
		},
		{
			name:    "no solution",
			u:       fiveGC,
			req:     Request{Roots: roots("amf 2.x", "smf =1.4")},
			wantErr: ErrNoSolution,
		},
		{
			name:    "unknown root package",
			u:       fiveGC,
			req:     Request{Roots: roots("pcf")},
			wantErr: ErrUnknownPackage,
		},
		{
			name:    "contradictory locks",
			u:       fiveGC,
			req:     Request{Roots: roots("amf"), Locked: []ReleaseRef{ref("nrf", "1.0.0"), ref("nrf", "2.0.0")}},
			wantErr: ErrInvalidRequest,
		},
		{
			name:    "lock of a release the universe lacks",
			u:       fiveGC,
			req:     Request{Roots: roots("amf"), Locked: []ReleaseRef{ref("nrf", "9.0.0")}},
			wantErr: ErrInvalidRequest,
		},
		{
			name:    "no roots",
			u:       fiveGC,
			req:     Request{},
			wantErr: ErrInvalidRequest,
		},
		{
			name:    "exclusion of a release the universe lacks",
			u:       fiveGC,
			req:     Request{Roots: roots("amf"), Excluded: []ReleaseRef{ref("nrf", "9.0.0")}},
			wantErr: ErrInvalidRequest,
		},
		{
			name:    "exclusion of an unknown package",
			u:       fiveGC,
			req:     Request{Roots: roots("amf"), Excluded: []ReleaseRef{ref("pcf", "1.0.0")}},
			wantErr: ErrInvalidRequest,
		},
	}
	// Every case runs on the learning search and on the legacy one with
	// the SAT solver as its oracle from the first dead end.
	paths := map[string]func() *SATResolver{
		"learning": func() *SATResolver { return NewSATResolver(ResolverConfig{}) },
		"legacy":   func() *SATResolver { return legacyResolver(ResolverConfig{}, -1) },
	}
	for _, tc := range cases {
		for path, resolver := range paths {
			if tc.learningOnly && path != "learning" {
				continue
			}
			t.Run(tc.name+"/"+path, func(t *testing.T) {
				u := tc.u(t)
				p, err := resolver().Resolve(context.Background(), u, tc.req)
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("err = %v, want %v", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := versions(p); got != tc.want {
					t.Errorf("plan = %s, want %s", got, tc.want)
				}
				if !p.Optimal {
					t.Error("plan not proven optimal")
				}
				if err := Check(u, tc.req, p); err != nil {
					t.Errorf("plan fails the independent check: %v", err)
				}
			})
		}
	}
}

// TestCycleErrorNamesTheFactsThatForceIt: a cycle error comes only when
// every plan has a cycle, and lists a minimal set of facts forcing one.
func TestCycleErrorNamesTheFactsThatForceIt(t *testing.T) {
	u := universe(t,
		rel("a", "1.0.0", req("b")), rel("a", "2.0.0", req("b >=2")),
		rel("b", "1.0.0", req("c")), rel("b", "2.0.0", req("a")),
		rel("c", "1.0.0", req("a <2")), rel("d", "1.0.0"),
	)
	_, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, Request{Roots: roots("a", "d")})
	var ce *CycleError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCycle) {
		t.Fatalf("err = %v, want a *CycleError", err)
	}
	var facts []string
	for _, f := range ce.Facts {
		facts = append(facts, f.String())
	}
	// a 2 needs b 2, which needs a; a 1 needs b, whose 1 needs c, which
	// needs a <2, and whose 2 needs a: every plan has a cycle. d plays no
	// part.
	want := []string{"you asked for a", "a@1.0.0 requires b", "a@2.0.0 requires b >=2", "b@1.0.0 requires c", "b@2.0.0 requires a", "c@1.0.0 requires a <2"}
	slices.Sort(facts)
	slices.Sort(want)
	if !slices.Equal(facts, want) {
		t.Errorf("facts = %q, want %q", facts, want)
	}
	if len(ce.Cycles) != 1 || !slices.Equal(ce.Cycles[0], []string{"a", "b"}) {
		t.Errorf("cycles = %v, want the preferred plan's [[a b]]", ce.Cycles)
	}
	if !strings.Contains(err.Error(), "forced by: ") {
		t.Errorf("error text %q does not say what forces the cycle", err)
	}
}

// TestProviderOrderIsThePreferences: which provider of a capability is
// tried first follows the preference (by default the highest version of
// the capability, then the package name), never the order releases were
// added; PreferProviders puts chosen providers first.
func TestProviderOrderIsThePreferences(t *testing.T) {
	rels := []*Release{
		rel("udm", "1.0.0", req("5gc-database")),
		rel("redis", "7.0.0", provides("5gc-database", "1.0.0")),
		rel("mongo", "6.0.0", provides("5gc-database", "2.0.0")),
		rel("etcd", "3.0.0", provides("5gc-database", "")),
		rel("cassandra", "4.0.0", provides("5gc-database", "2.0.0")),
	}
	r := Request{Roots: roots("udm")}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {0, 4, 3, 2, 1}, {3, 1, 4, 0, 2}} {
		var shuffled []*Release
		for _, i := range order {
			shuffled = append(shuffled, rels[i])
		}
		u := universe(t, shuffled...)
		p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, r)
		if err != nil {
			t.Fatal(err)
		}
		// mongo and cassandra provide 2.0.0; cassandra comes first by name.
		if got := versions(p); got != "cassandra=4.0.0 udm=1.0.0" {
			t.Errorf("releases added in order %v: plan = %s, want cassandra by the default order", order, got)
		}
		pref := PreferProviders(NewestFirst, map[string][]string{"5gc-database": {"etcd", "redis"}})
		p, err = NewSATResolver(ResolverConfig{Preference: pref}).Resolve(context.Background(), u, r)
		if err != nil {
			t.Fatal(err)
		}
		if got := versions(p); got != "etcd=3.0.0 udm=1.0.0" {
			t.Errorf("releases added in order %v: plan = %s, want etcd as the preference says", order, got)
		}
	}
	// A listed provider that admits no plan gives way to the next one.
	u := universe(t, append(slices.Clone(rels), rel("etcd", "3.1.0", provides("5gc-database", ""), req("zz")), rel("zz", "1.0.0", conflicts("udm")))...)
	pref := PreferProviders(NewestFirst, map[string][]string{"5gc-database": {"etcd", "redis"}})
	p, err := NewSATResolver(ResolverConfig{Preference: pref}).Resolve(context.Background(), u, r)
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(p); got != "etcd=3.0.0 udm=1.0.0" {
		t.Errorf("plan = %s, want etcd 3.0.0 (3.1.0 needs zz, which conflicts with udm)", got)
	}
}
