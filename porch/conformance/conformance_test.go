package conformance

import (
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/porch"
)

func TestBehaviours(t *testing.T) {
	names := Behaviours()
	if len(names) < 63 {
		t.Fatalf("%d behaviours, want at least 63", len(names))
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("behaviour %q listed twice", n)
		}
		seen[n] = true
	}
	// Every concurrency behaviour also runs without the client's write limit.
	limited := 0
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, "concurrency/")
		if !ok || strings.HasPrefix(rest, "unlimited/") {
			continue
		}
		limited++
		if !seen["concurrency/unlimited/"+rest] {
			t.Errorf("%s has no run without the write limit", n)
		}
	}
	if limited == 0 {
		t.Error("no concurrency behaviours")
	}
}

func TestUnlimitedRunDiffers(t *testing.T) {
	// Clients are made without contacting a server.
	newClient := func() porch.Client {
		c, err := porch.New(&rest.Config{Host: "http://127.0.0.1:1"}, porch.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	limited := newClient()
	s := &suite{prs: limited.PackageRevisions("default"), unlimited: newClient()}
	u := s.withoutWriteLimit()
	if s.pkgName(t, "") == u.pkgName(t, "") {
		t.Errorf("both runs name their packages %q", s.pkgName(t, ""))
	}
	// Only the run without the limit accepts Porch's racing 500s.
	if isOneOf(porch.ErrInternal, s.raceErrors(porch.ErrBusy)...) {
		t.Error("the limited run accepts porch.ErrInternal from a losing call")
	}
	if !isOneOf(porch.ErrInternal, u.raceErrors(porch.ErrBusy)...) || !isOneOf(porch.ErrBusy, u.raceErrors(porch.ErrBusy)...) {
		t.Error("the unlimited run does not accept porch.ErrInternal besides the given kinds")
	}
}
