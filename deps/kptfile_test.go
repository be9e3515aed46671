package deps

import (
	"context"
	"errors"
	"testing"
)

type fakeSource map[string][]PublishedPackage

func (f fakeSource) PublishedPackages(_ context.Context, repo string) ([]PublishedPackage, error) {
	pkgs, ok := f[repo]
	if !ok {
		return nil, errors.New("no such repository")
	}
	return pkgs, nil
}

func kptfileWith(name, annotation string) []byte {
	s := "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: " + name + "\n"
	if annotation != "" {
		s += "  annotations:\n    deps.porchkit.io/release: |\n"
		for _, line := range splitLines(annotation) {
			s += "      " + line + "\n"
		}
	}
	return []byte(s)
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range s {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestUniverseFromPorchRevisions(t *testing.T) {
	src := fakeSource{"catalog": {
		{Repository: "catalog", Package: "nrf", Revision: 1, Kptfile: kptfileWith("nrf", "")},
		{Repository: "catalog", Package: "nrf", Revision: 2, Kptfile: kptfileWith("nrf", "")},
		{Repository: "catalog", Package: "amf", Revision: 1, Kptfile: kptfileWith("amf", "version: 2.1.0\nrequires: [\"nrf >=2\"]\nneeds: [sriov]")},
		{Repository: "catalog", Package: "nf/udm", Revision: 4, Kptfile: kptfileWith("nf/udm", "provides: [\"5gc-database=1.2.0\"]")},
	}}
	u, err := UniverseFromPorch(context.Background(), src, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	if u.Len() != 4 || len(u.Releases("nrf")) != 2 || u.Releases("udm")[0].Version.String() != "4.0.0" {
		t.Fatalf("universe: %v", u.Packages())
	}
	p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, Request{Roots: roots("amf", "5gc-database >=1")})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(p); got != "nrf=2.0.0 amf=2.1.0 udm=4.0.0" {
		t.Errorf("plan = %s", got)
	}
	if p.Needs["amf"][0] != "sriov" {
		t.Errorf("needs = %v", p.Needs)
	}
	if _, err := UniverseFromPorch(context.Background(), src, "missing"); err == nil {
		t.Error("unknown repository accepted")
	}
	bad := fakeSource{"r": {{Package: "x", Revision: 1, Kptfile: kptfileWith("x", "requires: [\"nrf >=banana\"]")}}}
	_, err = UniverseFromPorch(context.Background(), bad, "r")
	var ie *InputError
	if !errors.As(err, &ie) || ie.Package != "x" || !errors.Is(err, ErrInvalidConstraint) {
		t.Errorf("malformed constraint in a Kptfile: err = %v", err)
	}
	_, err = ReleaseFromKptfile(kptfileWith("x", "unknown: field"), "1.0.0")
	if !errors.Is(err, ErrInvalidKptfile) {
		t.Errorf("unknown annotation field: err = %v", err)
	}
}
