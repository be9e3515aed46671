package blueprint

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// loadNephio reads a Nephio blueprint copied under testdata/nephio.
func loadNephio(t testing.TB, name string) *Blueprint {
	t.Helper()
	dir := filepath.Join("testdata", "nephio", name)
	files := map[string]string{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(filepath.Join(dir, p))
		files[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Blueprint{Name: name, Version: "v1.0.0", Files: files}
}
