package deps

import (
	"errors"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func FuzzParseDependency(f *testing.F) {
	for _, s := range []string{"nrf", "nrf >=1.2, <2", "amf 2.x", "smf ~1.4", "a>=1", "x *", "", "NRF", "a >=", "b ||", "c 1.2.3 - 1.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDependency(s)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidConstraint) {
				t.Fatalf("error is not a typed InputError: %v", err)
			}
			return
		}
		// What parses renders to text that parses to the same dependency.
		again, err := ParseDependency(d.String())
		if err != nil {
			t.Fatalf("%q parsed to %q, which does not parse: %v", s, d.String(), err)
		}
		if again.String() != d.String() {
			t.Fatalf("%q: round trip %q -> %q", s, d.String(), again.String())
		}
	})
}

func FuzzReleaseFromKptfile(f *testing.F) {
	f.Add([]byte("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: amf\n  annotations:\n    deps.porchkit.io/release: |\n      version: 2.1.0\n      requires: [\"nrf >=1.2, <2\"]\n      provides: [\"5gc-amf=2.1.0\"]\n"), "1.0.0")
	f.Add([]byte("metadata:\n  name: a/b/smf\n"), "3.0.0")
	f.Add([]byte("metadata: [\n"), "1.0.0")
	f.Add([]byte("metadata:\n  name: x\n  annotations:\n    deps.porchkit.io/release: 'requires: [x]'\n"), "1.0.0")
	f.Fuzz(func(t *testing.T, data []byte, version string) {
		r, err := ReleaseFromKptfile(data, version)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error is not a typed InputError: %v", err)
			}
			return
		}
		if r.Name == "" || r.Version == nil {
			t.Fatalf("release without name or version: %+v", r)
		}
		if _, err := NewUniverse(r); err != nil {
			t.Fatalf("a release ReleaseFromKptfile accepted is rejected by the universe: %v", err)
		}
	})
}

// FuzzCompiledRangeAgreesWithSemver checks the fast path of
// Dependency.Allows against Masterminds/semver itself, for every version
// the fuzzer makes up.
func FuzzCompiledRangeAgreesWithSemver(f *testing.F) {
	for _, s := range []string{">=1.2.0", ">=1.2.0, <1.8.0", "=1.0.0", "!=2.0.0", "<1.2.0 || >=3.0.0", ">1.0.0 <=2.0.0", "1.4.0", "=>1.0.0, =<2.0.0", ">= 1.2.0", "~1.4.0", "1.x", ">=1.2"} {
		f.Add(s, "1.4.0")
		f.Add(s, "2.0.0-rc.1")
	}
	f.Fuzz(func(t *testing.T, constraint, version string) {
		d, err := ParseDependency("pkg " + constraint)
		if err != nil || d.Constraint == nil {
			return
		}
		v, err := semver.NewVersion(version)
		if err != nil {
			return
		}
		if got, want := d.Allows(v), d.Constraint.Check(v); got != want {
			t.Fatalf("%q allows %s: fast path %v, semver %v", constraint, v, got, want)
		}
	})
}

func TestCompiledRanges(t *testing.T) {
	for text, compiled := range map[string]bool{
		">=1.2.0": true, ">=1.2.0, <1.8.0": true, "<1.2.0 || >=3.0.0": true, "= 1.0.0": true,
		"~1.4.0": false, "^1.0.0": false, "1.x": false, ">=1.2": false, "1.0.0 - 2.0.0": false, ">=1.0.0-rc.1": false,
	} {
		d := MustParseDependency("pkg " + text)
		if (d.fast != nil) != compiled {
			t.Errorf("%q: compiled %v, want %v", text, d.fast != nil, compiled)
		}
	}
}
