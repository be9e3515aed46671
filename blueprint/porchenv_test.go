package blueprint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/porchenv"
)

// TestRealPorch runs GenerateInto and Upgrade on the real local Porch
// (porch-server v1.5.3 with its git server and function runner, and Porch's
// own PackageVariant controller): a repository holding three versions of a
// blueprint resolved by semver constraints through the catalog, a
// downstream in a deployment repository, a customised downstream revision,
// an upgrade with preview, a new upstream version published and a second
// upgrade to it; and a PackageVariant next to
// the equivalent GenerateInto, whose downstream packages must be the same.
func TestRealPorch(t *testing.T) {
	env := porchenv.Setup(t, &porchenv.Environment{PackageVariantController: true})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if _, err := env.RegisterRepository(ctx, "blueprints"); err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{"edge", "edge-pv", "edge-gi"} {
		if _, err := env.RegisterRepository(ctx, repo, porch.AsDeployment); err != nil {
			t.Fatal(err)
		}
	}
	c, err := env.NewClient(porch.Options{Cache: porch.CacheOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	prs := c.PackageRevisions("default")

	start := time.Now()
	v1 := publish(t, ctx, prs, "blueprints", "amf", "v1", "", setFiles(blueprintFiles(1)))
	v2 := publish(t, ctx, prs, "", "", "v2", v1.Name, setFiles(blueprintFiles(2)))
	v3 := publish(t, ctx, prs, "", "", "v3", v2.Name, setFiles(blueprintFiles(2)))
	t.Logf("three blueprint versions published in %s (revisions %d, %d, %d)", time.Since(start).Round(time.Millisecond), v1.Spec.Revision, v2.Spec.Revision, v3.Spec.Revision)
	src, err := NewPorchSource(c, PorchSourceConfig{Name: "porch", Namespace: "default", Repositories: []string{"blueprints"}})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := NewCatalog(ctx, CatalogOptions{DisableCache: true}, src)
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(constraint string) string {
		t.Helper()
		e, err := cat.Resolve(ctx, "amf", constraint)
		if err != nil {
			t.Fatalf("Resolve(amf, %q): %v", constraint, err)
		}
		return e.Location
	}

	t.Run("GenerateInto and Upgrade keep customisations", func(t *testing.T) {
		first := resolve("<2")
		if first != v1.Name {
			t.Fatalf("Resolve(amf, <2) = %s, want %s", first, v1.Name)
		}
		start := time.Now()
		res, err := GenerateInto(ctx, c, first, nil, IntoTarget{Repository: "edge", Package: "amf-edge"},
			testVariant(), RequireDeployment(true), AsPublished)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("GenerateInto to Published: %s", time.Since(start).Round(time.Millisecond))
		if res.Revision.Status.UpstreamLock == nil || res.Revision.Status.UpstreamLock.Git == nil {
			t.Fatalf("Porch recorded no upstream lock: %+v", res.Revision.Status)
		}
		local := publish(t, ctx, prs, "", "", "v2", res.Revision.Name, customise)

		start = time.Now()
		target := UpgradeTarget{Downstream: local.Name, NewUpstream: resolve("~2"), Workspace: "v3"}
		if target.NewUpstream != v2.Name {
			t.Fatalf("Resolve(amf, ~2) = %s, want %s", target.NewUpstream, v2.Name)
		}
		before, err := prs.List(ctx, porch.InRepository("edge"))
		if err != nil {
			t.Fatal(err)
		}
		preview, err := Upgrade(ctx, c, target, nil, testVariant(), &IntoOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		after, err := prs.List(ctx, porch.InRepository("edge"))
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Fatalf("the preview made a revision: %d -> %d", len(before), len(after))
		}
		if len(preview.Preview.Conflicts) != 1 || preview.Preview.Conflicts[0].Path != "data.logLevel" {
			t.Fatalf("conflicts before the draft: %+v", preview.Preview.Conflicts)
		}
		t.Logf("upgrade preview: %s", time.Since(start).Round(time.Millisecond))

		start = time.Now()
		up, err := Upgrade(ctx, c, target, nil, testVariant(), AsPublished)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("Upgrade v1 -> v2 to Published: %s", time.Since(start).Round(time.Millisecond))
		assertKept(t, ctx, prs, up)
		if lock := up.Revision.Status.UpstreamLock; lock == nil || lock.Git == nil || !strings.Contains(lock.Git.Ref, "v2") {
			t.Errorf("upstream lock after the upgrade: %+v", lock)
		}

		// A new upstream version is published; the latest is resolved and
		// the downstream, made by an upgrade, is upgraded again.
		v4 := publish(t, ctx, prs, "", "", "v4", v3.Name, setFiles(blueprintFiles(3)))
		latest := resolve(">=2")
		if latest != v4.Name {
			t.Fatalf("Resolve(amf, >=2) = %s, want the new %s", latest, v4.Name)
		}
		up3, err := Upgrade(ctx, c, UpgradeTarget{Downstream: up.Revision.Name, NewUpstream: latest, Workspace: "v4"}, nil, testVariant(), AsPublished)
		if err != nil {
			t.Fatal(err)
		}
		assertKept(t, ctx, prs, up3)
		stored, err := prs.Pull(ctx, up3.Revision.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fieldOf(t, stored.Resources, ResourceKey{Kind: "Service", Namespace: "amf", Name: "amf"}, "spec.ports.[name=sbi].port"); got.JSON != "80" {
			t.Errorf("v4's new Service: %s", got)
		}
		// Porch rendered the pipeline the variant prepended.
		if got := fieldOf(t, stored.Resources, ResourceKey{Group: "apps", Kind: "Deployment", Namespace: "amf", Name: "amf"}, "metadata.namespace"); got.JSON != `"amf"` {
			t.Errorf("set-namespace not rendered by Porch: %s", got)
		}
	})

	t.Run("bad input leaves nothing in Porch", func(t *testing.T) {
		draft, err := prs.Init(ctx, "blueprints", "smf", "v1")
		if err != nil {
			t.Fatal(err)
		}
		unmatched := WithGenerateOptions(append(variantOptions(), &GenerateOptions{Injectors: []Injector{{Name: "nowhere"}}})...)
		for name, tc := range map[string]struct {
			upstream string
			target   IntoTarget
			opts     []IntoOption
			want     error
		}{
			"upstream not published":      {draft.Name, IntoTarget{Repository: "edge", Package: "smf-edge"}, nil, ErrUpstreamNotPublished},
			"not a deployment repository": {v1.Name, IntoTarget{Repository: "blueprints", Package: "amf-copy"}, []IntoOption{RequireDeployment(true)}, ErrNotDeploymentRepository},
			"unmet readiness gate":        {v1.Name, IntoTarget{Repository: "edge", Package: "amf-unready"}, []IntoOption{unmatched, AsPublished}, ErrReadinessNotMet},
			"invalid values":              {v1.Name, IntoTarget{Repository: "edge", Package: "amf-bad"}, []IntoOption{testVariant()}, ErrInvalidValues},
		} {
			t.Run(name, func(t *testing.T) {
				var values Values
				if tc.want == ErrInvalidValues {
					values = Values{"replicas": "three"}
				}
				_, err := GenerateInto(ctx, c, tc.upstream, values, tc.target, tc.opts...)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err %v, want %v", err, tc.want)
				}
				list, err := prs.List(ctx, porch.InRepository(tc.target.Repository), porch.ForPackage(tc.target.Package))
				if err != nil {
					t.Fatal(err)
				}
				if len(list) != 0 {
					t.Errorf("%d revision(s) of %s left in %s", len(list), tc.target.Package, tc.target.Repository)
				}
			})
		}
	})

	t.Run("PackageVariant and GenerateInto make the same package", func(t *testing.T) {
		edge := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: "default"}, Data: map[string]string{"plmn": "208-93"}}
		if err := env.Client.Create(ctx, edge); err != nil {
			t.Fatal(err)
		}
		pv := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "config.porch.kpt.dev/v1alpha1",
			"kind":       "PackageVariant",
			"metadata":   map[string]any{"name": "amf-edge", "namespace": "default"},
			"spec": map[string]any{
				// Porch v1.5.3's controller picks the upstream by workspace
				// name, else the revision of the "main" branch; the revision
				// number alone finds nothing.
				"upstream":       map[string]any{"repo": "blueprints", "package": "amf", "workspaceName": "v1"},
				"downstream":     map[string]any{"repo": "edge-pv", "package": "amf-edge"},
				"packageContext": map[string]any{"data": map[string]any{"site": "edge-1"}},
				"pipeline": map[string]any{"mutators": []any{map[string]any{
					"name": "ns", "image": "gcr.io/kpt-fn/set-namespace:v0.4.1", "configMap": map[string]any{"namespace": "amf"},
				}}},
				"injectors": []any{map[string]any{"kind": "ConfigMap", "name": "edge"}},
			},
		}}
		start := time.Now()
		if err := env.Client.Create(ctx, pv); err != nil {
			t.Fatal(err)
		}
		fromPV := waitVariantDraft(t, ctx, prs, "edge-pv", "config.injection.ConfigMap.amf-site")
		t.Logf("PackageVariant controller made its draft in %s", time.Since(start).Round(time.Millisecond))

		start = time.Now()
		res, err := GenerateInto(ctx, c, v1.Name, nil, IntoTarget{Repository: "edge-gi", Package: "amf-edge"}, testVariant())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("GenerateInto made its draft in %s", time.Since(start).Round(time.Millisecond))
		a, err := prs.Pull(ctx, fromPV.Name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := prs.Pull(ctx, res.Revision.Name)
		if err != nil {
			t.Fatal(err)
		}
		// The comparison is of specialised packages: injected, with the
		// package context and the prepended function rendered by Porch.
		site := ResourceKey{Kind: "ConfigMap", Name: "amf-site"}
		if got := fieldOf(t, a.Resources, site, "data.plmn"); got.JSON != `"208-93"` {
			t.Errorf("the PackageVariant's package is not injected: plmn %s", got)
		}
		if got := fieldOf(t, a.Resources, ResourceKey{Kind: "ConfigMap", Name: "kptfile.kpt.dev"}, "data.site"); got.JSON != `"edge-1"` {
			t.Errorf("the PackageVariant's package context: site %s", got)
		}
		if got := fieldOf(t, a.Resources, ResourceKey{Group: "apps", Kind: "Deployment", Namespace: "amf", Name: "amf"}, "metadata.namespace"); got.JSON != `"amf"` {
			t.Errorf("the PackageVariant's pipeline was not rendered: %s", got)
		}
		if diff := packageDiff(t, a.Resources, b.Resources); diff != "" {
			t.Errorf("PackageVariant's package and GenerateInto's differ:\n%s", diff)
		}
		gi, err := prs.Get(ctx, res.Revision.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromPV.Spec.ReadinessGates, gi.Spec.ReadinessGates) || len(gi.Spec.ReadinessGates) != 1 {
			t.Errorf("readiness gates: PackageVariant %+v, GenerateInto %+v", fromPV.Spec.ReadinessGates, gi.Spec.ReadinessGates)
		}
		if !reflect.DeepEqual(sortedConditions(fromPV.Status.Conditions), sortedConditions(gi.Status.Conditions)) {
			t.Errorf("conditions: PackageVariant %+v, GenerateInto %+v", fromPV.Status.Conditions, gi.Status.Conditions)
		}
		if !reflect.DeepEqual(fromPV.Status.UpstreamLock, gi.Status.UpstreamLock) {
			t.Errorf("upstream locks: PackageVariant %+v, GenerateInto %+v", fromPV.Status.UpstreamLock, gi.Status.UpstreamLock)
		}
	})
}

