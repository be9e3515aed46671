package porch_test

import (
	"context"
	"errors"
	"testing"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"

	"github.com/nephoran/porchkit/porch"
)

// TestCloneSendsResourceMergeByDefault: without WithMergeStrategy a clone
// records resource-merge, as porchctl sends it.
func TestCloneSendsResourceMergeByDefault(t *testing.T) {
	prs, _ := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	up, err := prs.Init(ctx, "blueprints", "up", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Propose(ctx, up.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Approve(ctx, up.Name); err != nil {
		t.Fatal(err)
	}
	clone, err := prs.Clone(ctx, porch.FromRevision(up.Name), "blueprints", "down", "v1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := prs.Get(ctx, clone.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.Tasks) != 1 || got.Spec.Tasks[0].Clone == nil || got.Spec.Tasks[0].Clone.Strategy != porchapi.ResourceMerge {
		t.Fatalf("clone task %+v, want strategy %s", got.Spec.Tasks, porchapi.ResourceMerge)
	}
}

// TestErrorsNameTheVerbCalled: a failure inside a verb is reported under
// that verb, not under the read it made on the way.
func TestErrorsNameTheVerbCalled(t *testing.T) {
	prs, _ := newFakeRepo(t, porch.Options{})
	ctx := context.Background()
	missing := "blueprints.nothing.v1"
	for verb, call := range map[string]func() error{
		"propose": func() error { _, err := prs.Propose(ctx, missing); return err },
		"approve": func() error { _, err := prs.Approve(ctx, missing); return err },
		"push": func() error {
			_, err := prs.Push(ctx, &porch.Package{Name: missing, ResourceVersion: "1", Resources: map[string]string{"Kptfile": "kind: Kptfile\n"}})
			return err
		},
		"update resources": func() error {
			_, err := prs.UpdateResources(ctx, missing, func(*porch.Package) error { return nil })
			return err
		},
		"delete": func() error { return prs.Delete(ctx, missing) },
		"update": func() error {
			_, err := prs.UpdateMetadata(ctx, missing, func(*porchapi.PackageRevision) error { return nil })
			return err
		},
	} {
		err := call()
		var pe *porch.Error
		if !errors.As(err, &pe) || pe.Op != verb || !errors.Is(err, porch.ErrNotFound) {
			t.Errorf("%s of a missing revision: %v (op %q), want ErrNotFound under %q", verb, err, opOf(pe), verb)
		}
	}
}

func opOf(e *porch.Error) string {
	if e == nil {
		return ""
	}
	return e.Op
}
