package porch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Package is the content of one package revision: every file, by path
// relative to the package root, and the version it was read at.
type Package struct {
	// Name is the package revision's name.
	Name string
	// ResourceVersion is the version the files were read at; Push sends it
	// so a concurrent change is detected.
	ResourceVersion string
	// Resources maps file paths (Kptfile, README.md, ...) to their contents.
	Resources map[string]string
}

// DeepCopy returns an independent copy.
func (p *Package) DeepCopy() *Package {
	return &Package{Name: p.Name, ResourceVersion: p.ResourceVersion, Resources: maps.Clone(p.Resources)}
}

// isResourceFile reports whether a file holds KRM resources.
func isResourceFile(path string) bool {
	return path == "Kptfile" || strings.HasSuffix(path, "/Kptfile") || strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")
}

// Nodes parses the package's YAML files (and Kptfiles) into kyaml nodes,
// annotated with their file path and index as kpt does.
func (p *Package) Nodes() ([]*yaml.RNode, error) {
	paths := make([]string, 0, len(p.Resources))
	for path := range p.Resources {
		if isResourceFile(path) {
			paths = append(paths, path)
		}
	}
	sort.Strings(paths)
	var out []*yaml.RNode
	for _, path := range paths {
		nodes, err := (&kio.ByteReader{
			Reader:                strings.NewReader(p.Resources[path]),
			SetAnnotations:        map[string]string{kioutil.PathAnnotation: path},
			OmitReaderAnnotations: true,
		}).Read()
		if err != nil {
			return nil, &Error{Op: "parse", Name: p.Name, Kind: ErrInvalid, Message: fmt.Sprintf("%s: %v", path, err), Err: err}
		}
		out = append(out, nodes...)
	}
	return out, nil
}

// SetNodes replaces the package's YAML files with nodes, grouped into files
// by their path annotation (nodes without one go to resources.yaml). Files
// that are not YAML (README.md, ...) are kept.
func (p *Package) SetNodes(nodes []*yaml.RNode) error {
	files := map[string][]*yaml.RNode{}
	for _, n := range nodes {
		n = n.Copy()
		path := n.GetAnnotations()[kioutil.PathAnnotation]
		if path == "" {
			path = "resources.yaml"
		}
		if _, err := n.Pipe(yaml.ClearAnnotation(kioutil.PathAnnotation)); err != nil {
			return err
		}
		//lint:ignore SA1019 kyaml still writes the legacy annotations; they must not reach the files
		for _, a := range []string{kioutil.IndexAnnotation, kioutil.LegacyPathAnnotation, kioutil.LegacyIndexAnnotation, kioutil.LegacyIdAnnotation, kioutil.IdAnnotation} {
			if _, err := n.Pipe(yaml.ClearAnnotation(a)); err != nil {
				return err
			}
		}
		files[path] = append(files[path], n)
	}
	out := map[string]string{}
	for path, content := range p.Resources {
		if !isResourceFile(path) {
			out[path] = content
		}
	}
	for path, ns := range files {
		var buf bytes.Buffer
		if err := (kio.ByteWriter{Writer: &buf}).Write(ns); err != nil {
			return fmt.Errorf("porch: write %s: %w", path, err)
		}
		out[path] = buf.String()
	}
	p.Resources = out
	return nil
}

