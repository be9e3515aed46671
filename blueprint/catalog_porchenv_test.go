package blueprint_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/porchkit/blueprint"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/porchenv"
)

// TestCatalogRealPorch holds three versions of a blueprint in a repository
// of the real local Porch, resolves constraints against them, and sees a
// fourth version published while the catalog runs.
func TestCatalogRealPorch(t *testing.T) {
	env := porchenv.Setup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := env.RegisterRepository(ctx, "blueprints"); err != nil {
		t.Fatal(err)
	}
	c, err := env.NewClient(porch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	prs := c.PackageRevisions(env.Namespace)
	publish := func(ws, value string) {
		t.Helper()
		d, err := prs.Init(ctx, "blueprints", "amf", ws)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := prs.UpdateResources(ctx, d.Name, func(p *porch.Package) error {
			p.Resources["cm.yaml"] = configMap("amf", value)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := prs.Propose(ctx, d.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := prs.Approve(ctx, d.Name); err != nil {
			t.Fatal(err)
		}
	}
	publish("v1", "one")
	publish("v1-1-0", "one-one")
	publish("v2", "two")
	if _, err := prs.Init(ctx, "blueprints", "amf", "v3"); err != nil { // stays a Draft
		t.Fatal(err)
	}

	src, err := blueprint.NewPorchSource(c, blueprint.PorchSourceConfig{Namespace: env.Namespace, Repositories: []string{"blueprints"}})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := blueprint.NewCatalog(ctx, blueprint.CatalogOptions{}, src)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	for _, tc := range []struct{ constraint, want, value string }{
		{"^1", "1.1.0", "one-one"},
		{"~1.1", "1.1.0", "one-one"},
		{"~1.0", "1.0.0", "one"},
		{">=2", "2.0.0", "two"},
		{"", "2.0.0", "two"},
	} {
		b, err := cat.Get(ctx, blueprint.Ref{Name: "amf", Version: tc.constraint})
		if err != nil {
			t.Fatalf("Get(amf %q): %v", tc.constraint, err)
		}
		if b.Version != "v"+tc.want || !strings.Contains(b.Files["cm.yaml"], "'"+tc.value+"'") {
			t.Errorf("Get(amf %q) = %s with cm.yaml %q, want v%s with %q", tc.constraint, b.Version, b.Files["cm.yaml"], tc.want, tc.value)
		}
	}
	_, err = cat.Resolve(ctx, "amf", ">=3")
	var nm *blueprint.NoMatchError
	if !errors.As(err, &nm) || !errors.Is(err, blueprint.ErrNotPublished) || len(nm.Versions) != 3 {
		t.Errorf("amf >=3: %v", err)
	}
	if _, err := cat.Resolve(ctx, "amf", "<1"); !errors.Is(err, blueprint.ErrNoMatchingVersion) || errors.Is(err, blueprint.ErrNotPublished) {
		t.Errorf("amf <1: %v", err)
	}
	if _, err := cat.Resolve(ctx, "amf", ">>1.."); !errors.Is(err, blueprint.ErrInvalidConstraint) {
		t.Errorf("amf >>1..: %v", err)
	}
	if _, err := cat.Resolve(ctx, "smf", ""); !errors.Is(err, blueprint.ErrUnknownBlueprint) {
		t.Errorf("smf: %v", err)
	}

	// A version published now reaches the running catalog through the watch.
	publish("v2-1-0", "two-one")
	deadline := time.Now().Add(60 * time.Second)
	for {
		e, err := cat.Resolve(ctx, "amf", ">=2.1")
		if err == nil && e.Version.String() == "2.1.0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("amf 2.1.0 not seen within 60s: %v, %v", e, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
