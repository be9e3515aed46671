package deps

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// NewRelease builds the release a hand-written struct would be.
func TestNewReleaseDeclares(t *testing.T) {
	shared := &ReleaseOptions{Needs: []string{"region=eu"}}
	r := NewRelease("amf", "2.1.0",
		Requires("nrf", ">=1.2, <2"), Requires("ausf"), Requires("udm", ">=1", "<3"),
		Optional("metrics-agent", "^1"), Conflicts("legacy-amf"),
		Provides("5gc-amf", "2.1.0"), Provides("n2-endpoint"), Needs("sriov"), shared, nil)
	u, err := NewUniverse(r)
	if err != nil {
		t.Fatal(err)
	}
	got := u.Releases("amf")[0]
	if got.ID() != "amf@2.1.0" {
		t.Errorf("ID = %s", got.ID())
	}
	var texts []string
	for _, d := range got.Requires {
		texts = append(texts, d.String())
	}
	if want := []string{"nrf >=1.2, <2", "ausf", "udm >=1, <3"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("requires = %q, want %q", texts, want)
	}
	if len(got.Optional) != 1 || got.Optional[0].String() != "metrics-agent ^1" || len(got.Conflicts) != 1 || got.Conflicts[0].String() != "legacy-amf" {
		t.Errorf("optional %v, conflicts %v", got.Optional, got.Conflicts)
	}
	if len(got.Provides) != 2 || got.Provides[0].Name != "5gc-amf" || !got.Provides[0].Version.Equal(semver.MustParse("2.1.0")) || got.Provides[1].Version != nil {
		t.Errorf("provides = %+v", got.Provides)
	}
	if !reflect.DeepEqual(got.Needs, []string{"sriov", "region=eu"}) {
		t.Errorf("needs = %v", got.Needs)
	}
	// The ranges behave as written: udm >=1, <3 takes 2.x, not 3.0.0.
	u2, err := NewUniverse(r, NewRelease("nrf", "1.5.0"), NewRelease("ausf", "1.0.0"),
		NewRelease("udm", "2.9.0"), NewRelease("udm", "3.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u2, Request{Roots: []Dependency{MustParseDependency("5gc-amf >=2")}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Releases["udm"].Version.String() != "2.9.0" || p.Releases["amf"] != r {
		t.Errorf("plan = %v", p)
	}
}

// A declaration NewRelease cannot use is reported by the universe, naming
// the release and the text, with the sentinel of what is wrong.
func TestNewReleaseReportsBadDeclarations(t *testing.T) {
	for _, c := range []struct {
		name    string
		release *Release
		want    error
		text    string
	}{
		{"version", NewRelease("amf", "two"), ErrInvalidRelease, "two"},
		{"empty version", NewRelease("amf", ""), ErrInvalidRelease, ""},
		{"name", NewRelease("AMF", "1.0.0"), ErrInvalidRelease, ""},
		{"range", NewRelease("amf", "1.0.0", Requires("nrf", ">=banana")), ErrInvalidConstraint, "nrf >=banana"},
		{"dependency name", NewRelease("amf", "1.0.0", Optional("Bad_Name")), ErrInvalidConstraint, "Bad_Name"},
		{"alternatives with others", NewRelease("amf", "1.0.0", Conflicts("nrf", "<1 || >3", ">=0")), ErrInvalidConstraint, "nrf <1 || >3, >=0"},
		{"capability version", NewRelease("amf", "1.0.0", Provides("5gc-amf", "x.y")), ErrInvalidRelease, "5gc-amf=x.y"},
		{"two capability versions", NewRelease("amf", "1.0.0", Provides("5gc-amf", "1.0.0", "2.0.0")), ErrInvalidRelease, "5gc-amf"},
		{"self", NewRelease("amf", "1.0.0", Requires("amf")), ErrInvalidRelease, "amf"},
		// The first bad declaration is the one reported.
		{"first of two", NewRelease("amf", "1.0.0", Requires("nrf", "~~1"), Provides("c", "no")), ErrInvalidConstraint, "nrf ~~1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewUniverse(NewRelease("nrf", "1.0.0"), c.release)
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want an *InputError wrapping %v", err, c.want)
			}
			if ie.Package != c.release.Name || ie.Text != c.text {
				t.Errorf("err names package %q, text %q; want %q, %q", ie.Package, ie.Text, c.release.Name, c.text)
			}
			u := &Universe{}
			if err := u.Add(c.release); err == nil || u.Len() != 0 {
				t.Errorf("Add accepted it (len %d)", u.Len())
			}
		})
	}
}

func TestNewDependency(t *testing.T) {
	for _, c := range []struct {
		constraints []string
		want        string
		allows      map[string]bool
	}{
		{nil, "nrf", map[string]bool{"0.1.0": true, "9.0.0": true}},
		{[]string{"", "*"}, "nrf", map[string]bool{"1.0.0": true}},
		{[]string{">=1.2, <2"}, "nrf >=1.2, <2", map[string]bool{"1.2.0": true, "1.9.9": true, "2.0.0": false}},
		{[]string{">=1.2", " <2 "}, "nrf >=1.2, <2", map[string]bool{"1.1.0": false, "1.5.0": true, "2.0.0": false}},
		{[]string{"<1.2 || >=3"}, "nrf <1.2 || >=3", map[string]bool{"1.0.0": true, "2.0.0": false, "3.1.0": true}},
		{[]string{"~1.4"}, "nrf ~1.4", map[string]bool{"1.4.9": true, "1.5.0": false}},
	} {
		d, err := NewDependency("nrf", c.constraints...)
		if err != nil {
			t.Fatalf("%q: %v", c.constraints, err)
		}
		if d.String() != c.want {
			t.Errorf("%q renders %q, want %q", c.constraints, d, c.want)
		}
		for v, ok := range c.allows {
			if d.Allows(semver.MustParse(v)) != ok {
				t.Errorf("%s allows %s: %v, want %v", d, v, !ok, ok)
			}
		}
		// The text reads back as the same dependency.
		if again := MustParseDependency(d.String()); again.String() != d.String() {
			t.Errorf("%s reads back as %s", d, again)
		}
	}
	for _, bad := range [][]string{{"nrf", ">=banana"}, {"", ""}, {"nrf>=1"}, {"nrf", "<1 || >2", "<5"}} {
		_, err := NewDependency(bad[0], bad[1:]...)
		var ie *InputError
		if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidConstraint) {
			t.Errorf("%q: err = %v, want ErrInvalidConstraint", bad, err)
		}
	}
}

func TestParseReleaseRef(t *testing.T) {
	r, err := ParseReleaseRef(" upf@1.2.0 ")
	if err != nil || r.Name != "upf" || !r.Version.Equal(semver.MustParse("1.2.0")) || r.String() != "upf@1.2.0" {
		t.Fatalf("ParseReleaseRef = %v, %v", r, err)
	}
	if r := MustParseReleaseRef("nf.example@2"); r.String() != "nf.example@2.0.0" {
		t.Errorf("short version: %v", r)
	}
	for _, bad := range []string{"", "upf", "upf@", "@1.0.0", "UPF@1.0.0", "upf@one", "a@b@1.0.0"} {
		_, err := ParseReleaseRef(bad)
		var ie *InputError
		if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidRequest) || ie.Text != bad {
			t.Errorf("%q: err = %v, want ErrInvalidRequest naming the text", bad, err)
		}
	}
	// A reference without a version renders without panicking.
	if s := (ReleaseRef{Name: "upf"}).String(); !strings.HasPrefix(s, "upf@") {
		t.Errorf("String without version = %q", s)
	}
}
