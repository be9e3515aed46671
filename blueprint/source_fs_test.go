package blueprint_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nephoran/porchkit/blueprint"
)

func fsCatalog(t *testing.T, srcs ...blueprint.CatalogSource) *blueprint.Catalog {
	t.Helper()
	cat, err := blueprint.NewCatalog(context.Background(), blueprint.CatalogOptions{}, srcs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cat.Close)
	return cat
}

func TestFSSource(t *testing.T) {
	fsys := fstest.MapFS{
		"amf/v1/Kptfile":         {Data: []byte(kptfile("amf", nil))},
		"amf/v1/cm.yaml":         {Data: []byte(configMap("amf", "one"))},
		"amf/v1/sub/Kptfile":     {Data: []byte(kptfile("sub", nil))},
		"amf/v1/sub/cm.yaml":     {Data: []byte(configMap("sub", "nested"))},
		"amf/v1.2.0/Kptfile":     {Data: []byte(kptfile("v1.2.0", nil))},
		"smf/Kptfile":            {Data: []byte(kptfile("smf", map[string]string{blueprint.VersionAnnotation: "0.3.0"}))},
		"copy/Kptfile":           {Data: []byte(kptfile("amf", map[string]string{blueprint.VersionAnnotation: "v1"}))},
		"unversioned/Kptfile":    {Data: []byte(kptfile("tool", nil))},
		"broken/v1/Kptfile":      {Data: []byte("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: [\n")},
		"docs/README.md":         {Data: []byte("not a package")},
		"nrf/v2/Kptfile":         {Data: []byte(kptfile("nrf", nil, "5g"))},
		"nrf/v2/deployment.yaml": {Data: []byte(configMap("nrf", "two"))},
	}
	src, err := blueprint.NewFSSource("library", fsys)
	if err != nil {
		t.Fatal(err)
	}
	cat := fsCatalog(t, src)
	ctx := context.Background()
	es, err := cat.List(ctx, blueprint.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(es); !slices.Equal(got, []string{"amf@1.2.0", "amf@1.0.0", "nrf@2.0.0", "smf@0.3.0"}) {
		t.Fatalf("entries %v", got)
	}
	e, err := cat.Resolve(ctx, "amf", "~1.0")
	if err != nil {
		t.Fatal(err)
	}
	if e.Location != "amf/v1" || e.VersionFrom != blueprint.VersionFromWorkspace || e.Source != "library" {
		t.Errorf("amf ~1.0 = %+v", e)
	}
	b, err := cat.Load(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(mapsKeys(b.Files)); !slices.Equal(got, []string{"Kptfile", "cm.yaml", "sub/Kptfile", "sub/cm.yaml"}) {
		t.Errorf("files of amf/v1: %v", got)
	}
	skipped, err := cat.Skipped(ctx)
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]error{}
	for _, s := range skipped {
		why[s.Location] = s.Err
	}
	if !errors.Is(why["copy"], blueprint.ErrDuplicateVersion) || !errors.Is(why["unversioned"], blueprint.ErrNoVersion) ||
		!errors.Is(why["broken/v1"], blueprint.ErrInvalidBlueprint) || len(why) != 3 {
		t.Errorf("skipped %v", skipped)
	}
	if _, err := blueprint.NewFSSource("", fsys); !errors.Is(err, blueprint.ErrInvalidCatalog) {
		t.Errorf("unnamed fs source: %v", err)
	}
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Earlier sources win for a name and version several hold.
func TestCatalogSourceOrder(t *testing.T) {
	a, _ := blueprint.NewFSSource("first", fstest.MapFS{"amf/v1/Kptfile": {Data: []byte(kptfile("amf", nil))}})
	b, _ := blueprint.NewFSSource("second", fstest.MapFS{
		"amf/v1/Kptfile": {Data: []byte(kptfile("amf", nil))},
		"amf/v2/Kptfile": {Data: []byte(kptfile("amf", nil))},
	})
	cat := fsCatalog(t, a, b)
	es, err := cat.List(context.Background(), blueprint.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Source != "second" || es[1].Source != "first" {
		t.Errorf("entries %v", es)
	}
}

func TestDirSourceEditsSeenAfterRefresh(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "amf/v1/Kptfile", kptfile("amf", nil))
	write(t, dir, "amf/v1/cm.yaml", configMap("amf", "one"))
	ctx := context.Background()
	src, err := blueprint.NewDirSource(ctx, dir, blueprint.DirOptions{Name: "local", NoGitTags: true})
	if err != nil {
		t.Fatal(err)
	}
	cat := fsCatalog(t, src)
	e, err := cat.Resolve(ctx, "amf", "")
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "amf/v1/cm.yaml", configMap("amf", "edited"))
	write(t, dir, "amf/v2/Kptfile", kptfile("amf", nil))
	if _, err := cat.Resolve(ctx, "amf", ">=2"); !errors.Is(err, blueprint.ErrNoMatchingVersion) {
		t.Errorf("before Refresh the listing is the cached one: %v", err)
	}
	// The entry listed before the edit: its files are cached, so Load
	// still gives them.
	if b, err := cat.Load(ctx, e); err != nil || !strings.Contains(b.Files["cm.yaml"], "one") {
		t.Errorf("Load of the listed entry: %v, %v", b, err)
	}
	cat.Refresh()
	if e, err := cat.Resolve(ctx, "amf", ">=2"); err != nil || e.Location != "amf/v2" {
		t.Errorf("after Refresh: %v, %v", e, err)
	}
	b, err := cat.Get(ctx, blueprint.Ref{Name: "amf", Version: "1.0.0"})
	if err != nil || !strings.Contains(b.Files["cm.yaml"], "edited") {
		t.Errorf("after Refresh, v1: %v, %v", b, err)
	}
	if _, err := blueprint.NewDirSource(ctx, filepath.Join(dir, "missing"), blueprint.DirOptions{}); !errors.Is(err, blueprint.ErrInvalidCatalog) {
		t.Errorf("missing directory: %v", err)
	}
}

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestDirSourceGitTags(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("reading git tags needs the git command, which is not installed")
	}
	repo := t.TempDir()
	git(t, repo, "init", "-q", "-b", "main")
	write(t, repo, "blueprints/amf/Kptfile", kptfile("amf", nil))
	write(t, repo, "blueprints/amf/cm.yaml", configMap("amf", "one"))
	write(t, repo, "blueprints/smf/Kptfile", kptfile("smf", map[string]string{blueprint.VersionAnnotation: "0.9.0"}))
	git(t, repo, "add", "-A")
	git(t, repo, "commit", "-qm", "one")
	git(t, repo, "tag", "blueprints/amf/v1.0.0") // kpt's per-package tag
	write(t, repo, "blueprints/amf/cm.yaml", configMap("amf", "one-one"))
	git(t, repo, "commit", "-qam", "one-one")
	git(t, repo, "tag", "-a", "-m", "release", "v1.1.0") // a tag of the whole repository
	git(t, repo, "tag", "smf/v7.0.0")                    // another package's path: not amf's
	write(t, repo, "blueprints/amf/cm.yaml", configMap("amf", "work in progress"))

	ctx := context.Background()
	src, err := blueprint.NewDirSource(ctx, filepath.Join(repo, "blueprints"), blueprint.DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cat := fsCatalog(t, src)
	es, err := cat.List(ctx, blueprint.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	// amf has no version of its own: its versions are its tags. smf's
	// annotation versions its working tree; at the whole-repository tag
	// v1.1.0 it has the same annotation, so that tag is a duplicate.
	if got := versions(es); !slices.Equal(got, []string{"amf@1.1.0", "amf@1.0.0", "smf@0.9.0"}) {
		t.Fatalf("entries %v", got)
	}
	skipped, err := cat.Skipped(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].Location != "git:v1.1.0:smf" || !errors.Is(skipped[0].Err, blueprint.ErrDuplicateVersion) {
		t.Errorf("skipped %v", skipped)
	}
	for _, tc := range []struct{ constraint, want, location string }{
		{"~1.0", "one", "git:blueprints/amf/v1.0.0:amf"},
		{"^1", "one-one", "git:v1.1.0:amf"},
	} {
		b, err := cat.Get(ctx, blueprint.Ref{Name: "amf", Version: tc.constraint})
		if err != nil {
			t.Fatal(err)
		}
		e, _ := cat.Resolve(ctx, "amf", tc.constraint)
		if !strings.Contains(b.Files["cm.yaml"], "'"+tc.want+"'") || e.Location != tc.location || e.VersionFrom != blueprint.VersionFromGitTag {
			t.Errorf("amf %s: cm.yaml %q at %s from %s", tc.constraint, b.Files["cm.yaml"], e.Location, e.VersionFrom)
		}
		if got := slices.Sorted(mapsKeys(b.Files)); !slices.Equal(got, []string{"Kptfile", "cm.yaml"}) {
			t.Errorf("amf %s: files %v", tc.constraint, got)
		}
	}
}