// WriteDir writes the package's files under dir, creating directories.
func (p *Package) WriteDir(dir string) error {
	for path, content := range p.Resources {
		target := filepath.Join(dir, filepath.FromSlash(path))
		if !strings.HasPrefix(target, filepath.Clean(dir)+string(filepath.Separator)) {
			return newError("write", p.Name, ErrInvalid, "file path %q leaves the package directory", path)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ReadDir replaces the package's files with the files under dir. Files must
// be UTF-8 text, as Porch stores them as strings.
func (p *Package) ReadDir(dir string) error {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if !utf8.Valid(data) {
			return newError("read", p.Name, ErrInvalid, "%s is not UTF-8 text", rel)
		}
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		return err
	}
	p.Resources = files
	return nil
}

func (p *packageRevisions) Pull(ctx context.Context, name string) (*Package, error) {
	if name == "" {
		return nil, newError("pull", name, ErrInvalid, "empty package revision name")
	}
	prr, err := p.c.reader.getResources(ctx, "pull", p.ns, name)
	if err != nil {
		return nil, err
	}
	return &Package{Name: prr.Name, ResourceVersion: prr.ResourceVersion, Resources: prr.Spec.Resources}, nil
}

func (p *packageRevisions) Push(ctx context.Context, pkg *Package) (*porchapi.RenderStatus, error) {
	const op = "push"
	if pkg == nil || pkg.Name == "" {
		return nil, newError(op, "", ErrInvalid, "no package revision name")
	}
	if pkg.ResourceVersion == "" {
		return nil, newError(op, pkg.Name, ErrInvalid, "no resourceVersion: push a Package returned by Pull")
	}
	if _, ok := pkg.Resources["Kptfile"]; !ok {
		return nil, newError(op, pkg.Name, ErrInvalid, "package must contain a Kptfile at its root")
	}
	for path, content := range pkg.Resources {
		if !isResourceFile(path) {
			continue
		}
		if _, err := (&kio.ByteReader{Reader: strings.NewReader(content)}).Read(); err != nil {
			return nil, &Error{Op: op, Name: pkg.Name, Kind: ErrInvalid, Message: fmt.Sprintf("%s is not valid YAML: %v", path, err), Err: err}
		}
	}
	// The draft must still be a draft: Porch answers a push to a Proposed or
	// Published revision with a 500; say it plainly instead, on the server's
	// word.
	pr, err := p.c.confirmed(ctx, op, p.ns, pkg.Name, func(pr *porchapi.PackageRevision) bool {
		return lifecycleOrDraft(pr.Spec.Lifecycle) == draft
	})
	if err != nil {
		return nil, err
	}
	if l := lifecycleOrDraft(pr.Spec.Lifecycle); l != draft {
		return nil, newError(op, pkg.Name, ErrImmutable, "the revision is %s; only a Draft can change", l)
	}
	out, err := p.c.srv.updateResources(ctx, op, &porchapi.PackageRevisionResources{
		TypeMeta:   metav1.TypeMeta{APIVersion: porchapi.SchemeGroupVersion.String(), Kind: "PackageRevisionResources"},
		ObjectMeta: metav1.ObjectMeta{Name: pkg.Name, Namespace: p.ns, ResourceVersion: pkg.ResourceVersion},
		Spec: porchapi.PackageRevisionResourcesSpec{
			PackageName: pr.Spec.PackageName, WorkspaceName: pr.Spec.WorkspaceName, RepositoryName: pr.Spec.RepositoryName,
			Resources: pkg.Resources,
		},
	})
	if err != nil {
		return nil, err
	}
	pkg.ResourceVersion = out.ResourceVersion
	status := out.Status.RenderStatus
	return &status, nil
}

func (p *packageRevisions) UpdateResources(ctx context.Context, name string, mutate func(*Package) error) (*porchapi.RenderStatus, error) {
	const op = "update resources"
	pr, err := p.c.reader.getRevision(ctx, op, p.ns, name)
	if err != nil {
		return nil, err
	}
	var status *porchapi.RenderStatus
	err = p.c.res.limiter.hold(ctx, p.ns, pr.Spec.RepositoryName, func(ctx context.Context) error {
		return p.onConflict(func() error {
			prr, err := p.c.srv.getResources(ctx, op, p.ns, name)
			if err != nil {
				return err
			}
			pkg := &Package{Name: prr.Name, ResourceVersion: prr.ResourceVersion, Resources: maps.Clone(prr.Spec.Resources)}
			if err := mutate(pkg); err != nil {
				return fmt.Errorf("porch: update resources of %q: %w", name, err)
			}
			status, err = p.Push(ctx, pkg)
			return opError(op, err)
		})
	})
	return status, err
}

// onConflict runs a read-modify-write step again while it fails with
// ErrConflict, up to the client's conflict retries, with client-go's
// conflict backoff (retry.DefaultRetry's 10 ms steps): each run reads
// afresh, and each write carries the version it read, so nothing applies
// twice. (retry.OnError itself is not used: it reports a step that ended
// with its context as success.)
func (p *packageRevisions) onConflict(step func() error) error {
	backoff := retry.DefaultRetry
	backoff.Steps = p.c.conflictRetries + 1
	var last error
	err := wait.ExponentialBackoff(backoff, func() (bool, error) {
		last = step()
		switch {
		case last == nil:
			return true, nil
		case errors.Is(last, ErrConflict):
			return false, nil
		}
		return false, last
	})
	if last != nil {
		return last
	}
	return err
}
