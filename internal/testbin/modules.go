package testbin

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// embedded holds the tool modules, one directory per tool, each file stored
// under its name plus embeddedSuffix. Stored under their own names, a go.mod
// would make its directory a nested module, which a module zip leaves out,
// and a main.go would be compiled as part of this module.
//
//go:embed modules
var embedded embed.FS

const embeddedSuffix = ".txt"

// moduleFiles returns the files of t's tool module, by their names in the
// module.
func moduleFiles(t tool) (map[string][]byte, error) {
	dir := path.Join("modules", t.dir)
	entries, err := fs.ReadDir(embedded, dir)
	if err != nil {
		return nil, fmt.Errorf("testbin: tool module %s: %w", t.dir, err)
	}
	files := make(map[string][]byte, len(entries))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), embeddedSuffix)
		if e.IsDir() || !ok {
			return nil, fmt.Errorf("testbin: tool module %s: unexpected %s", t.dir, e.Name())
		}
		data, err := embedded.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("testbin: tool module %s: %w", t.dir, err)
		}
		files[name] = data
	}
	return files, nil
}

// writeModule writes files into dir, creating it.
func writeModule(files map[string][]byte, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("testbin: %w", err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("testbin: %w", err)
		}
	}
	return nil
}

// WriteModules writes every tool module into its own directory under dir
// (dir/etcd, dir/kube, dir/kwok, dir/porch, dir/porchcontrollers,
// dir/porchfn), as the go command sees it when it builds the binaries. To
// change a tool module, edit the written copy
// with the go command (go get, go mod tidy) and copy its files back into
// this package's modules directory, each with the suffix ".txt".
func WriteModules(dir string) error {
	for _, t := range tools {
		files, err := moduleFiles(t)
		if err != nil {
			return err
		}
		if err := writeModule(files, filepath.Join(dir, t.dir)); err != nil {
			return err
		}
	}
	return nil
}

// ErrUntidy is returned by CheckTidy when "go mod tidy" would change a tool
// module.
var ErrUntidy = errors.New("testbin: tool module is not tidy")

// CheckTidy runs "go mod tidy -diff" in a written-out copy of every tool
// module, writes the diffs to w, and returns an error wrapping ErrUntidy
// when any module is not tidy. It needs the modules' dependencies (from the
// module cache or the module proxy).
func CheckTidy(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "porchkit-tool-modules-")
	if err != nil {
		return fmt.Errorf("testbin: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := WriteModules(dir); err != nil {
		return err
	}
	dirs := make([]string, 0, len(tools))
	for _, t := range tools {
		dirs = append(dirs, filepath.Join(dir, t.dir))
	}
	return tidyDiff(ctx, w, dirs)
}

// tidyDiff runs "go mod tidy -diff" in each module directory of dirs.
func tidyDiff(ctx context.Context, w io.Writer, dirs []string) error {
	var untidy []string
	for _, dir := range dirs {
		out, err := goCommand(ctx, dir, "mod", "tidy", "-diff")
		if err != nil {
			if out == "" { // a failure, not a diff
				return fmt.Errorf("testbin: tool module %s: %w", filepath.Base(dir), err)
			}
			fmt.Fprint(w, out)
			untidy = append(untidy, filepath.Base(dir))
		}
	}
	if len(untidy) > 0 {
		return fmt.Errorf("%w: %s", ErrUntidy, strings.Join(untidy, ", "))
	}
	return nil
}