// assertKept checks, in what Porch stored, every customisation the preview
// found and the values the test expects of the upgraded package.
func assertKept(t *testing.T, ctx context.Context, prs porch.PackageRevisions, res *IntoResult) {
	t.Helper()
	if res.Revision.Spec.Lifecycle != porchapi.PackageRevisionLifecyclePublished {
		t.Errorf("upgraded revision is %s", res.Revision.Spec.Lifecycle)
	}
	if len(res.Preview.Lost) != 0 {
		t.Errorf("customisations lost: %v", res.Preview.Lost)
	}
	stored, err := prs.Pull(ctx, res.Revision.Name)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, c := range res.Preview.Customizations {
		if c.Resource.File != "" || c.Path == "" || c.Resource.Kind == "Kptfile" {
			continue
		}
		// Porch renders set-namespace after the merge, so resources are
		// found by their key in the rendered package.
		key := c.Resource
		if got := fieldOf(t, stored.Resources, key, c.Path); got != c.Value {
			key.Namespace = "amf"
			if got2 := fieldOf(t, stored.Resources, key, c.Path); got2 != c.Value {
				t.Errorf("customisation %s %s lost in Porch: %s, want %s", c.Resource, c.Path, got, c.Value)
				continue
			}
		}
		kept++
	}
	if kept < 3 {
		t.Errorf("only %d customisations checked", kept)
	}
	dep := ResourceKey{Group: "apps", Kind: "Deployment", Namespace: "amf", Name: "amf"}
	cfg := ResourceKey{Kind: "ConfigMap", Namespace: "amf", Name: "amf-config"}
	for _, ch := range []struct {
		key         ResourceKey
		path, value string
	}{
		{dep, "spec.replicas", "3"},
		{dep, "spec.template.spec.containers.[name=amf].image", `"example.org/amf:2.0"`},
		{cfg, "data.logLevel", `"debug"`},
		{cfg, "data.timeout", `"30s"`},
		{ResourceKey{Kind: "ConfigMap", Namespace: "amf", Name: "operator-notes"}, "data.owner", `"team-a"`},
	} {
		if got := fieldOf(t, stored.Resources, ch.key, ch.path); got.JSON != ch.value {
			t.Errorf("%s %s = %s, want %s", ch.key, ch.path, got, ch.value)
		}
	}
}

