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
	prr, err := cachedRead(ctx, p.c.cache, kindResources, p.ns, name, func(ctx context.Context) (*porchapi.PackageRevisionResources, error) {
		return p.pullFresh(ctx, name)
	}, (*porchapi.PackageRevisionResources).DeepCopy)
	if err != nil {
		return nil, err
	}
	return &Package{Name: prr.Name, ResourceVersion: prr.ResourceVersion, Resources: prr.Spec.Resources}, nil
}

func (p *packageRevisions) pullFresh(ctx context.Context, name string) (*porchapi.PackageRevisionResources, error) {
	if name == "" {
		return nil, newError("pull", name, ErrInvalid, "empty package revision name")
	}
	return stillThere(ctx, p.c, p.ns, name, func(ctx context.Context) (*porchapi.PackageRevisionResources, error) {
		var out *porchapi.PackageRevisionResources
		err := p.c.do(ctx, call{op: p.op("get", kindResources, name), idempotent: true}, func(ctx context.Context) error {
			var err error
			out, err = p.c.porch.PorchV1alpha1().PackageRevisionResources(p.ns).Get(ctx, name, metav1.GetOptions{})
			if err == nil {
				err = carries(name, out)
			}
			return err
		})
		return out, err
	})
}

func (p *packageRevisions) Push(ctx context.Context, pkg *Package) (*porchapi.RenderStatus, error) {
	if pkg == nil || pkg.Name == "" {
		return nil, newError("push", "", ErrInvalid, "no package revision name")
	}
	if pkg.ResourceVersion == "" {
		return nil, newError("push", pkg.Name, ErrInvalid, "no resourceVersion: push a Package returned by Pull")
	}
	if _, ok := pkg.Resources["Kptfile"]; !ok {
		return nil, newError("push", pkg.Name, ErrInvalid, "package must contain a Kptfile at its root")
	}
	for path, content := range pkg.Resources {
		if !isResourceFile(path) {
			continue
		}
		if _, err := (&kio.ByteReader{Reader: strings.NewReader(content)}).Read(); err != nil {
			return nil, &Error{Op: "push", Name: pkg.Name, Kind: ErrInvalid, Message: fmt.Sprintf("%s is not valid YAML: %v", path, err), Err: err}
		}
	}
	// The draft must still be a draft: Porch answers a push to a Proposed or
	// Published revision with a 500; say it plainly instead.
	pr, err := p.Get(ctx, pkg.Name)
	if err == nil && lifecycleOrDraft(pr.Spec.Lifecycle) != draft && p.c.cache != nil {
		pr, err = p.getFresh(ctx, pkg.Name) // refuse only on the server's word
	}
	if err != nil {
		return nil, err
	}
	if l := lifecycleOrDraft(pr.Spec.Lifecycle); l != draft {
		return nil, newError("push", pkg.Name, ErrImmutable, "the revision is %s; only a Draft can change", l)
	}
	prr := &porchapi.PackageRevisionResources{
		TypeMeta:   metav1.TypeMeta{APIVersion: porchapi.SchemeGroupVersion.String(), Kind: "PackageRevisionResources"},
		ObjectMeta: metav1.ObjectMeta{Name: pkg.Name, Namespace: p.ns, ResourceVersion: pkg.ResourceVersion},
		Spec: porchapi.PackageRevisionResourcesSpec{
			PackageName: pr.Spec.PackageName, WorkspaceName: pr.Spec.WorkspaceName, RepositoryName: pr.Spec.RepositoryName,
			Resources: pkg.Resources,
		},
	}
	var out *porchapi.PackageRevisionResources
	err = p.c.do(ctx, call{op: p.op("push", kindResources, pkg.Name), repository: pr.Spec.RepositoryName, guarded: true}, func(ctx context.Context) error {
		mark := p.mark()
		var err error
		out, err = p.c.porch.PorchV1alpha1().PackageRevisionResources(p.ns).Update(ctx, prr, metav1.UpdateOptions{})
		if err == nil {
			err = carries(pkg.Name, out)
		}
		if err == nil {
			answer := out.DeepCopy()
			answer.Status = porchapi.PackageRevisionResourcesStatus{} // GET never shows render status
			p.wrote(kindResources, pkg.Name, answer, mark)
		}
		return err
	})
	if errors.Is(err, errNoObject) {
		// Answered with success but without the resources: the push was
		// guarded by pkg.ResourceVersion and sent from the repository's
		// write slot, so a new resourceVersion on the server means it took
		// effect (its render status is lost; Porch may have rendered the
		// files, so they are not compared).
		p.written(pkg.Name)
		if now, perr := p.pullFresh(ctx, pkg.Name); perr == nil && now.ResourceVersion != pkg.ResourceVersion {
			out, err = now, nil
		}
	}
	if err != nil {
		p.written(pkg.Name) // a failed write may still have changed something
		return nil, err
	}
	pkg.ResourceVersion = out.ResourceVersion
	status := out.Status.RenderStatus
	return &status, nil
}

func (p *packageRevisions) UpdateResources(ctx context.Context, name string, mutate func(*Package) error) (*porchapi.RenderStatus, error) {
	pr, err := p.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	var status *porchapi.RenderStatus
	err = p.c.holdRepository(ctx, p.ns, pr.Spec.RepositoryName, func(ctx context.Context) error {
		for attempt := 0; ; attempt++ {
			prr, err := p.pullFresh(ctx, name)
			if err != nil {
				return err
			}
			pkg := &Package{Name: prr.Name, ResourceVersion: prr.ResourceVersion, Resources: maps.Clone(prr.Spec.Resources)}
			if err := mutate(pkg); err != nil {
				return fmt.Errorf("porch: update resources of %q: %w", name, err)
			}
			status, err = p.Push(ctx, pkg)
			// A conflict, or a 404 for a revision Porch stopped serving for
			// a moment after a write: read again and apply again (the push
			// carries the resourceVersion it read, so nothing is applied
			// twice).
			retry := errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) && p.c.wasRecent(p.ns, name)
			if err == nil || !retry || attempt >= p.c.opts.conflictRetries {
				return err
			}
		}
	})
	return status, err
}
