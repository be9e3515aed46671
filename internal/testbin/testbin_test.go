package testbin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnknownName(t *testing.T) {
	_, err := New(WithCacheDir(t.TempDir())).Path(context.Background(), "kubectl")
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("err = %v, want ErrUnknown", err)
	}
}

func TestBinDirIsUsedAsIs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Etcd), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := New(WithBinDir(dir), WithToolsDir(t.TempDir())) // no tool modules: nothing may be built
	p, err := s.Path(context.Background(), Etcd)
	if err != nil || p != filepath.Join(dir, Etcd) {
		t.Fatalf("Path = %q, %v", p, err)
	}
	if _, err := s.Path(context.Background(), Kwok); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), EnvBinDir) {
		t.Fatalf("missing prebuilt binary: err = %v, want not-exist naming %s", err, EnvBinDir)
	}
}

func TestEnvironmentConfiguresSet(t *testing.T) {
	t.Setenv(EnvBinDir, "/bins")
	t.Setenv(EnvToolsDir, "/tools")
	t.Setenv(EnvCacheDir, "/cache")
	s := New()
	if s.binDir != "/bins" || s.toolsDir != "/tools" || s.cacheDir != "/cache" {
		t.Fatalf("New() = %+v", s)
	}
	if s := New(WithCacheDir("/other")); s.cacheDir != "/other" {
		t.Errorf("option did not override the environment: %q", s.cacheDir)
	}
}

func TestMissingToolModuleSaysWhatToSet(t *testing.T) {
	t.Setenv(EnvBinDir, "")
	_, err := New(WithToolsDir(t.TempDir()), WithCacheDir(t.TempDir())).Path(context.Background(), Etcd)
	if err == nil || !strings.Contains(err.Error(), EnvToolsDir) || !strings.Contains(err.Error(), EnvBinDir) {
		t.Fatalf("err = %v, want a hint at %s and %s", err, EnvToolsDir, EnvBinDir)
	}
}

func TestCacheKeyFollowsTheToolModule(t *testing.T) {
	etcd, _ := toolFor(Etcd)
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module x\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 v3.6.8\n")
	write("go.sum", "a\n")
	key1, version, err := cacheKey(dir, etcd)
	if err != nil || version != "v3.6.8" {
		t.Fatalf("cacheKey = %q, %q, %v", key1, version, err)
	}
	if again, _, _ := cacheKey(dir, etcd); again != key1 {
		t.Error("cache key not stable")
	}
	write("go.sum", "b\n")
	key2, _, _ := cacheKey(dir, etcd)
	if key2 == key1 {
		t.Error("cache key unchanged after go.sum changed")
	}
	write("go.mod", "module x\n\ngo 1.24\n")
	if _, _, err := cacheKey(dir, etcd); err == nil {
		t.Error("a tool module that does not pin its upstream module was accepted")
	}
}

func TestEveryNameHasATool(t *testing.T) {
	for _, n := range []string{Etcd, KubeAPIServer, KubeControllerManager, KubeScheduler, PorchServer, Porchctl, FunctionRunner, PorchGitServer, Kwok, PorchCRDs, KwokStages} {
		if _, ok := toolFor(n); !ok {
			t.Errorf("no tool builds %s", n)
		}
	}
}

// TestToolModulesExist checks the committed tool modules pin what the tools
// table says they build.
func TestToolModulesExist(t *testing.T) {
	root := defaultToolsDir()
	for _, tl := range tools {
		_, version, err := cacheKey(filepath.Join(root, tl.dir), tl)
		if err != nil {
			t.Errorf("%s: %v", tl.dir, err)
			continue
		}
		if !strings.HasPrefix(version, "v") {
			t.Errorf("%s pins %s at %q", tl.dir, tl.module, version)
		}
	}
}