// waitVariantDraft waits for the PackageVariant controller's draft in repo
// whose Kptfile has the condition, and returns it.
func waitVariantDraft(t *testing.T, ctx context.Context, prs porch.PackageRevisions, repo, condition string) *porchapi.PackageRevision {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var last string
	for {
		list, err := prs.List(ctx, porch.InRepository(repo))
		if err == nil && len(list) == 1 {
			pr := &list[0]
			for _, c := range pr.Status.Conditions {
				if c.Type == condition {
					return pr
				}
			}
			last = fmt.Sprintf("%s without condition %s (conditions %+v)", pr.Name, condition, pr.Status.Conditions)
		} else {
			last = fmt.Sprintf("%d revisions, err %v", len(list), err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no PackageVariant draft in %s: %s", repo, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func sortedConditions(cs []porchapi.Condition) []porchapi.Condition {
	out := append([]porchapi.Condition(nil), cs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// packageDiff compares two packages file by file, a KRM file by its
// resources as data (key order and YAML style aside), and describes the
// differences.
func packageDiff(t *testing.T, a, b map[string]string) string {
	t.Helper()
	var diffs []string
	for _, f := range fileNames(a, b) {
		ta, okA := a[f]
		tb, okB := b[f]
		switch {
		case !okA || !okB:
			diffs = append(diffs, fmt.Sprintf("%s: only in one package (PackageVariant %t, GenerateInto %t)", f, okA, okB))
		case !isKRMFile(f):
			if ta != tb {
				diffs = append(diffs, fmt.Sprintf("%s differs:\n%s\n---\n%s", f, ta, tb))
			}
		default:
			da, db := resourcesAsData(t, f, ta), resourcesAsData(t, f, tb)
			if da != db {
				diffs = append(diffs, fmt.Sprintf("%s differs:\n%s\n---\n%s", f, da, db))
			}
		}
	}
	return strings.Join(diffs, "\n")
}

func fileNames(ms ...map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func resourcesAsData(t *testing.T, file, text string) string {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: strings.NewReader(text), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var docs []string
	for _, n := range nodes {
		var v any
		if err := n.YNode().Decode(&v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		docs = append(docs, string(data))
	}
	return strings.Join(docs, "\n")
}
