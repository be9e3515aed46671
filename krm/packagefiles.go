package krm

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
)

// kptPackage is one package of a rendered tree: a directory holding a
// Kptfile, its direct subpackages and the files its resources come from.
type kptPackage struct {
	// dir is the package's directory relative to the root ("" for the
	// root), slash-separated.
	dir string
	// subs are the direct subpackages, in path order (kpt renders them in
	// that order).
	subs []*kptPackage
	// files are the root-relative paths of the package's own resource
	// files (not its subpackages'), in the order kpt reads them.
	files []string
}

// resourceGlobs are the file names kpt reads resources from (its
// MatchAllKRM: the Kptfile, *.yaml, *.yml and *.json).
var resourceGlobs = append([]string{"Kptfile"}, kio.MatchAll...)

func isResourceFile(p string) bool {
	base := path.Base(p)
	for _, g := range resourceGlobs {
		if ok, _ := path.Match(g, base); ok {
			return true
		}
	}
	return false
}

// validatePaths refuses file names that are not clean paths inside the
// package, which could not be written back where they came from.
func validatePaths(files map[string]string) error {
	for p := range files {
		if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
			return fmt.Errorf("%w: file name %q is not a clean relative path inside the package", ErrBadInput, p)
		}
	}
	return nil
}

// packageTree finds the packages of files and the resource files of each,
// as kpt does: every directory with a Kptfile is a package (none under
// .git), a package's subpackages are the nearest packages below it, and a
// package's resource files are those matching resourceGlobs outside its
// subpackages and outside what its own .krmignore ignores. A .krmignore
// holds gitignore patterns relative to its package's directory and covers
// that package only: a parent's patterns neither ignore files of a
// subpackage nor keep a subpackage from rendering.
func packageTree(files map[string]string) (*kptPackage, error) {
	pkgs := map[string]*kptPackage{}
	for p := range files {
		if path.Base(p) != "Kptfile" || underGit(p) {
			continue
		}
		dir := path.Dir(p)
		if dir == "." {
			dir = ""
		}
		pkgs[dir] = &kptPackage{dir: dir}
	}
	root := pkgs[""]
	if root == nil {
		return nil, fmt.Errorf("%w: package has no Kptfile at its root", ErrBadInput)
	}
	for dir, pkg := range pkgs {
		if dir != "" {
			parent := pkgs[parentPackage(pkgs, dir)]
			parent.subs = append(parent.subs, pkg)
		}
	}
	fsys, err := ignoreFS(files)
	if err != nil {
		return nil, err
	}
	for _, pkg := range pkgs {
		sort.Slice(pkg.subs, func(i, j int) bool { return pkg.subs[i].dir < pkg.subs[j].dir })
		if pkg.files, err = resourceFiles(fsys, pkg.dir); err != nil {
			return nil, err
		}
	}
	return root, nil
}

func underGit(p string) bool {
	for _, seg := range strings.Split(path.Dir(p), "/") {
		if seg == ".git" {
			return true
		}
	}
	return false
}

// parentPackage is the nearest package directory above dir.
func parentPackage(pkgs map[string]*kptPackage, dir string) string {
	for d := path.Dir(dir); d != "." && d != "/"; d = path.Dir(d) {
		if _, ok := pkgs[d]; ok {
			return d
		}
	}
	return ""
}

// ignoreFS is an in-memory copy of the package's file tree for kyaml's
// package reader, which applies .krmignore files exactly as kpt does. Only
// the .krmignore files need their content: the reader is asked which
// files it would read, and reads none.
func ignoreFS(files map[string]string) (filesys.FileSystem, error) {
	fsys := filesys.MakeFsInMemory()
	for p, content := range files {
		var data []byte
		if path.Base(p) == ".krmignore" {
			data = []byte(content)
		}
		if err := fsys.WriteFile("/"+p, data); err != nil {
			return nil, fmt.Errorf("%w: file %s: %v", ErrBadInput, p, err)
		}
	}
	return fsys, nil
}

// resourceFiles lists the root-relative paths of the resource files of the
// package at dir, in the order kyaml's package reader walks them.
func resourceFiles(fsys filesys.FileSystem, dir string) (out []string, err error) {
	// The gitignore matcher panics on some patterns (a lone "!").
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: %s: unreadable ignore pattern: %v", ErrBadInput, path.Join(dir, ".krmignore"), r)
		}
	}()
	_, err = kio.LocalPackageReader{
		PackagePath:     "/" + dir,
		PackageFileName: "Kptfile",
		FileSystem:      filesys.FileSystemOrOnDisk{FileSystem: fsys},
		// Called for every file that .krmignore keeps; skipping them all
		// leaves the reading to Render.
		FileSkipFunc: func(rel string) bool {
			if isResourceFile(rel) {
				out = append(out, path.Join(dir, rel))
			}
			return true
		},
	}.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: package %s: %v", ErrBadInput, displayPackage(dir), err)
	}
	return out, nil
}

// displayPackage names a package directory for messages ("." for the root).
func displayPackage(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}
