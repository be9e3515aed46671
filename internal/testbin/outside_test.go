package testbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/nephoran/porchkit/internal/process"
)

// porchkitModule is the module path of porchkit.
const porchkitModule = "github.com/nephoran/porchkit"

// outsideTestSource is the test of the module TestOutsideTheRepository
// writes: what a porchkit user writes to test against the real local Porch.
const outsideTestSource = `package outside_test

import (
	"context"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nephoran/porchkit/porch/porchenv"
)

func TestLocalPorch(t *testing.T) {
	env := porchenv.Setup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := env.RegisterRepository(ctx, "outside"); err != nil {
		t.Fatal(err)
	}
	var revs porchapi.PackageRevisionList
	if err := env.Client.List(ctx, &revs, client.InNamespace(env.Namespace)); err != nil {
		t.Fatal(err)
	}
	t.Logf("repository outside is Ready; %d package revisions", len(revs.Items))
}
`

// outsideBinaries are the binaries the local Porch stack starts.
var outsideBinaries = []string{Etcd, KubeAPIServer, PorchServer, FunctionRunner, PorchCRDs}

// TestOutsideTheRepository checks that porchkit's local Porch works for a
// module that gets porchkit as a module zip: a throwaway module outside the
// checkout, depending on porchkit as the module proxy would serve it (the
// checkout packed into a module zip, which leaves out nested modules, and
// unpacked), builds its test with -trimpath and no PORCHKIT_* variable, and
// starts the stack. The servers come from the shared cache: this test builds
// them first when missing, and fails if the module built them again.
func TestOutsideTheRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: builds a module against porchkit and starts the local Porch stack")
	}
	start := time.Now()
	progress := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "porchkit/testbin: outside [%s]: %s\n", time.Since(start).Round(time.Second), fmt.Sprintf(format, args...))
	}
	deadline := time.Now().Add(45 * time.Minute)
	if d, ok := t.Deadline(); ok && d.Add(-30*time.Second).Before(deadline) {
		deadline = d.Add(-30 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	checkout := findCheckout(t)
	progress("packing %s as a module zip and writing a module that uses it", checkout)
	mod := writeOutsideModule(t, checkout)

	// The servers, as the module will look them up: default cache, no
	// prebuilt binaries.
	progress("finding (or building) %v in %s", outsideBinaries, defaultCacheDir())
	if _, err := (&Set{cacheDir: defaultCacheDir(), progress: os.Stderr}).Paths(ctx, outsideBinaries...); err != nil {
		t.Fatal(err)
	}

	env := outsideEnv(ctx, t)
	progress("go mod tidy in %s", mod)
	if _, err := runGo(ctx, mod, env, io.Discard, "mod", "tidy"); err != nil {
		t.Fatal(err)
	}
	progress("go test -trimpath in %s (compiles porchkit and its dependencies with -trimpath, then starts the stack)", mod)
	childTimeout := time.Until(deadline) - 30*time.Second
	out, err := runGo(ctx, mod, env, os.Stderr, "test", "-trimpath", "-count=1", "-v", "-run", "^TestLocalPorch$", "-timeout", childTimeout.Round(time.Second).String(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "--- PASS: TestLocalPorch") {
		t.Errorf("TestLocalPorch did not pass (skipped?):\n%s", out)
	}
	for _, rebuilt := range []string{"porchkit/testbin: building", "porchkit/testbin: waiting for another process building"} {
		if strings.Contains(out, rebuilt) {
			t.Errorf("the module built servers that were in the cache (%q in its output)", rebuilt)
		}
	}
	progress("done")
}

// writeOutsideModule writes, in a temporary directory outside checkout, the
// checkout as the module proxy would serve it (packed into a module zip and
// unpacked) and a module whose test uses it; it returns the module's
// directory.
func writeOutsideModule(t *testing.T, checkout string) string {
	t.Helper()
	root := t.TempDir()
	if rel, err := filepath.Rel(checkout, root); err != nil || !strings.HasPrefix(rel, "..") {
		t.Fatalf("the temporary directory %s is inside the checkout %s (rel %q, %v)", root, checkout, rel, err)
	}

	// porchkit as a module zip holds it.
	porchkit := filepath.Join(root, "porchkit")
	zipFile := filepath.Join(root, "porchkit.zip")
	version := module.Version{Path: porchkitModule, Version: "v0.0.0"}
	f, err := os.Create(zipFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.CreateFromDir(f, version, checkout); err != nil {
		f.Close()
		t.Fatalf("module zip of %s: %v", checkout, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := modzip.Unzip(porchkit, version, zipFile); err != nil {
		t.Fatalf("unzip: %v", err)
	}

	mainMod, err := os.ReadFile(filepath.Join(checkout, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.ParseLax("go.mod", mainMod, nil)
	if err != nil || mf.Go == nil {
		t.Fatalf("%s/go.mod: no go version (%v)", checkout, err)
	}
	mod := filepath.Join(root, "outside")
	gomod := fmt.Sprintf("module example.com/outside\n\ngo %s\n\nrequire %s %s\n\nreplace %s => %s\n",
		mf.Go.Version, porchkitModule, version.Version, porchkitModule, porchkit)
	gosum, err := os.ReadFile(filepath.Join(checkout, "go.sum")) // a start; tidy trims it
	if err != nil {
		t.Fatal(err)
	}
	if err := writeModule(map[string][]byte{
		"go.mod":          []byte(gomod),
		"go.sum":          gosum,
		"outside_test.go": []byte(outsideTestSource),
	}, mod); err != nil {
		t.Fatal(err)
	}

	return mod
}

// findCheckout returns the root of the porchkit checkout holding the test's
// working directory (go test runs a test in its package's directory).
func findCheckout(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modfile.ModulePath(data) == porchkitModule {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no %s checkout above the working directory", porchkitModule)
		}
		dir = parent
	}
}

// outsideEnv is the environment of the go commands run for the outside
// module: the test's own, without any PORCHKIT_* variable or go.work, with
// the module cache, build cache, flags and proxy of the go command that ran
// this test.
func outsideEnv(ctx context.Context, t *testing.T) []string {
	t.Helper()
	vars := []string{"GOMODCACHE", "GOCACHE", "GOFLAGS", "GOPROXY"}
	cmd := exec.CommandContext(ctx, "go", append([]string{"env"}, vars...)...)
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	values := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(values) != len(vars) {
		t.Fatalf("go env %v printed %q", vars, out)
	}
	env := []string{"GOWORK=off", "GOTOOLCHAIN=local"}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "PORCHKIT_"), name == "GOWORK", name == "GOTOOLCHAIN":
		case name == "GOMODCACHE", name == "GOCACHE", name == "GOFLAGS", name == "GOPROXY":
		default:
			env = append(env, kv)
		}
	}
	for i, v := range vars {
		if v == "GOFLAGS" {
			// -mod=mod lets "go mod tidy" and the build add what the
			// unpacked porchkit needs.
			values[i] = strings.TrimSpace(values[i] + " -mod=mod")
		}
		env = append(env, v+"="+values[i])
	}
	return env
}

// runGo runs the go command in dir with env, copying its output to progress,
// and returns the output. On ctx's end it kills the command's process group
// (the go command and the test binary it runs).
func runGo(ctx context.Context, dir string, env []string, progress io.Writer, args ...string) (string, error) {
	var out bytes.Buffer
	w := io.MultiWriter(&out, progress)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = errors.Join(err, ctx.Err())
		}
		return out.String(), fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), dir, err, process.TailLines(out.Bytes(), 40))
	}
	return out.String(), nil
}
