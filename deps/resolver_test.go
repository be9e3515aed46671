package deps

import (
	"context"
	"errors"
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
