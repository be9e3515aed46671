package testbin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/nephoran/porchkit/internal/process"
)

// build builds every binary of t and copies its assets into dir.
func (s *Set) build(ctx context.Context, t tool, modDir, version, dir string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("testbin: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("testbin: %w", err)
	}

	names := make([]string, 0, len(t.binaries))
	pkgs := make([]string, 0, len(t.binaries))
	for n, pkg := range t.binaries {
		names = append(names, n)
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(names)
	sort.Strings(pkgs)
	start := time.Now()
	fmt.Fprintf(s.progress, "porchkit/testbin: building %v from %s %s (first time only; this can take minutes)\n", names, t.module, version)
	// One go command for all of a tool's binaries shares their compilation.
	out := filepath.Join(tmp, "out")
	if _, err := goCommand(ctx, modDir, append([]string{"build", "-o", out + string(filepath.Separator)}, pkgs...)...); err != nil {
		return fmt.Errorf("testbin: build %v: %w", names, err)
	}
	for n, pkg := range t.binaries {
		built := path.Base(pkg)
		if pkg == "." {
			// The tool module's own main package, named after the last
			// element of its module path, .../tools/<dir>.
			built = t.dir
		}
		if err := os.Rename(filepath.Join(out, built), filepath.Join(tmp, n)); err != nil {
			return fmt.Errorf("testbin: build %s: %w", n, err)
		}
	}
	if err := os.Remove(out); err != nil {
		return fmt.Errorf("testbin: %w", err)
	}
	fmt.Fprintf(s.progress, "porchkit/testbin:   binaries built in %s\n", time.Since(start).Round(time.Second))
	if t.assets != nil {
		root, err := moduleRoot(ctx, modDir, t.module)
		if err != nil {
			return err
		}
		if err := t.assets(root, tmp); err != nil {
			return fmt.Errorf("testbin: copy assets of %s: %w", t.module, err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), []byte(version+"\n"), 0o644); err != nil {
		return fmt.Errorf("testbin: %w", err)
	}
	os.RemoveAll(dir) // an incomplete earlier attempt
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("testbin: %w", err)
	}
	fmt.Fprintf(s.progress, "porchkit/testbin: %s %s ready in %s (cached in %s)\n", t.module, version, time.Since(start).Round(time.Second), dir)
	return nil
}

// goCommand runs the go command in dir, isolated from any go.work and from
// toolchain switching, and returns its standard output (also when it fails,
// e.g. for the diff of "go mod tidy -diff").
func goCommand(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return stdout.String(), fmt.Errorf("go %v in %s: %w", args, dir, ctx.Err())
		}
		return stdout.String(), fmt.Errorf("go %v in %s: %w\n%s", args, dir, err, process.TailLines(stderr.Bytes(), 30))
	}
	return stdout.String(), nil
}
