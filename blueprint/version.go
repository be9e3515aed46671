package blueprint

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// VersionAnnotation is the Kptfile annotation that states a blueprint's
// version outright, in semver ("1.2.0" or "v1.2.0"). It wins over every
// other origin, so a package whose workspace or directory name is not a
// version can still be given one:
//
//	apiVersion: kpt.dev/v1
//	kind: Kptfile
//	metadata:
//	  name: amf
//	  annotations:
//	    blueprint.porchkit.io/version: 1.2.0
const VersionAnnotation = "blueprint.porchkit.io/version"

// TypeAnnotation is the Kptfile annotation (or Porch revision label) that
// classifies a blueprint, such as "network-function" or "infrastructure",
// for Filter.Type.
const TypeAnnotation = "blueprint.porchkit.io/type"

// VersionOrigin says where a blueprint's version was read.
type VersionOrigin string

// The origins, in the order the catalog tries them.
const (
	// VersionFromAnnotation: the Kptfile's VersionAnnotation.
	VersionFromAnnotation VersionOrigin = "annotation"
	// VersionFromWorkspace: the Porch revision's workspace name ("v1",
	// "v1-2", "v1-2-3", "v2-0-0-rc-1"), or a local package directory's
	// name ("v1.2.3").
	VersionFromWorkspace VersionOrigin = "workspace"
	// VersionFromGitTag: a git tag of a local checkout ("amf/v1.2.3" or
	// "v1.2.3"), or the git ref of a Porch revision's upstream lock.
	VersionFromGitTag VersionOrigin = "git-tag"
	// VersionFromRevision: a Porch revision number, as deps reads it:
	// revision 3 is 3.0.0. Used only when nothing else gives a version.
	VersionFromRevision VersionOrigin = "revision"
)

// ErrInvalidVersion means a text that must be a version is not one: a
// malformed VersionAnnotation, or a version in a Ref.
var ErrInvalidVersion = errors.New("blueprint: invalid version")

// workspaceVersion matches the versions Porch workspace names can hold:
// DNS labels allow no dots, so "v1-2-3" stands for v1.2.3, and what
// follows the numbers is the pre-release ("v2-0-0-rc-1" is 2.0.0-rc-1).
var workspaceVersion = regexp.MustCompile(`^v?(0|[1-9][0-9]*)(?:-(0|[1-9][0-9]*))?(?:-(0|[1-9][0-9]*))?(?:-([0-9a-z][0-9a-z-]*))?$`)

// dottedVersion is semver with an optional "v", minor and patch, and no
// leading zeros, so "v01" and "v1" are not two names of one version.
var dottedVersion = regexp.MustCompile(`^v?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// ParseVersion reads a version as the catalog's origins write it: semver
// with an optional "v" and optional minor and patch ("v1", "1.2",
// "v1.2.3-rc.1"), or a workspace name with dashes for dots ("v1-2-3"). A
// text that is neither is an error wrapping ErrInvalidVersion.
func ParseVersion(s string) (*semver.Version, error) {
	text := strings.TrimSpace(s)
	if m := workspaceVersion.FindStringSubmatch(text); m != nil && !strings.Contains(text, ".") {
		v := m[1]
		for _, part := range m[2:4] {
			if part == "" {
				part = "0"
			}
			v += "." + part
		}
		if m[4] != "" {
			v += "-" + m[4]
		}
		return semver.StrictNewVersion(v)
	}
	if !dottedVersion.MatchString(text) {
		return nil, fmt.Errorf("%w: %q is not a semantic version (v1, v1.2, v1.2.3, v1-2-3)", ErrInvalidVersion, s)
	}
	v, err := semver.NewVersion(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrInvalidVersion, s, err)
	}
	return v, nil
}

// versionFromTag reads the version of a git tag or ref of package pkg:
// "refs/tags/amf/v1.2.3", "amf/v1.2.3" and "v1.2.3" are 1.2.3; a tag of
// another package's path, or one whose last element is no version, gives
// nil.
func versionFromTag(ref, pkg string) *semver.Version {
	ref = strings.TrimPrefix(ref, "refs/tags/")
	dir, last := path.Split(ref)
	dir = strings.TrimSuffix(dir, "/")
	if dir != "" && pkg != "" && dir != pkg && path.Base(dir) != path.Base(pkg) {
		return nil
	}
	v, err := ParseVersion(last)
	if err != nil {
		return nil
	}
	return v
}

// formatVersion is the text a Blueprint carries for v: "v1.2.0".
func formatVersion(v *semver.Version) string { return "v" + v.String() }
