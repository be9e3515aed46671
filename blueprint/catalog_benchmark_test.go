package blueprint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/nephoran/porchkit/blueprint"
)

// libraryFS holds n blueprints of v versions each (v1.0.0 ... v1.<v-1>.0).
func libraryFS(n, v int) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := range n {
		name := fmt.Sprintf("bp%03d", i)
		for j := range v {
			dir := fmt.Sprintf("%s/v1.%d.0/", name, j)
			fsys[dir+"Kptfile"] = &fstest.MapFile{Data: []byte(kptfile(name, nil, "5g"))}
			fsys[dir+"cm.yaml"] = &fstest.MapFile{Data: []byte(configMap(name, dir))}
		}
	}
	return fsys
}

// BenchmarkCatalogResolve resolves "~1.4" in a cached catalog of 200
// blueprints with 10 versions each (2,000 entries).
func BenchmarkCatalogResolve(b *testing.B) {
	src, err := blueprint.NewFSSource("library", libraryFS(200, 10))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cat, err := blueprint.NewCatalog(ctx, blueprint.CatalogOptions{}, src)
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	if _, err := cat.Resolve(ctx, "bp000", ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e, err := cat.Resolve(ctx, fmt.Sprintf("bp%03d", i%200), "~1.4")
		if err != nil || e.Version.Minor() != 4 {
			b.Fatal(e, err)
		}
	}
}

// BenchmarkCatalogGet gets a blueprint with its files from the cache.
func BenchmarkCatalogGet(b *testing.B) {
	src, err := blueprint.NewFSSource("library", libraryFS(200, 10))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cat, err := blueprint.NewCatalog(ctx, blueprint.CatalogOptions{Cache: mustLRU(b, 8192)}, src)
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	if _, err := cat.Resolve(ctx, "bp000", ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := cat.Get(ctx, blueprint.Ref{Name: fmt.Sprintf("bp%03d", i%200), Version: "^1"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCatalogScan lists the 2,000 entries of a local directory with
// no cache: every call reads the tree and every Kptfile.
func BenchmarkCatalogScan(b *testing.B) {
	dir := b.TempDir()
	for p, f := range libraryFS(200, 10) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), f.Data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	src, err := blueprint.NewDirSource(ctx, dir, blueprint.DirOptions{NoGitTags: true})
	if err != nil {
		b.Fatal(err)
	}
	cat, err := blueprint.NewCatalog(ctx, blueprint.CatalogOptions{DisableCache: true}, src)
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	b.ReportAllocs()
	for b.Loop() {
		es, err := cat.List(ctx, blueprint.Filter{})
		if err != nil || len(es) != 2000 {
			b.Fatal(len(es), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2000, "ns/entry")
}

func mustLRU(b *testing.B, n int) blueprint.Cache {
	c, err := blueprint.NewLRUCache(n)
	if err != nil {
		b.Fatal(err)
	}
	return c
}
