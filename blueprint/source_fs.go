package blueprint

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// FSSource is a CatalogSource over a file tree: an fs.FS (a go:embed
// tree, NewFSSource) or a local directory (NewDirSource). Every directory
// holding a Kptfile is a blueprint (its subdirectories, subpackages
// included, are its files), named by its Kptfile's metadata.name, or when
// that is empty or a version, by its directory ("amf/v1" is amf). Its
// version is the Kptfile's VersionAnnotation, else its directory's name
// ("v1", "v1.2.3"). A directory inside a git checkout also offers every
// version its git tags name: "<package path>/v1.2.3" (kpt's convention)
// or "v1.2.3" for the whole repository, each read from the tagged commit.
type FSSource struct {
	name string
	fsys fs.FS
	// dir is the local directory, "" for an fs.FS; git its checkout.
	dir string
	git *gitRepo
	// root is the name of the tree's root directory ("." for an fs.FS).
	root string
}

var _ CatalogSource = (*FSSource)(nil)

// NewFSSource returns a source over fsys named name ("library" for an
// embedded tree).
func NewFSSource(name string, fsys fs.FS) (*FSSource, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: an fs source needs a name", ErrInvalidCatalog)
	}
	if fsys == nil {
		return nil, fmt.Errorf("%w: source %s: nil fs.FS", ErrInvalidCatalog, name)
	}
	return &FSSource{name: name, fsys: fsys, root: "."}, nil
}

// DirOptions configures NewDirSource.
type DirOptions struct {
	// Name names the source; "" is "dir:<absolute path>".
	Name string
	// NoGitTags ignores git tags even when the directory is a git
	// checkout.
	NoGitTags bool
}

// NewDirSource returns a source over a local directory; see FSSource.
func NewDirSource(ctx context.Context, dir string, opts DirOptions) (*FSSource, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: directory %q: %w", ErrInvalidCatalog, dir, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: %q is not a directory", ErrInvalidCatalog, dir)
	}
	s := &FSSource{name: opts.Name, fsys: os.DirFS(abs), dir: abs, root: filepath.Base(abs)}
	if s.name == "" {
		s.name = "dir:" + abs
	}
	if !opts.NoGitTags {
		s.git = openGitRepo(ctx, abs)
	}
	return s, nil
}

// Name implements CatalogSource.
func (s *FSSource) Name() string { return s.name }

// gitLocation marks a location read from a git tag: "git:<tag>:<dir>".
const gitLocation = "git:"

// Scan implements CatalogSource.
func (s *FSSource) Scan(ctx context.Context) ([]Candidate, error) {
	dirs, err := s.packageDirs()
	if err != nil {
		return nil, err
	}
	var tags []string
	if s.git != nil {
		if tags, err = s.git.tags(ctx); err != nil {
			return nil, err
		}
	}
	var out []Candidate
	for _, d := range dirs {
		files, err := readTree(s.fsys, d)
		if err != nil {
			return nil, err
		}
		name, versioned := packageName(d, s.root, files)
		pkgTags := s.tagsOf(d, tags)
		if versioned || len(pkgTags) == 0 {
			out = append(out, Candidate{Name: name, Location: d, Key: digest(files), Files: files, Published: true,
				Workspace: path.Base(path.Join(s.root, d))})
		}
		for _, t := range pkgTags {
			tree, err := s.git.treeID(ctx, t, s.git.repoPath(d))
			if err != nil {
				continue // the package is not in that tagged commit
			}
			out = append(out, Candidate{Name: name, Location: gitLocation + t + ":" + d, Key: "git-tree:" + tree,
				Published: true, Tags: []string{t}})
		}
	}
	return out, nil
}

// packageName is the blueprint name of package directory d (root names
// the directory d "." stands for), and whether its Kptfile or directory
// already gives a version.
func packageName(d, root string, files map[string]string) (string, bool) {
	if d == "." {
		d = root
	}
	base := path.Base(d)
	_, dirErr := ParseVersion(base)
	name := base
	if dirErr == nil {
		name = path.Base(path.Dir(d))
	}
	annotated := false
	if kf := kptfileOf(files); kf != nil {
		_, annotated = kf.Annotations[VersionAnnotation]
		if _, err := ParseVersion(kf.Name); kf.Name != "" && err != nil {
			name = kf.Name
		}
	}
	if name == "." || name == "/" {
		name = ""
	}
	return name, annotated || dirErr == nil
}

// tagsOf returns the tags that name a version of package directory d:
// "<repository path of d>/<version>" or a bare "<version>".
func (s *FSSource) tagsOf(d string, tags []string) []string {
	if s.git == nil {
		return nil
	}
	repoPath := s.git.repoPath(d)
	var out []string
	for _, t := range tags {
		dir, last := path.Split(t)
		if _, err := ParseVersion(last); err != nil {
			continue
		}
		if dir = strings.TrimSuffix(dir, "/"); dir == "" || dir == repoPath {
			out = append(out, t)
		}
	}
	return out
}

