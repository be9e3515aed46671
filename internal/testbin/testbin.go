package testbin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/mod/modfile"
)

// Binary and asset names, as found in a binary directory.
const (
	Etcd                  = "etcd"
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
	PorchServer           = "porch-server"
	Porchctl              = "porchctl"
	FunctionRunner        = "function-runner"
	PorchGitServer        = "porch-git-server"
	Kwok                  = "kwok"
	// PorchFn runs a catalog function Porch vendors (set-namespace,
	// apply-replacements, starlark) as Porch's builtin runtime does: a
	// ResourceList on standard input, the result on standard output.
	PorchFn = "porchfn"
	// PorchControllers runs Porch's PackageVariant controller
	// (controllers/packagevariants of the Porch module) against the API
	// server its --kubeconfig names, with no listener of its own.
	PorchControllers = "porch-controllers"

	// PorchCRDs is a directory with the CRDs porch-server needs: Repository,
	// PackageRev, PackageVariant and PackageVariantSet.
	PorchCRDs = "porch-crds"
	// KwokStages is kwok's stage configuration: node-initialize,
	// node-heartbeat, pod-ready, pod-complete and pod-delete.
	KwokStages = "kwok-stages.yaml"
)

// ErrUnknown is returned for a name that is no binary or asset of this package.
var ErrUnknown = errors.New("testbin: unknown binary or asset")

// Environment variables read by New.
const (
	EnvBinDir   = "PORCHKIT_BIN_DIR"
	EnvCacheDir = "PORCHKIT_CACHE_DIR"
)

// Set finds or builds binaries. The zero value is not usable; call New.
type Set struct {
	binDir   string
	cacheDir string
	progress io.Writer
}

// Config configures a Set; zero fields take the environment variables of
// this package, then the defaults.
type Config struct {
	// BinDir holds prebuilt binaries to use instead of building them
	// (default: EnvBinDir).
	BinDir string
	// CacheDir is the cache root for built binaries (default: EnvCacheDir,
	// else the user's cache directory).
	CacheDir string
	// Progress receives build progress (default os.Stderr).
	Progress io.Writer
}

// New returns a Set configured by cfg.
func New(cfg Config) *Set {
	s := &Set{binDir: cfg.BinDir, cacheDir: cfg.CacheDir, progress: cfg.Progress}
	if s.binDir == "" {
		s.binDir = os.Getenv(EnvBinDir)
	}
	if s.cacheDir == "" {
		s.cacheDir = os.Getenv(EnvCacheDir)
	}
	if s.progress == nil {
		s.progress = os.Stderr
	}
	if s.cacheDir == "" {
		s.cacheDir = defaultCacheDir()
	}
	return s
}

// defaultCacheDir is the cache root when neither Config.CacheDir nor
// EnvCacheDir sets one.
func defaultCacheDir() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "porchkit")
	}
	return filepath.Join(os.TempDir(), "porchkit-cache")
}

// Path returns the path of the named binary or asset (one of this package's
// constants), building its tool module first when it is not cached.
func (s *Set) Path(ctx context.Context, name string) (string, error) {
	t, ok := toolFor(name)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	if s.binDir != "" {
		p := filepath.Join(s.binDir, name)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("testbin: %s from %s=%s: %w", name, EnvBinDir, s.binDir, err)
		}
		return p, nil
	}
	dir, err := s.ensure(ctx, t)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// Paths is Path for several names.
func (s *Set) Paths(ctx context.Context, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	for _, n := range names {
		p, err := s.Path(ctx, n)
		if err != nil {
			return nil, err
		}
		out[n] = p
	}
	return out, nil
}

// ensure returns the cache directory of tool t, building it when missing.
func (s *Set) ensure(ctx context.Context, t tool) (string, error) {
	files, err := moduleFiles(t)
	if err != nil {
		return "", err
	}
	key, version, err := cacheKey(files, t)
	if err != nil {
		return "", err
	}
	name := t.dir + "-" + version + "-" + key
	dir := filepath.Join(s.cacheDir, "bin", name)
	if complete(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	unlock, err := s.lock(ctx, filepath.Join(s.cacheDir, t.dir+".lock"), t.dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	if complete(dir) { // built by another process while we waited
		return dir, nil
	}
	// Written afresh under the lock: a build may have changed its go.sum.
	modDir := filepath.Join(s.cacheDir, "src", name)
	if err := os.RemoveAll(modDir); err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	if err := writeModule(files, modDir); err != nil {
		return "", err
	}
	if err := s.build(ctx, t, modDir, version, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// complete reports whether dir holds a finished build.
func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".complete"))
	return err == nil
}

// cacheKey hashes the tool module's files that decide what is built (go.mod,
// go.sum and Go files, by name and contents, in name order) with the Go
// version, OS and architecture, and returns the upstream version the module
// pins. The key of unchanged files stays the same across porchkit versions,
// so that binaries built before are found again.
func cacheKey(files map[string][]byte, t tool) (key, version string, err error) {
	gomod, ok := files["go.mod"]
	if !ok {
		return "", "", fmt.Errorf("testbin: tool module %s has no go.mod", t.dir)
	}
	mf, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		return "", "", fmt.Errorf("testbin: %s/go.mod: %w", t.dir, err)
	}
	for _, r := range mf.Require {
		if r.Mod.Path == t.module {
			version = r.Mod.Version
		}
	}
	if version == "" {
		return "", "", fmt.Errorf("testbin: %s/go.mod does not require %s", t.dir, t.module)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		if isModuleFile(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n]))
		h.Write(files[n])
	}
	fmt.Fprintf(h, "%s\x00%s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return hex.EncodeToString(h.Sum(nil))[:12], version, nil
}

// isModuleFile reports whether a tool module's file decides what is built.
func isModuleFile(name string) bool {
	return name == "go.mod" || name == "go.sum" || strings.HasSuffix(name, ".go")
}

// lock takes an exclusive file lock, so that concurrent test processes build
// a tool once; it gives up when ctx ends.
func (s *Set) lock(ctx context.Context, path, name string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testbin: %w", err)
	}
	for said := false; ; said = true {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("testbin: lock %s: %w", path, err)
		}
		if !said {
			fmt.Fprintf(s.progress, "porchkit/testbin: waiting for another process building %s\n", name)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("testbin: waiting for the build lock %s: %w", path, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
