package testbin

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnknownName(t *testing.T) {
	_, err := New(Config{CacheDir: t.TempDir()}).Path(context.Background(), "kubectl")
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("err = %v, want ErrUnknown", err)
	}
}

func TestBinDirIsUsedAsIs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Etcd), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	s := New(Config{BinDir: dir, CacheDir: cache})
	p, err := s.Path(context.Background(), Etcd)
	if err != nil || p != filepath.Join(dir, Etcd) {
		t.Fatalf("Path = %q, %v", p, err)
	}
	if _, err := s.Path(context.Background(), Kwok); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), EnvBinDir) {
		t.Fatalf("missing prebuilt binary: err = %v, want not-exist naming %s", err, EnvBinDir)
	}
	if entries, err := os.ReadDir(cache); err != nil || len(entries) != 0 {
		t.Errorf("the cache was used with a binary directory: %v, %v", entries, err)
	}
}

func TestEnvironmentConfiguresSet(t *testing.T) {
	t.Setenv(EnvBinDir, "/bins")
	t.Setenv(EnvCacheDir, "/cache")
	s := New(Config{})
	if s.binDir != "/bins" || s.cacheDir != "/cache" {
		t.Fatalf("New() = %+v", s)
	}
	if s := New(Config{CacheDir: "/other"}); s.cacheDir != "/other" {
		t.Errorf("Config did not override the environment: %q", s.cacheDir)
	}
	t.Setenv(EnvCacheDir, "")
	if s := New(Config{}); s.cacheDir != defaultCacheDir() {
		t.Errorf("cache dir = %q, want the default %q", s.cacheDir, defaultCacheDir())
	}
}

func TestCacheKeyFollowsTheToolModule(t *testing.T) {
	etcd, _ := toolFor(Etcd)
	files := map[string][]byte{
		"go.mod": []byte("module x\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 v3.6.8\n"),
		"go.sum": []byte("a\n"),
	}
	key1, version, err := cacheKey(files, etcd)
	if err != nil || version != "v3.6.8" {
		t.Fatalf("cacheKey = %q, %q, %v", key1, version, err)
	}
	if again, _, _ := cacheKey(files, etcd); again != key1 {
		t.Error("cache key not stable")
	}
	files["go.sum"] = []byte("b\n")
	key2, _, _ := cacheKey(files, etcd)
	if key2 == key1 {
		t.Error("cache key unchanged after go.sum changed")
	}
	files["main.go"] = []byte("package main\n")
	if key3, _, _ := cacheKey(files, etcd); key3 == key2 {
		t.Error("cache key unchanged after a Go file was added")
	}
	files["go.mod"] = []byte("module x\n\ngo 1.24\n")
	if _, _, err := cacheKey(files, etcd); err == nil {
		t.Error("a tool module that does not pin its upstream module was accepted")
	}
	delete(files, "go.mod")
	if _, _, err := cacheKey(files, etcd); err == nil {
		t.Error("a tool module without go.mod was accepted")
	}
}

func TestEveryNameHasATool(t *testing.T) {
	for _, n := range []string{Etcd, KubeAPIServer, KubeControllerManager, KubeScheduler, PorchServer, Porchctl, FunctionRunner, PorchGitServer, Kwok, PorchCRDs, KwokStages} {
		if _, ok := toolFor(n); !ok {
			t.Errorf("no tool builds %s", n)
		}
	}
}

// TestToolModulesExist checks the embedded tool modules pin what the tools
// table says they build, and hold only files that go into the cache key.
func TestToolModulesExist(t *testing.T) {
	for _, tl := range tools {
		files, err := moduleFiles(tl)
		if err != nil {
			t.Errorf("%s: %v", tl.dir, err)
			continue
		}
		for n := range files {
			if !isModuleFile(n) {
				t.Errorf("%s: %s would be built from but not hashed into the cache key", tl.dir, n)
			}
		}
		if _, ok := files["go.sum"]; !ok {
			t.Errorf("%s has no go.sum", tl.dir)
		}
		_, version, err := cacheKey(files, tl)
		if err != nil {
			t.Errorf("%s: %v", tl.dir, err)
			continue
		}
		if !strings.HasPrefix(version, "v") {
			t.Errorf("%s pins %s at %q", tl.dir, tl.module, version)
		}
	}
}

// TestWriteModulesWritesWhatIsHashed checks the written-out modules are
// the embedded files under their module names, byte for byte.
func TestWriteModulesWritesWhatIsHashed(t *testing.T) {
	dir := t.TempDir()
	if err := WriteModules(dir); err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools {
		files, err := moduleFiles(tl)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(filepath.Join(dir, tl.dir))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(files) {
			t.Errorf("%s: wrote %d files, want %d", tl.dir, len(entries), len(files))
		}
		for n, want := range files {
			got, err := os.ReadFile(filepath.Join(dir, tl.dir, n))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s/%s: written copy differs from the embedded one (%v)", tl.dir, n, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "etcd", "main.go")); err != nil {
		t.Errorf("etcd's main package was not written: %v", err)
	}
}

// TestTidyDiffFindsAnUntidyModule checks the tidiness check CI runs on the
// tool modules tells an untidy module (a go.sum line nothing needs) from a
// tidy one, with the diff. Neither module has dependencies, so no download
// is needed.
func TestTidyDiffFindsAnUntidyModule(t *testing.T) {
	root := t.TempDir()
	mods := map[string]map[string][]byte{
		"tidy":   {"go.mod": []byte("module example.com/tidy\n\ngo 1.24\n")},
		"untidy": {"go.mod": []byte("module example.com/untidy\n\ngo 1.24\n"), "go.sum": []byte("example.com/unused v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")},
	}
	for name, files := range mods {
		if err := writeModule(files, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	var diff bytes.Buffer
	err := tidyDiff(context.Background(), &diff, []string{filepath.Join(root, "tidy"), filepath.Join(root, "untidy")})
	if !errors.Is(err, ErrUntidy) || !strings.HasSuffix(err.Error(), ": untidy") {
		t.Fatalf("err = %v, want ErrUntidy naming only the untidy module", err)
	}
	if !strings.Contains(diff.String(), "example.com/unused") {
		t.Errorf("diff = %q, want the go.sum line tidy would drop", diff.String())
	}
	if err := tidyDiff(context.Background(), &diff, []string{filepath.Join(root, "tidy")}); err != nil {
		t.Errorf("a tidy module: %v", err)
	}
}