// packageDirs returns the directories holding a Kptfile that are not
// inside another such directory, in path order.
func (s *FSSource) packageDirs() ([]string, error) {
	var dirs []string
	err := fs.WalkDir(s.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == ".git" {
			return fs.SkipDir
		}
		if _, err := fs.Stat(s.fsys, path.Join(p, KptfileName)); err == nil {
			dirs = append(dirs, p)
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blueprint: source %s: %w", s.name, err)
	}
	return dirs, nil
}

// readTree reads every file under dir, by path relative to it.
func readTree(fsys fs.FS, dir string) (map[string]string, error) {
	files := map[string]string{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if dir == "." {
			rel = p
		}
		files[rel] = string(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blueprint: read package %s: %w", dir, err)
	}
	return files, nil
}

// Files implements CatalogSource.
func (s *FSSource) Files(ctx context.Context, location string) (map[string]string, error) {
	if rest, ok := strings.CutPrefix(location, gitLocation); ok && s.git != nil {
		i := strings.LastIndex(rest, ":")
		if i < 0 {
			return nil, fmt.Errorf("%w: location %q", ErrInvalidCatalog, location)
		}
		return s.git.readTree(ctx, rest[:i], s.git.repoPath(rest[i+1:]))
	}
	if _, err := fs.Stat(s.fsys, path.Join(location, KptfileName)); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBlueprint, location, err)
	}
	return readTree(s.fsys, location)
}

// gitRepo reads tags and tagged trees of the checkout a directory is in,
// with the git command.
type gitRepo struct {
	// top is the checkout's root; prefix the directory's path in it.
	top, prefix string
}

// openGitRepo returns the checkout holding dir, nil when there is none
// (or no git command).
func openGitRepo(ctx context.Context, dir string) *gitRepo {
	top, err := runGit(ctx, dir, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil
	}
	prefix, err := runGit(ctx, dir, nil, "rev-parse", "--show-prefix")
	if err != nil {
		return nil
	}
	return &gitRepo{top: strings.TrimSpace(string(top)), prefix: strings.TrimSuffix(strings.TrimSpace(string(prefix)), "/")}
}

// repoPath is package directory d's path in the checkout.
func (g *gitRepo) repoPath(d string) string {
	if d == "." {
		return g.prefix
	}
	return path.Join(g.prefix, d)
}

func (g *gitRepo) tags(ctx context.Context) ([]string, error) {
	out, err := runGit(ctx, g.top, nil, "tag", "--list")
	if err != nil {
		return nil, err
	}
	tags := strings.Fields(string(out))
	slices.Sort(tags)
	return tags, nil
}

// treeID is the id of the tree at dir in the tagged commit.
func (g *gitRepo) treeID(ctx context.Context, tag, dir string) (string, error) {
	out, err := runGit(ctx, g.top, nil, "rev-parse", "--verify", "--quiet", tag+"^{commit}:"+dir)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// readTree returns the files under dir in the tagged commit.
func (g *gitRepo) readTree(ctx context.Context, tag, dir string) (map[string]string, error) {
	treeish := tag + "^{commit}"
	args := []string{"ls-tree", "-r", "-z", "--full-tree", treeish}
	if dir != "" {
		args = append(args, "--", dir+"/")
	}
	out, err := runGit(ctx, g.top, nil, args...)
	if err != nil {
		return nil, err
	}
	type blob struct{ id, rel string }
	var blobs []blob
	for _, rec := range bytes.Split(out, []byte{0}) {
		meta, p, ok := strings.Cut(string(rec), "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		if len(f) != 3 || f[1] != "blob" {
			continue
		}
		rel := p
		if dir != "" {
			rel = strings.TrimPrefix(p, dir+"/")
		}
		blobs = append(blobs, blob{id: f[2], rel: rel})
	}
	if len(blobs) == 0 {
		return nil, fmt.Errorf("%w: no package at %s in %s", ErrInvalidBlueprint, dir, tag)
	}
	var in bytes.Buffer
	for _, b := range blobs {
		in.WriteString(b.id + "\n")
	}
	out, err = runGit(ctx, g.top, &in, "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(bytes.NewReader(out))
	files := map[string]string{}
	for _, b := range blobs {
		header, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("blueprint: git cat-file: %w", err)
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			return nil, fmt.Errorf("blueprint: git cat-file: unexpected header %q", header)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("blueprint: git cat-file: %w", err)
		}
		data := make([]byte, n+1) // the content and its newline
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("blueprint: git cat-file: %w", err)
		}
		files[b.rel] = string(data[:n])
	}
	return files, nil
}

// runGit runs git in dir and returns its standard output.
func runGit(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("blueprint: git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return nil, fmt.Errorf("blueprint: git %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}
