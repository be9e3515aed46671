package deps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// TestBadInputIsTypedNeverPanics: every malformed input that goes through
// the universe, the constructors, the parsers and the request validation
// is an error of the package's sentinels (an *InputError naming what is
// wrong), never a panic and never a plan.
func TestBadInputIsTypedNeverPanics(t *testing.T) {
	u := mustUniverse(t,
		NewRelease("nrf", "1.0.0"), NewRelease("nrf", "2.0.0"),
		NewRelease("amf", "1.0.0", Requires("nrf", ">=2"), Provides("5gc-amf")))
	resolve := func(u *Universe, req Request) error {
		p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, req)
		if err == nil {
			return fmt.Errorf("resolved to %v", p)
		}
		return err
	}
	roots := dependencies("amf")
	v1 := semver.MustParse("1.0.0")
	for _, c := range []struct {
		name string
		run  func() error
		want error
		// mention is text the error must hold (the package, field or
		// input concerned).
		mention string
	}{
		// The universe.
		{"duplicate release", func() error { _, err := NewUniverse(NewRelease("nrf", "1.0.0"), NewRelease("nrf", "1.0")); return err }, ErrInvalidRelease, "duplicate release"},
		{"duplicate release added", func() error { return mustUniverse(t, NewRelease("nrf", "1.0.0")).Add(NewRelease("nrf", "1.0.0")) }, ErrInvalidRelease, "nrf"},
		{"nil release", func() error { _, err := NewUniverse(nil); return err }, ErrInvalidRelease, "nil release"},
		{"release without version", func() error { _, err := NewUniverse(&Release{Name: "nrf"}); return err }, ErrInvalidRelease, "no version"},
		{"release with a bad name", func() error { _, err := NewUniverse(&Release{Name: "Bad Name", Version: v1}); return err }, ErrInvalidRelease, "Bad Name"},
		{"release depending on itself", func() error { _, err := NewUniverse(NewRelease("nrf", "1.0.0", Optional("nrf"))); return err }, ErrInvalidRelease, "its own package"},
		{"add to a nil universe", func() error { var nu *Universe; return nu.Add(NewRelease("nrf", "1.0.0")) }, ErrInvalidRelease, "nil universe"},
		// Constructors and parsers.
		{"malformed range", func() error { _, err := ParseDependency("nrf >=1.2, <<2"); return err }, ErrInvalidConstraint, "nrf"},
		{"range without a version", func() error { _, err := ParseDependency("nrf >="); return err }, ErrInvalidConstraint, "nrf"},
		{"malformed range built", func() error { _, err := NewDependency("nrf", "1.2.3.4"); return err }, ErrInvalidConstraint, "1.2.3.4"},
		{"malformed range declared", func() error { _, err := NewUniverse(NewRelease("amf", "1.0.0", Requires("nrf", "^^1"))); return err }, ErrInvalidConstraint, "nrf ^^1"},
		{"malformed version declared", func() error { _, err := NewUniverse(NewRelease("amf", "v1.x.0")); return err }, ErrInvalidRelease, "v1.x.0"},
		{"malformed release reference", func() error { _, err := ParseReleaseRef("nrf-1.0.0"); return err }, ErrInvalidRequest, "nrf-1.0.0"},
		{"malformed Kptfile", func() error { _, err := ReleaseFromKptfile([]byte("metadata: [\n"), "1.0.0"); return err }, ErrInvalidKptfile, "yaml"},
		{"malformed range in a Kptfile", func() error {
			_, err := ReleaseFromKptfile(kptfileWith("amf", `requires: ["nrf >=1 <"]`), "1.0.0")
			return err
		}, ErrInvalidConstraint, "amf"},
		{"malformed Dependency resource", func() error {
			_, err := ReadNephioDependencies(map[string]string{"d.yaml": "apiVersion: req.nephio.org/v1alpha1\nkind: Dependency\nmetadata:\n  name: x\nspec: {}\n"})
			return err
		}, ErrInvalidPackage, "packageName"},
		{"malformed range on a Dependency resource", func() error {
			_, err := ReadNephioDependencies(map[string]string{"d.yaml": "apiVersion: req.nephio.org/v1alpha1\nkind: Dependency\nmetadata:\n  name: x\n  annotations:\n    deps.porchkit.io/constraint: '=>'\nspec:\n  packageName: nrf\n"})
			return err
		}, ErrInvalidConstraint, "d.yaml"},
		// Requests.
		{"nil universe", func() error { return resolve(nil, Request{Roots: roots}) }, ErrInvalidRequest, "empty universe"},
		{"empty universe", func() error { return resolve(&Universe{}, Request{Roots: roots}) }, ErrInvalidRequest, "empty universe"},
		{"no roots", func() error { return resolve(u, Request{}) }, ErrInvalidRequest, "no root"},
		{"root with a bad name", func() error { return resolve(u, Request{Roots: []Dependency{{Name: "AMF"}}}) }, ErrInvalidRequest, "AMF"},
		{"unknown root", func() error { return resolve(u, Request{Roots: dependencies("smf")}) }, ErrUnknownPackage, "smf"},
		{"unknown package locked", func() error {
			return resolve(u, Request{Roots: roots, Locked: []ReleaseRef{MustParseReleaseRef("upf@1.0.0")}})
		}, ErrInvalidRequest, "upf"},
		{"unknown version locked", func() error {
			return resolve(u, Request{Roots: roots, Locked: []ReleaseRef{MustParseReleaseRef("nrf@3.0.0")}})
		}, ErrInvalidRequest, "nrf@3.0.0"},
		{"lock without version", func() error { return resolve(u, Request{Roots: roots, Locked: []ReleaseRef{{Name: "nrf"}}}) }, ErrInvalidRequest, "nrf"},
		{"contradictory locks", func() error {
			return resolve(u, Request{Roots: roots, Locked: []ReleaseRef{MustParseReleaseRef("nrf@1.0.0"), MustParseReleaseRef("nrf@2.0.0")}})
		}, ErrInvalidRequest, "contradictory"},
		{"unknown package excluded", func() error {
			return resolve(u, Request{Roots: roots, Excluded: []ReleaseRef{MustParseReleaseRef("upf@1.0.0")}})
		}, ErrInvalidRequest, "upf"},
		{"unknown version excluded", func() error {
			return resolve(u, Request{Roots: roots, Excluded: []ReleaseRef{MustParseReleaseRef("amf@9.0.0")}})
		}, ErrInvalidRequest, "amf@9.0.0"},
		{"exclusion without version", func() error { return resolve(u, Request{Roots: roots, Excluded: []ReleaseRef{{Name: "nrf"}}}) }, ErrInvalidRequest, "nrf"},
		{"locked and excluded", func() error {
			x := MustParseReleaseRef("nrf@2.0.0")
			return resolve(u, Request{Roots: roots, Locked: []ReleaseRef{x}, Excluded: []ReleaseRef{x}})
		}, ErrInvalidRequest, "both locked and excluded"},
		{"cost model out of range", func() error {
			// nrf >=2 is excluded, so no plan exists and the costs matter.
			return resolve(u, Request{Roots: roots, Excluded: []ReleaseRef{MustParseReleaseRef("nrf@2.0.0")}, Policy: Policy{Costs: CostModel{LiftExclusion: MaxRepairCost * 2}}})
		}, ErrInvalidRequest, "Policy.Costs.LiftExclusion"},
		// Building a universe from Porch.
		{"nil package source", func() error { _, err := UniverseFromPorch(context.Background(), nil, "r"); return err }, ErrInvalidRequest, "PackageSource"},
		{"context already done", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := UniverseFromPorch(ctx, fakeSource{}, "catalog")
			return err
		}, context.Canceled, "catalog"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("panic: %v", p)
					}
				}()
				err = c.run()
			}()
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want one wrapping %v", err, c.want)
			}
			var ie *InputError
			if c.want != context.Canceled && !errors.As(err, &ie) {
				t.Errorf("err = %v (%T), want an *InputError", err, err)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("err = %v, want it to name %q", err, c.mention)
			}
		})
	}
}

// A nil *Universe reads as empty rather than panicking.
func TestNilUniverseReadsEmpty(t *testing.T) {
	var u *Universe
	if u.Len() != 0 || u.Packages() != nil || u.Releases("nrf") != nil || u.Release("nrf", semver.MustParse("1.0.0")) != nil ||
		u.Known("nrf") || u.Candidates(MustParseDependency("nrf")) != nil {
		t.Error("a nil universe is not empty")
	}
	var zero Universe
	if err := zero.Add(NewRelease("nrf", "1.0.0", Provides("5gc-nrf"))); err != nil || zero.Len() != 1 || !zero.Known("5gc-nrf") {
		t.Errorf("the zero Universe is not ready to use: %v", err)
	}
	if (&Release{Name: "nrf"}).ID() != "nrf@(no version)" {
		t.Errorf("ID without version = %q", (&Release{Name: "nrf"}).ID())
	}
}
