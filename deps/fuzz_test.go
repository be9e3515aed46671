package deps

import (
	"errors"
	"slices"
	"strings"
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
		if (d.src.fast != nil) != compiled {
			t.Errorf("%q: compiled %v, want %v", text, d.src.fast != nil, compiled)
		}
	}
}

func FuzzReadNephioDependencies(f *testing.F) {
	for _, dir := range []string{"free5gc/pkg-example-amf-bp", "oai/pkg-example-cuup-bp"} {
		for name, text := range catalogPackage(f, dir) {
			if strings.HasPrefix(name, "dependency") {
				f.Add(text)
			}
		}
	}
	f.Add("apiVersion: req.nephio.org/v1alpha1\nkind: Dependency\nmetadata:\n  name: x\n  annotations:\n    deps.porchkit.io/constraint: '>=1, <2'\nspec:\n  packageName: a/b\n  injectors:\n  - apiVersion: v1\n    kind: ConfigMap\n")
	f.Add("apiVersion: req.nephio.org/v1alpha1\nkind: Dependency\nspec:\n  packageName: [x]\n---\na: &a [*a]\n")
	f.Add("apiVersion: req.nephio.org/v1alpha1\nkind: Dependency\nspec: {packageName: x, injectors: [{kind: K}]}\n")
	f.Add("- a\n- b\n")
	f.Fuzz(func(t *testing.T, text string) {
		ds, err := ReadNephioDependencies(map[string]string{"dependency.yaml": text})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || !(errors.Is(err, ErrInvalidPackage) || errors.Is(err, ErrInvalidConstraint)) {
				t.Fatalf("error is not a typed InputError: %v", err)
			}
			return
		}
		// What reads is something a release can require.
		for _, d := range ds {
			if d.PackageName == "" {
				t.Fatalf("dependency without a package: %+v", d)
			}
			r := &Release{Name: "depender", Version: semver.MustParse("1.0.0"), Requires: d.Requirements()}
			if d.Dependency.Name == r.Name {
				continue
			}
			if _, err := NewUniverse(r); err != nil {
				t.Fatalf("%+v: requirements %v are rejected: %v", d, r.Requires, err)
			}
			for _, req := range r.Requires {
				if again, err := ParseDependency(req.String()); err != nil || again.String() != req.String() {
					t.Fatalf("requirement %q does not read back: %v, %v", req, again, err)
				}
			}
		}
	})
}

func FuzzParseReleaseRef(f *testing.F) {
	for _, s := range []string{"upf@1.2.0", " nrf@2 ", "a@b@1", "@1.0.0", "x@", "UPF@1.0.0", "nf.example@1.0.0-rc.1+build"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReleaseRef(s)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("error is not a typed InputError: %v", err)
			}
			return
		}
		again, err := ParseReleaseRef(r.String())
		if err != nil || again.Name != r.Name || !again.Version.Equal(r.Version) {
			t.Fatalf("%q parsed to %s, which reads back as %v, %v", s, r, again, err)
		}
	})
}

// FuzzNewRelease: whatever the arguments, NewRelease and the universe
// answer with a release or a typed error, and a release's declarations
// read back as they render.
func FuzzNewRelease(f *testing.F) {
	f.Add("amf", "2.1.0", "nrf", ">=1.2, <2", "5gc-amf", "2.1.0")
	f.Add("amf", "x", "nrf", "<<1", "Bad", "")
	f.Add("a", "1", "a", "", "c", "1.0.0.0")
	f.Add("a", "1.0.0", "b", "<1 || >2", "c", "")
	f.Fuzz(func(t *testing.T, name, version, dep, constraint, capability, capVersion string) {
		opts := []ReleaseOption{Requires(dep, constraint), Conflicts(dep, constraint, constraint)}
		if capVersion == "" {
			opts = append(opts, Provides(capability))
		} else {
			opts = append(opts, Provides(capability, capVersion))
		}
		r := NewRelease(name, version, opts...)
		u, err := NewUniverse(r)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || !(errors.Is(err, ErrInvalidRelease) || errors.Is(err, ErrInvalidConstraint)) {
				t.Fatalf("error is not a typed InputError: %v", err)
			}
			return
		}
		if u.Len() != 1 || r.Version == nil {
			t.Fatalf("universe of %v holds %d releases", r, u.Len())
		}
		for _, d := range slices.Concat(r.Requires, r.Conflicts) {
			again, err := ParseDependency(d.String())
			if err != nil || again.String() != d.String() {
				t.Fatalf("%q does not read back: %v, %v", d, again, err)
			}
		}
	})
}
