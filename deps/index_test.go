package deps

import (
	"context"
	"errors"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// TestVersionKeysAgreeWithSemver checks the packed version keys that
// compiled ranges compare against Masterminds/semver at their edges: the
// largest component a key holds and the first it cannot, build metadata,
// pre-releases.
func TestVersionKeysAgreeWithSemver(t *testing.T) {
	constraints := []string{">=1.2.3", "<2097151.0.0", ">2097150.9.9, <=2097151.0.0", "!=1.2.3", "=0.0.0", ">=2097152.0.0", "<1.0.2097152"}
	versions := []string{"1.2.3", "1.2.3+build.7", "1.2.4-rc.1", "2097151.0.0", "2097152.0.0", "0.0.0", "1.0.2097151", "1.0.2097152", "0.2097152.0"}
	for _, c := range constraints {
		d := MustParseDependency("pkg " + c)
		for _, text := range versions {
			v := semver.MustParse(text)
			if got, want := d.Allows(v), d.Constraint.Check(v); got != want {
				t.Errorf("%q allows %s: %v, semver says %v", c, text, got, want)
			}
			if got, want := d.allowsKey(v, keyOf(v)), d.Constraint.Check(v); got != want {
				t.Errorf("%q allows %s by its key: %v, semver says %v", c, text, got, want)
			}
		}
	}
	for text, compiled := range map[string]bool{"<2097151.0.0": true, ">=2097152.0.0": false, "<1.0.2097152": false} {
		if d := MustParseDependency("pkg " + text); (d.src.fast != nil) != compiled {
			t.Errorf("%q: compiled %v, want %v", text, d.src.fast != nil, compiled)
		}
	}
}

// TestUniverseIndexFollowsAdd resolves, adds releases, and resolves
// again: the numbers, keys and dependency records the universe keeps for
// the searches must follow every Add, including a newer release inserted
// before the others, a provider of a capability first seen as a
// dependency, and a capability named like a package.
func TestUniverseIndexFollowsAdd(t *testing.T) {
	u := universe(t,
		rel("amf", "1.0.0", req("nrf >=1.0.0", "n2-endpoint")),
		rel("nrf", "1.0.0"),
		rel("nrf", "1.5.0"))
	request := Request{Roots: roots("amf")}
	resolver := NewSATResolver(ResolverConfig{})
	if _, err := resolver.Resolve(context.Background(), u, request); !errors.Is(err, ErrNoSolution) {
		t.Fatalf("without a provider of n2-endpoint: err = %v, want ErrNoSolution", err)
	}
	for _, r := range []*Release{
		rel("gnb", "1.0.0", provides("n2-endpoint", "1.0.0")),
		rel("nrf", "2.0.0", req("udr >=1.0.0")),
		rel("udr", "1.0.0"),
	} {
		if err := u.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	p, err := resolver.Resolve(context.Background(), u, request)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"amf": "1.0.0", "gnb": "1.0.0", "nrf": "2.0.0", "udr": "1.0.0"}
	if len(p.Releases) != len(want) {
		t.Fatalf("plan %v, want %v", p, want)
	}
	for name, v := range want {
		if r := p.Releases[name]; r == nil || r.Version.String() != v {
			t.Errorf("%s: got %v, want %s", name, r, v)
		}
	}
	// Check reads the same records: a plan that keeps nrf 1.5.0 without
	// udr holds, one with nrf 2.0.0 and no udr does not.
	ok := &Plan{Releases: map[string]*Release{"amf": p.Releases["amf"], "gnb": p.Releases["gnb"], "nrf": u.Release("nrf", semver.MustParse("1.5.0"))}}
	if err := Check(u, request, ok); err != nil {
		t.Errorf("Check(nrf 1.5.0) = %v, want nil", err)
	}
	bad := &Plan{Releases: map[string]*Release{"amf": p.Releases["amf"], "gnb": p.Releases["gnb"], "nrf": p.Releases["nrf"]}}
	var pe *PlanError
	if err := Check(u, request, bad); !errors.As(err, &pe) || len(pe.Violations) != 1 {
		t.Errorf("Check(nrf 2.0.0 without udr) = %v, want one violation", err)
	}
	// A provider of a capability named like a package, added last,
	// satisfies a requirement on that package.
	lite := rel("nrf-lite", "1.0.0", provides("nrf", "1.2.0"))
	if err := u.Add(lite); err != nil {
		t.Fatal(err)
	}
	provided := &Plan{Releases: map[string]*Release{"amf": p.Releases["amf"], "gnb": p.Releases["gnb"], "nrf-lite": lite}}
	if err := Check(u, request, provided); err != nil {
		t.Errorf("Check(nrf-lite for nrf) = %v, want nil", err)
	}
	// A release the universe does not hold, under its own name, is
	// refused even when an equal version is there.
	stranger := &Plan{Releases: map[string]*Release{"amf": p.Releases["amf"], "gnb": p.Releases["gnb"], "nrf": rel("nrf", "1.5.0")}}
	if err := Check(u, request, stranger); !errors.As(err, &pe) || len(pe.Violations) != 1 {
		t.Errorf("Check(a copy of nrf 1.5.0) = %v, want one violation", err)
	}
}
