package krm

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Function names one KRM function call: which function (an image reference
// or an executable) and its functionConfig.
type Function struct {
	// Image is an image reference such as gcr.io/kpt-fn/set-namespace:v0.4.1.
	// The registry maps it to a builtin, an executable or a container.
	Image string
	// Exec is a path to an executable speaking the KRM function protocol,
	// used instead of Image.
	Exec string
	// Config is the functionConfig (nil for none).
	Config *yaml.RNode
	// Needs declares what the function needs from the sandbox; the policy
	// grants or denies it.
	Needs Capabilities
}

// String names the function for errors and logs.
func (f Function) String() string {
	if f.Exec != "" {
		return "exec:" + f.Exec
	}
	return f.Image
}

// ImageRef is a parsed image reference.
type ImageRef struct {
	// Name is the image without tag or digest, e.g. gcr.io/kpt-fn/set-namespace.
	Name string
	// Tag is the tag (e.g. v0.4.1), or "" if none.
	Tag string
	// Digest is the digest (sha256:...), or "" if none.
	Digest string
}

// ParseImage splits an image reference into name, tag and digest.
func ParseImage(ref string) (ImageRef, error) {
	if ref == "" || strings.ContainsAny(ref, " \t\n") {
		return ImageRef{}, fmt.Errorf("%w: image reference %q", ErrBadInput, ref)
	}
	var r ImageRef
	if name, digest, ok := strings.Cut(ref, "@"); ok {
		ref, r.Digest = name, digest
	}
	// A tag follows the last colon after the last slash (a colon before it
	// is a registry port).
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		ref, r.Tag = ref[:colon], ref[colon+1:]
	}
	r.Name = ref
	return r, nil
}

// ShortName is the last path segment of the image name, e.g. set-namespace.
func (r ImageRef) ShortName() string {
	return r.Name[strings.LastIndex(r.Name, "/")+1:]
}
