package gitops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/porch"
)

// localConfigAnnotation marks resources that configure kpt and functions
// and are never applied to a cluster (the Kptfile, package context).
const localConfigAnnotation = "config.kubernetes.io/local-config"

// PackageFromRevision turns a published Porch package revision and its
// contents into the Package a Propagator rolls out: the name is a
// DNS-1123 label made from the package path ("network/upf" becomes
// "network-upf"; a path too long for a label keeps its start and a hash),
// the revision is Porch's revision number ("v3"), and local-config
// resources and kpt's bookkeeping annotations are dropped. A revision that
// is not published, or a path that cannot be made a label, is an error
// wrapping multicluster.ErrInvalidPackage.
func PackageFromRevision(pr *porchapi.PackageRevision, contents *porch.Package) (*multicluster.Package, error) {
	if pr == nil || contents == nil {
		return nil, fmt.Errorf("%w: no package revision", multicluster.ErrInvalidPackage)
	}
	if pr.Spec.Lifecycle != porchapi.PackageRevisionLifecyclePublished || pr.Spec.Revision <= 0 {
		return nil, fmt.Errorf("%w: %s is %s; only published revisions are propagated", multicluster.ErrInvalidPackage, pr.Name, lifecycleOf(pr))
	}
	name, err := packageName(pr.Spec.PackageName)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", multicluster.ErrInvalidPackage, pr.Name, err)
	}
	nodes, err := contents.Nodes()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", multicluster.ErrInvalidPackage, pr.Name, err)
	}
	pkg := &multicluster.Package{Name: name, Revision: fmt.Sprintf("v%d", pr.Spec.Revision)}
	for _, n := range nodes {
		if n.GetAnnotations()[localConfigAnnotation] == "true" {
			continue
		}
		//lint:ignore SA1019 kyaml still writes the legacy annotations; they must not reach clusters
		for _, a := range []string{kioutil.PathAnnotation, kioutil.IndexAnnotation, kioutil.IdAnnotation, kioutil.LegacyPathAnnotation, kioutil.LegacyIndexAnnotation, kioutil.LegacyIdAnnotation} {
			if err := n.PipeE(yaml.ClearAnnotation(a)); err != nil {
				return nil, fmt.Errorf("%w: %s: %w", multicluster.ErrInvalidPackage, pr.Name, err)
			}
		}
		pkg.Resources = append(pkg.Resources, n)
	}
	return pkg, nil
}

// PullPackage reads the package revision name through prs and returns it
// as a Package (see PackageFromRevision).
func PullPackage(ctx context.Context, prs porch.PackageRevisions, name string) (*multicluster.Package, error) {
	pr, err := prs.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	contents, err := prs.Pull(ctx, name)
	if err != nil {
		return nil, err
	}
	return PackageFromRevision(pr, contents)
}

func lifecycleOf(pr *porchapi.PackageRevision) string {
	if pr.Spec.Lifecycle == "" {
		return "without a lifecycle"
	}
	return string(pr.Spec.Lifecycle)
}

// packageName makes a DNS-1123 label of a Porch package path: letters are
// lower-cased and path separators, dots and underscores become dashes;
// any other character is refused rather than guessed at.
func packageName(path string) (string, error) {
	var b strings.Builder
	for _, r := range path {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r - 'A' + 'a')
		case r == '/', r == '.', r == '_', r == '-':
			b.WriteByte('-')
		default:
			return "", fmt.Errorf("package path %q: character %q has no place in a cluster object's name", path, r)
		}
	}
	name := strings.Trim(b.String(), "-")
	for strings.Contains(name, "--") {
		name = strings.ReplaceAll(name, "--", "-")
	}
	if name == "" {
		return "", fmt.Errorf("package path %q has no letters or digits", path)
	}
	if len(name) > validation.DNS1123LabelMaxLength {
		sum := sha256.Sum256([]byte(path))
		name = strings.TrimRight(name[:validation.DNS1123LabelMaxLength-11], "-") + "-" + hex.EncodeToString(sum[:])[:10]
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return "", fmt.Errorf("package path %q: %s", path, errs[0])
	}
	return name, nil
}
