//lint:file-ignore SA1019 kyaml and functions written for kpt v1 still read and write the legacy path, index and id annotations, so Render sets and clears them too

package krm

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ResourceError is a resource Render refuses, as kpt does: one that is not
// a KRM resource (no apiVersion, kind or metadata.name), or one a function
// placed outside its package or on another resource's path and index. It
// wraps ErrBadInput for resources as read and ErrBadOutput for resources
// as a function returned them.
type ResourceError struct {
	// Path is the resource's file, relative to the root package.
	Path string
	// Field is the field at fault: "apiVersion", "kind", "metadata.name",
	// or the path or index annotation.
	Field string
	// Kind is ErrBadInput or ErrBadOutput.
	Kind error
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *ResourceError) Error() string { return fmt.Sprintf("krm: %s: %s", e.Path, e.Reason) }

// Unwrap returns Kind.
func (e *ResourceError) Unwrap() error { return e.Kind }

// kustomizationFiles are the file names kpt exempts from its KRM check.
var kustomizationFiles = map[string]bool{"kustomization.yaml": true, "kustomization.yml": true, "Kustomization": true}

// checkKRM refuses a list holding a resource without apiVersion, kind or
// metadata.name, kustomizations excepted, as kpt checks what goes into and
// comes out of every function (and a package without a pipeline). list is
// "input" or "output"; kind the sentinel to wrap.
func checkKRM(nodes []*yaml.RNode, list string, kind error) error {
	for _, n := range nodes {
		missing := ""
		switch {
		case n.GetApiVersion() == "":
			missing = "apiVersion"
		case n.GetKind() == "":
			missing = "kind"
		case n.GetName() == "":
			missing = "metadata.name"
		}
		if missing == "" || isKustomization(n) {
			continue
		}
		return &ResourceError{Path: resourcePath(n), Field: missing, Kind: kind,
			Reason: fmt.Sprintf("%s resource list must contain only KRM resources: resource must have `%s`", list, missing)}
	}
	return nil
}

func isKustomization(n *yaml.RNode) bool {
	if p, _ := filePath(annotationsNode(n, false)); kustomizationFiles[path.Base(p)] {
		return true
	}
	apiVersion := n.GetApiVersion()
	return strings.HasPrefix(apiVersion, "kustomize.config.k8s.io") || apiVersion == "" && n.GetKind() == "Kustomization"
}

// filePath is the path annotation in a resource's annotations a (the
// legacy one if only that is set), relative to its package.
func filePath(a *yaml.Node) (string, bool) {
	if v, ok := lookup(a, kioutil.PathAnnotation); ok {
		return v, true
	}
	return lookup(a, kioutil.LegacyPathAnnotation)
}

// fileIndex is the index annotation in a (the legacy one if only that is
// set).
func fileIndex(a *yaml.Node) (string, bool) {
	if v, ok := lookup(a, kioutil.IndexAnnotation); ok {
		return v, true
	}
	return lookup(a, kioutil.LegacyIndexAnnotation)
}

// packageDir is the package named in a ("" for the root).
func packageDir(a *yaml.Node) string {
	v, _ := lookup(a, packagePathAnnotation)
	return strings.Trim(v, "/")
}

// resourcePath names a resource's file relative to the root package, for
// messages.
func resourcePath(n *yaml.RNode) string {
	a := annotationsNode(n, false)
	p, _ := filePath(a)
	return path.Join(packageDir(a), p)
}

// pathKey is a resource's place: package, file and index.
type pathKey struct{ pkg, file, index string }

// checkPaths refuses a function's output that puts a resource outside its
// package (an absolute path or one climbing out with ..) or two resources
// at the same path and index, as kpt's function runner does.
func checkPaths(nodes []*yaml.RNode) error {
	seen := make(map[pathKey]bool, len(nodes))
	for _, n := range nodes {
		a := annotationsNode(n, false)
		p, _ := filePath(a)
		index, _ := fileIndex(a)
		clean := path.Clean(p)
		if path.IsAbs(p) || clean == ".." || strings.HasPrefix(clean, "../") {
			return &ResourceError{Path: path.Join(packageDir(a), p), Field: kioutil.PathAnnotation, Kind: ErrBadOutput,
				Reason: fmt.Sprintf("function must not modify resources outside of package: resource has path %s", p)}
		}
		k := pathKey{packageDir(a), clean, index}
		if seen[k] {
			return &ResourceError{Path: path.Join(k.pkg, clean), Field: kioutil.IndexAnnotation, Kind: ErrBadOutput,
				Reason: fmt.Sprintf("resource at path %q and index %q already exists", clean, index)}
		}
		seen[k] = true
	}
	return nil
}
