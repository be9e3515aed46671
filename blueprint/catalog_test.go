package blueprint_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nephoran/porchkit/blueprint"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

const ns = "default"

// kptfile returns a Kptfile for package name with the given annotations
// and keywords.
func kptfile(name string, annotations map[string]string, keywords ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: " + name + "\n")
	if len(annotations) > 0 {
		b.WriteString("  annotations:\n")
		for _, k := range slices.Sorted(maps.Keys(annotations)) {
			b.WriteString("    " + k + ": " + quote(annotations[k]) + "\n")
		}
	}
	b.WriteString("info:\n  description: " + name + " blueprint\n")
	if len(keywords) > 0 {
		b.WriteString("  keywords:\n")
		for _, k := range keywords {
			b.WriteString("  - " + k + "\n")
		}
	}
	return b.String()
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func configMap(name, value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  value: " + quote(value) + "\n"
}

// repoFixture writes package revisions into a fake Porch.
type repoFixture struct {
	t   *testing.T
	ctx context.Context
	c   porch.Client
	srv *fake.Server
}

func newFixture(t *testing.T, opts porch.Options, repos ...string) *repoFixture {
	t.Helper()
	c, srv := fake.NewClientBuilder().WithClientOptions(opts).Build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	for _, r := range repos {
		if _, err := c.Repositories(ns).Register(ctx, r, "https://git.example.com/"+r+".git"); err != nil {
			t.Fatal(err)
		}
	}
	return &repoFixture{t: t, ctx: ctx, c: c, srv: srv}
}

// draft creates a draft of pkg in workspace ws holding files (a Kptfile
// among them, or the one Init made).
func (f *repoFixture) draft(repo, pkg, ws string, files map[string]string) string {
	f.t.Helper()
	prs := f.c.PackageRevisions(ns)
	d, err := prs.Init(f.ctx, repo, pkg, ws)
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := prs.Pull(f.ctx, d.Name)
	if err != nil {
		f.t.Fatal(err)
	}
	maps.Copy(p.Resources, files)
	if _, err := prs.Push(f.ctx, p); err != nil {
		f.t.Fatal(err)
	}
	return d.Name
}

// publish creates and publishes a revision, returning its name.
func (f *repoFixture) publish(repo, pkg, ws string, files map[string]string) string {
	f.t.Helper()
	name := f.draft(repo, pkg, ws, files)
	prs := f.c.PackageRevisions(ns)
	if _, err := prs.Propose(f.ctx, name); err != nil {
		f.t.Fatal(err)
	}
	if _, err := prs.Approve(f.ctx, name); err != nil {
		f.t.Fatal(err)
	}
	return name
}

func (f *repoFixture) catalog(opts blueprint.CatalogOptions, cfg blueprint.PorchSourceConfig) *blueprint.Catalog {
	f.t.Helper()
	src, err := blueprint.NewPorchSource(f.c, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	cat, err := blueprint.NewCatalog(f.ctx, opts, src)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(cat.Close)
	return cat
}

// amfRepository publishes amf v1 (workspace), v1.1.4 (workspace v1-1-4)
// and v2.0.0 (annotation on workspace "second"), leaves amf v3 a Draft
// and nrf v1 Proposed.
func amfRepository(t *testing.T, opts porch.Options) *repoFixture {
	f := newFixture(t, opts, "blueprints")
	f.publish("blueprints", "amf", "v1", map[string]string{"cm.yaml": configMap("amf", "one")})
	f.publish("blueprints", "amf", "v1-1-4", map[string]string{"cm.yaml": configMap("amf", "one-one-four")})
	f.publish("blueprints", "amf", "second", map[string]string{
		"Kptfile": kptfile("amf", map[string]string{blueprint.VersionAnnotation: "2.0.0", blueprint.TypeAnnotation: "network-function"}, "5g", "core"),
		"cm.yaml": configMap("amf", "two")})
	f.draft("blueprints", "amf", "v3", map[string]string{"cm.yaml": configMap("amf", "three")})
	nrf := f.draft("blueprints", "nrf", "v1", nil)
	if _, err := f.c.PackageRevisions(ns).Propose(f.ctx, nrf); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCatalogResolvePorch(t *testing.T) {
	f := amfRepository(t, porch.Options{})
	cat := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	for _, tc := range []struct {
		constraint string
		want       string
		from       blueprint.VersionOrigin
		location   string
	}{
		{"", "2.0.0", blueprint.VersionFromAnnotation, "blueprints.amf.second"},
		{"^1", "1.1.4", blueprint.VersionFromWorkspace, "blueprints.amf.v1-1-4"},
		{"~1.1", "1.1.4", blueprint.VersionFromWorkspace, "blueprints.amf.v1-1-4"},
		{"~1.0", "1.0.0", blueprint.VersionFromWorkspace, "blueprints.amf.v1"},
		{"1.0.0", "1.0.0", blueprint.VersionFromWorkspace, "blueprints.amf.v1"},
		{">=2", "2.0.0", blueprint.VersionFromAnnotation, "blueprints.amf.second"},
		{"<2, >1.0", "1.1.4", blueprint.VersionFromWorkspace, "blueprints.amf.v1-1-4"},
	} {
		e, err := cat.Resolve(f.ctx, "amf", tc.constraint)
		if err != nil {
			t.Fatalf("Resolve(amf, %q): %v", tc.constraint, err)
		}
		if e.Version.String() != tc.want || e.VersionFrom != tc.from || e.Location != tc.location {
			t.Errorf("Resolve(amf, %q) = %s from %s at %s, want %s from %s at %s", tc.constraint, e.Version, e.VersionFrom, e.Location, tc.want, tc.from, tc.location)
		}
	}
	e, err := cat.Resolve(f.ctx, "amf", ">=2")
	if err != nil {
		t.Fatal(err)
	}
	if e.Type != "network-function" || !slices.Equal(e.Keywords, []string{"5g", "core"}) || e.Description != "amf blueprint" ||
		!strings.HasPrefix(e.Digest, "sha256:") || e.Source != "porch:default/blueprints" {
		t.Errorf("entry of amf 2.0.0 = %+v", e)
	}
}

func TestCatalogResolveErrors(t *testing.T) {
	f := amfRepository(t, porch.Options{})
	cat := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})

	_, err := cat.Resolve(f.ctx, "smf", "^1")
	var nf *blueprint.NotFoundError
	var ub *blueprint.UnknownBlueprintError
	if !errors.Is(err, blueprint.ErrUnknownBlueprint) || !errors.As(err, &nf) || !errors.As(err, &ub) {
		t.Fatalf("unknown blueprint: %v", err)
	}
	if !slices.Equal(nf.Known, []string{"amf"}) || ub.Ref != (blueprint.Ref{Name: "smf", Version: "^1"}) {
		t.Errorf("unknown blueprint: known %v, ref %v", nf.Known, ub.Ref)
	}

	_, err = cat.Resolve(f.ctx, "amf", ">=3")
	var nm *blueprint.NoMatchError
	if !errors.As(err, &nm) || !errors.Is(err, blueprint.ErrNoMatchingVersion) || !errors.Is(err, blueprint.ErrNotPublished) {
		t.Fatalf(">=3: %v", err)
	}
	if !slices.Equal(nm.Versions, []string{"v2.0.0", "v1.1.4", "v1.0.0"}) || len(nm.Unpublished) != 1 ||
		nm.Unpublished[0].Location != "blueprints.amf.v3" || nm.Unpublished[0].Lifecycle != "Draft" {
		t.Errorf(">=3: versions %v, unpublished %+v", nm.Versions, nm.Unpublished)
	}
	if !strings.Contains(err.Error(), "v3.0.0 would, but blueprints.amf.v3 is Draft") {
		t.Errorf(">=3: message %q", err)
	}

	_, err = cat.Resolve(f.ctx, "amf", "<1")
	if !errors.Is(err, blueprint.ErrNoMatchingVersion) || errors.Is(err, blueprint.ErrNotPublished) {
		t.Errorf("<1: %v", err)
	}

	_, err = cat.Resolve(f.ctx, "amf", ">>1..")
	var ce *blueprint.ConstraintError
	if !errors.Is(err, blueprint.ErrInvalidConstraint) || !errors.As(err, &ce) || ce.Constraint != ">>1.." || ce.Field != "constraint" {
		t.Errorf("malformed constraint: %v", err)
	}

	_, err = cat.Resolve(f.ctx, "nrf", "")
	var np *blueprint.NotPublishedError
	if !errors.Is(err, blueprint.ErrNotPublished) || !errors.As(err, &np) || len(np.Revisions) != 1 || np.Revisions[0].Lifecycle != "Proposed" {
		t.Errorf("proposed only: %v", err)
	}
	if errors.Is(err, blueprint.ErrUnknownBlueprint) {
		t.Errorf("an unpublished blueprint is not unknown: %v", err)
	}

	if _, err := cat.Resolve(f.ctx, " ", ""); !errors.Is(err, blueprint.ErrInvalidFilter) {
		t.Errorf("empty name: %v", err)
	}
	if _, err := cat.Get(f.ctx, blueprint.Ref{Name: "amf", Version: "^^"}); !errors.Is(err, blueprint.ErrInvalidConstraint) {
		t.Errorf("Get with a malformed version: %v", err)
	}
	if _, err := cat.Get(f.ctx, blueprint.Ref{Name: "amf", Version: "v3.0.0"}); !errors.Is(err, blueprint.ErrNotPublished) {
		t.Errorf("Get of a draft's version: %v", err)
	}
}

func TestCatalogGetIsSource(t *testing.T) {
	f := amfRepository(t, porch.Options{})
	cat := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	var src blueprint.Source = cat
	b, err := src.Get(f.ctx, blueprint.Ref{Name: "amf", Version: "^1"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "amf" || b.Version != "v1.1.4" || !strings.Contains(b.Files["cm.yaml"], "one-one-four") || b.Files["Kptfile"] == "" {
		t.Fatalf("Get(amf ^1) = %s %s %v", b.Name, b.Version, slices.Sorted(maps.Keys(b.Files)))
	}
	b.Files["cm.yaml"] = "changed"
	again, err := src.Get(f.ctx, blueprint.Ref{Name: "amf", Version: "v1.1.4"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(again.Files["cm.yaml"], "one-one-four") {
		t.Errorf("a caller's change reached the catalog: %q", again.Files["cm.yaml"])
	}
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within 20s; last: %s", what, last)
}

func versions(es []blueprint.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name+"@"+e.Version.String())
	}
	return out
}

func TestCatalogWatchRefreshes(t *testing.T) {
	// The client's own cache is off, so every request the catalog does
	// not serve from its cache reaches the fake.
	f := amfRepository(t, porch.Options{Cache: porch.CacheOptions{Disabled: true}})
	cat := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	requests := func() int {
		return f.srv.RequestsFor(fake.VerbList, "packagerevisions") + f.srv.RequestsFor(fake.VerbGet, "packagerevisionresources")
	}
	// Once the watch runs and its first events are in, a listing is
	// served from the cache: no request at all.
	eventually(t, "a cached listing", func() (bool, string) {
		if _, err := cat.List(f.ctx, blueprint.Filter{}); err != nil {
			t.Fatal(err)
		}
		before := requests()
		es, err := cat.List(f.ctx, blueprint.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return requests() == before, strings.Join(versions(es), ",")
	})

	f.publish("blueprints", "amf", "v2-1-0", map[string]string{"cm.yaml": configMap("amf", "two-one")})
	eventually(t, "the new revision", func() (bool, string) {
		e, err := cat.Resolve(f.ctx, "amf", ">=2.1")
		if err != nil {
			return false, err.Error()
		}
		return e.Version.String() == "2.1.0", e.Version.String()
	})
	b, err := cat.Get(f.ctx, blueprint.Ref{Name: "amf", Version: "2.1.0"})
	if err != nil || !strings.Contains(b.Files["cm.yaml"], "two-one") {
		t.Fatalf("Get(amf 2.1.0) = %v, %v", b, err)
	}

	// The draft v3 published appears; amf v1 deleted disappears.
	prs := f.c.PackageRevisions(ns)
	if _, err := prs.Propose(f.ctx, "blueprints.amf.v3"); err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Approve(f.ctx, "blueprints.amf.v3"); err != nil {
		t.Fatal(err)
	}
	if err := prs.Delete(f.ctx, "blueprints.amf.v1", porch.ProposingDeletion); err != nil {
		t.Fatal(err)
	}
	want := []string{"amf@3.0.0", "amf@2.1.0", "amf@2.0.0", "amf@1.1.4"}
	eventually(t, "publish and delete", func() (bool, string) {
		es, err := cat.List(f.ctx, blueprint.Filter{})
		if err != nil {
			return false, err.Error()
		}
		return slices.Equal(versions(es), want), strings.Join(versions(es), ",")
	})
}

func TestCatalogDisableCacheReadsEveryTime(t *testing.T) {
	f := amfRepository(t, porch.Options{Cache: porch.CacheOptions{Disabled: true}})
	cat := f.catalog(blueprint.CatalogOptions{DisableCache: true}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	for range 3 {
		before := f.srv.RequestsFor(fake.VerbList, "packagerevisions")
		if _, err := cat.Resolve(f.ctx, "amf", "^1"); err != nil {
			t.Fatal(err)
		}
		if f.srv.RequestsFor(fake.VerbList, "packagerevisions") == before {
			t.Fatal("a catalog without cache served a listing without reading Porch")
		}
	}
}

// countingCache is a Cache that records its use.
type countingCache struct {
	mu        sync.Mutex
	m         map[string]any
	gets, hit int
	adds      map[string]int
}

func (c *countingCache) Get(k string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	v, ok := c.m[k]
	if ok {
		c.hit++
	}
	return v, ok
}

func (c *countingCache) Add(k string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = v
	c.adds[strings.SplitN(k, "\x00", 2)[0]]++
}

func (c *countingCache) Remove(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

func TestCatalogPluggableCache(t *testing.T) {
	f := amfRepository(t, porch.Options{})
	cc := &countingCache{m: map[string]any{}, adds: map[string]int{}}
	cat := f.catalog(blueprint.CatalogOptions{Cache: cc}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	if _, err := cat.Get(f.ctx, blueprint.Ref{Name: "amf", Version: "^1"}); err != nil {
		t.Fatal(err)
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	// Three published amf revisions: an entry and a file set each.
	if cc.adds["entry"] != 3 || cc.adds["files"] != 3 || cc.gets == 0 || cc.hit == 0 {
		t.Errorf("cache use: adds %v, gets %d, hits %d", cc.adds, cc.gets, cc.hit)
	}
}

func TestCatalogSelectsByLabelAndKeyword(t *testing.T) {
	f := newFixture(t, porch.Options{}, "blueprints", "other")
	f.publish("blueprints", "amf", "v1", map[string]string{"Kptfile": kptfile("amf", nil, "5g")})
	f.publish("blueprints", "smf", "v1", map[string]string{"Kptfile": kptfile("smf", nil, "5g")})
	f.publish("blueprints", "tool", "v1", map[string]string{"Kptfile": kptfile("tool", nil, "ops")})
	f.publish("other", "upf", "v1", map[string]string{"Kptfile": kptfile("upf", nil, "5g")})
	if _, err := f.c.PackageRevisions(ns).UpdateMetadata(f.ctx, "blueprints.smf.v1", func(pr *porchapi.PackageRevision) error {
		if pr.Labels == nil {
			pr.Labels = map[string]string{}
		}
		pr.Labels["catalog.example.com/tier"] = "gold"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	byKeyword := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}, Keywords: []string{"5g"}})
	es, err := byKeyword.List(f.ctx, blueprint.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(es); !slices.Equal(got, []string{"amf@1.0.0", "smf@1.0.0"}) {
		t.Errorf("keyword 5g in blueprints: %v", got)
	}
	sel, err := labels.Parse("catalog.example.com/tier=gold")
	if err != nil {
		t.Fatal(err)
	}
	byLabel := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Name: "gold", Repositories: []string{"blueprints", "other"}, Labels: sel})
	es, err = byLabel.List(f.ctx, blueprint.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(es); !slices.Equal(got, []string{"smf@1.0.0"}) || es[0].Labels["catalog.example.com/tier"] != "gold" || es[0].Source != "gold" {
		t.Errorf("label tier=gold: %v", es)
	}
	both := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints", "other"}})
	es, err = both.List(f.ctx, blueprint.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(es); !slices.Equal(got, []string{"amf@1.0.0", "smf@1.0.0", "tool@1.0.0", "upf@1.0.0"}) {
		t.Errorf("two repositories: %v", got)
	}
}

func TestCatalogListFilter(t *testing.T) {
	f := amfRepository(t, porch.Options{})
	f.publish("blueprints", "smf", "v1-5", map[string]string{"Kptfile": kptfile("smf", map[string]string{blueprint.TypeAnnotation: "network-function"}, "5g")})
	cat := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	sel, err := labels.Parse("!catalog.example.com/tier")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    blueprint.Filter
		want []string
	}{
		{"all", blueprint.Filter{}, []string{"amf@2.0.0", "amf@1.1.4", "amf@1.0.0", "smf@1.5.0"}},
		{"name", blueprint.Filter{Name: "amf"}, []string{"amf@2.0.0", "amf@1.1.4", "amf@1.0.0"}},
		{"pattern", blueprint.Filter{Name: "s*"}, []string{"smf@1.5.0"}},
		{"type", blueprint.Filter{Type: "network-function"}, []string{"amf@2.0.0", "smf@1.5.0"}},
		{"version", blueprint.Filter{Version: "^1"}, []string{"amf@1.1.4", "amf@1.0.0", "smf@1.5.0"}},
		{"keywords", blueprint.Filter{Keywords: []string{"5g", "core"}}, []string{"amf@2.0.0"}},
		{"labels", blueprint.Filter{Labels: sel, Name: "smf"}, []string{"smf@1.5.0"}},
		{"source", blueprint.Filter{Source: "elsewhere"}, nil},
	} {
		es, err := cat.List(f.ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := versions(es); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	var fe *blueprint.FilterError
	if _, err := cat.List(f.ctx, blueprint.Filter{Name: "["}); !errors.Is(err, blueprint.ErrInvalidFilter) || !errors.As(err, &fe) || fe.Field != "Name" {
		t.Errorf("bad pattern: %v", err)
	}
	var ce *blueprint.ConstraintError
	if _, err := cat.List(f.ctx, blueprint.Filter{Version: "1.x.y.z"}); !errors.As(err, &ce) || ce.Field != "Filter.Version" {
		t.Errorf("bad version: %v", err)
	}
}

func TestCatalogSkipsPackagesWithoutVersion(t *testing.T) {
	f := newFixture(t, porch.Options{}, "blueprints")
	f.publish("blueprints", "amf", "v1", nil)
	f.publish("blueprints", "amf", "bad", map[string]string{"Kptfile": kptfile("amf", map[string]string{blueprint.VersionAnnotation: "one"})})
	f.publish("blueprints", "amf", "again", map[string]string{"Kptfile": kptfile("amf", map[string]string{blueprint.VersionAnnotation: "1.0.0"})})
	cat := f.catalog(blueprint.CatalogOptions{}, blueprint.PorchSourceConfig{Repositories: []string{"blueprints"}})
	es, err := cat.List(f.ctx, blueprint.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	// Revision 3 ("again") claims 1.0.0 as well; the newer revision wins.
	if len(es) != 1 || es[0].Location != "blueprints.amf.again" {
		t.Fatalf("entries %v", es)
	}
	skipped, err := cat.Skipped(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]error{}
	for _, s := range skipped {
		got[s.Location] = s.Err
	}
	if !errors.Is(got["blueprints.amf.bad"], blueprint.ErrInvalidVersion) || !errors.Is(got["blueprints.amf.v1"], blueprint.ErrDuplicateVersion) || len(got) != 2 {
		t.Errorf("skipped: %v", skipped)
	}
}

func TestNewCatalogRejectsBadConfiguration(t *testing.T) {
	ctx := context.Background()
	if _, err := blueprint.NewCatalog(ctx, blueprint.CatalogOptions{}); !errors.Is(err, blueprint.ErrInvalidCatalog) {
		t.Errorf("no source: %v", err)
	}
	if _, err := blueprint.NewPorchSource(nil, blueprint.PorchSourceConfig{Repositories: []string{"x"}}); !errors.Is(err, blueprint.ErrInvalidCatalog) {
		t.Errorf("nil client: %v", err)
	}
	c, _ := fake.NewClientBuilder().Build(t)
	if _, err := blueprint.NewPorchSource(c, blueprint.PorchSourceConfig{}); !errors.Is(err, blueprint.ErrInvalidCatalog) {
		t.Errorf("no repositories: %v", err)
	}
	a, err := blueprint.NewPorchSource(c, blueprint.PorchSourceConfig{Repositories: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blueprint.NewCatalog(ctx, blueprint.CatalogOptions{}, a, a); !errors.Is(err, blueprint.ErrInvalidCatalog) {
		t.Errorf("two sources of one name: %v", err)
	}
	if _, err := blueprint.NewLRUCache(0); !errors.Is(err, blueprint.ErrInvalidCatalog) {
		t.Errorf("cache size 0: %v", err)
	}
}
