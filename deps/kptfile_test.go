package deps

import (
	"context"
	"errors"
	"strings"
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
		for _, line := range strings.Split(annotation, "\n") {
			s += "      " + line + "\n"
		}
	}
	return []byte(s)
}

// planText renders a plan as name=version pairs in install order.
func planText(p *Plan) string {
	var out []string
	for _, g := range p.Order {
		for _, n := range g {
			out = append(out, n+"="+p.Releases[n].Version.String())
		}
	}
	return strings.Join(out, " ")
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
	if got := planText(p); got != "nrf=2.0.0 amf=2.1.0 udm=4.0.0" {
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

// A release from Porch is named after Porch's package (its last path
// element), which Nephio's Dependency resources name, even when the
// Kptfile keeps another name (a blueprint pushed to git keeps its own);
// the annotation's name wins over both.
func TestUniverseFromPorchNamesReleases(t *testing.T) {
	src := fakeSource{"r": {
		{Package: "edge/free5gc-upf", Revision: 2, Kptfile: kptfileWith("pkg-upf", "")},
		{Package: "smf", Revision: 1, Kptfile: kptfileWith("pkg-smf", "name: free5gc-smf\nversion: 1.4.0")},
		{Revision: 1, Kptfile: kptfileWith("nf/nrf", "")},
	}}
	u, err := UniverseFromPorch(context.Background(), src, "r")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(u.Packages(), " "); got != "free5gc-smf free5gc-upf nrf" {
		t.Errorf("packages = %s", got)
	}
	if r := u.Releases("free5gc-upf"); len(r) != 1 || r[0].Version.String() != "2.0.0" {
		t.Errorf("free5gc-upf = %v", r)
	}
	// ReleaseFromKptfile alone knows only the Kptfile's name.
	if r, err := ReleaseFromKptfile(kptfileWith("a/b/pkg-upf", ""), "1.0.0"); err != nil || r.Name != "pkg-upf" {
		t.Errorf("ReleaseFromKptfile = %v, %v", r, err)
	}
}

// Misuse of UniverseFromPorch is a typed error, and a context already done
// stops it before the source is asked.
func TestUniverseFromPorchMisuse(t *testing.T) {
	src := fakeSource{"r": {{Package: "nrf", Revision: 1, Kptfile: kptfileWith("nrf", "")}}}
	if _, err := UniverseFromPorch(context.Background(), nil, "r"); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("nil source: err = %v", err)
	}
	if _, err := UniverseFromPorch(context.Background(), src); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("no repositories: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	asked := false
	_, err := UniverseFromPorch(ctx, sourceFunc(func(context.Context, string) ([]PublishedPackage, error) {
		asked = true
		return src["r"], nil
	}), "r")
	if !errors.Is(err, context.Canceled) || asked || !strings.Contains(err.Error(), "r") {
		t.Errorf("done context: err = %v, source asked: %v", err, asked)
	}
	// Two revisions declaring the same version are a duplicate release.
	dup := fakeSource{"r": {
		{Package: "nrf", Revision: 1, Kptfile: kptfileWith("nrf", "version: 1.0.0")},
		{Package: "nrf", Revision: 2, Kptfile: kptfileWith("nrf", "version: 1.0.0")},
	}}
	_, err = UniverseFromPorch(context.Background(), dup, "r")
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidRelease) || ie.Package != "nrf" || !strings.Contains(err.Error(), "r/nrf revision 2") {
		t.Errorf("duplicate: err = %v", err)
	}
}

type sourceFunc func(ctx context.Context, repo string) ([]PublishedPackage, error)

func (f sourceFunc) PublishedPackages(ctx context.Context, repo string) ([]PublishedPackage, error) {
	return f(ctx, repo)
}
