package blueprint

import (
	"context"
	"errors"
	"strings"
	"testing"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// customise edits a downstream package as an operator does: more replicas,
// a label, and a log level the new upstream changes too.
func customise(p *porch.Package) {
	p.Resources["deployment.yaml"] = strings.Replace(p.Resources["deployment.yaml"], "replicas: 1", "replicas: 3", 1)
	p.Resources["config.yaml"] = strings.Replace(p.Resources["config.yaml"], "logLevel: info", "logLevel: debug", 1)
	p.Resources["extra.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: operator-notes\ndata:\n  owner: team-a\n"
}

// upgradeStack is a fake Porch with blueprint v1 and v2 published and a
// customised downstream of v1.
func upgradeStack(t *testing.T) (context.Context, *fakeStack, *porchapi.PackageRevision, *porchapi.PackageRevision) {
	t.Helper()
	ctx, s := newFakeStack(t)
	res, err := GenerateInto(ctx, s.c, s.v1.Name, nil, IntoTarget{Repository: "edge", Package: "amf-edge"}, testVariant(), AsPublished)
	if err != nil {
		t.Fatal(err)
	}
	local := publish(t, ctx, s.prs, "", "", "v2", res.Revision.Name, customise)
	v2 := publish(t, ctx, s.prs, "", "", "v2", s.v1.Name, setFiles(blueprintFiles(2)))
	return ctx, s, local, v2
}

func TestUpgradePreviewBeforeAnyDraft(t *testing.T) {
	ctx, s, local, v2 := upgradeStack(t)
	target := UpgradeTarget{Downstream: local.Name, NewUpstream: v2.Name, Workspace: "v3"}
	creates := s.srv.RequestsFor(fake.VerbCreate, "packagerevisions")

	res, err := Upgrade(ctx, s.c, target, nil, testVariant(), &IntoOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Preview.Conflicts) != 1 || res.Preview.Conflicts[0].Path != "data.logLevel" || res.Preview.Conflicts[0].Local.JSON != `"debug"` || res.Preview.Conflicts[0].NewUpstream.JSON != `"warn"` {
		t.Fatalf("conflicts %+v", res.Preview.Conflicts)
	}
	if res.Revision != nil {
		t.Errorf("a dry run made a revision")
	}

	_, err = Upgrade(ctx, s.c, target, nil, testVariant(), &IntoOptions{Preview: PreviewOptions{Policy: FailOnConflict}})
	var ce *ConflictError
	if !errors.As(err, &ce) || len(ce.Conflicts) != 1 {
		t.Fatalf("err %v, want a *ConflictError", err)
	}
	_, err = Upgrade(ctx, s.c, target, nil, testVariant(), &IntoOptions{Strategy: porchapi.FastForward})
	if !errors.Is(err, ErrNotFastForward) {
		t.Fatalf("err %v, want ErrNotFastForward", err)
	}
	if n := s.srv.RequestsFor(fake.VerbCreate, "packagerevisions") - creates; n != 0 {
		t.Errorf("%d revisions created by refused upgrades", n)
	}
}

func TestUpgradeKeepsCustomizationsOnFake(t *testing.T) {
	ctx, s, local, v2 := upgradeStack(t)
	res, err := Upgrade(ctx, s.c, UpgradeTarget{Downstream: local.Name, NewUpstream: v2.Name, Workspace: "v3"}, nil,
		testVariant(), AsPublished)
	if err != nil {
		t.Fatal(err)
	}
	pr := res.Revision
	if pr.Spec.Lifecycle != porchapi.PackageRevisionLifecyclePublished || pr.Spec.Tasks[0].Type != porchapi.TaskTypeUpgrade || pr.Spec.Tasks[0].Upgrade.NewUpstream.Name != v2.Name {
		t.Fatalf("revision %s, tasks %+v", pr.Spec.Lifecycle, pr.Spec.Tasks)
	}
	if len(res.Preview.Lost) != 0 {
		t.Errorf("lost %v", res.Preview.Lost)
	}
	stored, err := s.prs.Pull(ctx, pr.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Preview.Customizations {
		if c.Resource.File != "" || c.Path == "" {
			continue
		}
		if got := fieldOf(t, stored.Resources, c.Resource, c.Path); got != c.Value {
			t.Errorf("customisation %s %s lost in Porch: %s, want %s", c.Resource, c.Path, got, c.Value)
		}
	}
	// The variant's set-namespace, rendered by the fake as Porch renders,
	// put the resources in namespace amf.
	dep, cfg := deploymentKey, configKey
	dep.Namespace, cfg.Namespace = "amf", "amf"
	for _, ch := range []struct {
		key         ResourceKey
		path, value string
	}{
		{dep, "spec.replicas", "3"},
		{dep, "spec.template.spec.containers.[name=amf].image", `"example.org/amf:2.0"`},
		{cfg, "data.logLevel", `"debug"`},
		{cfg, "data.timeout", `"30s"`},
		{ResourceKey{Kind: "ConfigMap", Namespace: "amf", Name: "operator-notes"}, "data.owner", `"team-a"`},
		{ResourceKey{Kind: "ConfigMap", Name: "amf-site"}, "data.plmn", `"208-93"`},
		{ResourceKey{Kind: "ConfigMap", Name: "kptfile.kpt.dev"}, "data.site", `"edge-1"`},
		{ResourceKey{Kind: "ConfigMap", Name: "kptfile.kpt.dev"}, "data.name", `"amf-edge"`},
	} {
		if got := fieldOf(t, stored.Resources, ch.key, ch.path); got.JSON != ch.value {
			t.Errorf("%s %s = %s, want %s", ch.key, ch.path, got, ch.value)
		}
	}
	if !strings.Contains(stored.Resources["Kptfile"], "upstreamLock") {
		t.Errorf("the upgrade's upstream lock is gone from the Kptfile:\n%s", stored.Resources["Kptfile"])
	}
}

func TestUpgradeBadInput(t *testing.T) {
	ctx, s, local, v2 := upgradeStack(t)
	other := publish(t, ctx, s.prs, "blueprints", "smf", "v1", "", setFiles(map[string]string{"a.yaml": intoConfig}))
	draft, err := s.prs.Copy(ctx, v2.Name, "v9")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		target UpgradeTarget
		want   error
		naming string
	}{
		"downstream not published": {UpgradeTarget{Downstream: draft.Name, NewUpstream: v2.Name, Workspace: "v3"}, ErrInvalidTarget, "Draft"},
		"upstream not published":   {UpgradeTarget{Downstream: local.Name, NewUpstream: draft.Name, Workspace: "v3"}, ErrUpstreamNotPublished, "NewUpstream"},
		"another package":          {UpgradeTarget{Downstream: local.Name, NewUpstream: other.Name, Workspace: "v3"}, ErrInvalidTarget, "blueprints/smf"},
		"no workspace":             {UpgradeTarget{Downstream: local.Name, NewUpstream: v2.Name}, ErrInvalidTarget, "Workspace"},
	} {
		t.Run(name, func(t *testing.T) {
			creates := s.srv.RequestsFor(fake.VerbCreate, "packagerevisions")
			_, err := Upgrade(ctx, s.c, tc.target, nil, testVariant())
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.naming) {
				t.Fatalf("err %v, want %v naming %q", err, tc.want, tc.naming)
			}
			if s.srv.RequestsFor(fake.VerbCreate, "packagerevisions") != creates {
				t.Errorf("a revision was created")
			}
		})
	}
}
