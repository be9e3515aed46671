package multicluster_test

import (
	"testing"

	"github.com/nephoran/porchkit/internal/importcheck"
)

// multicluster links nothing of krm: the krm customizer is a package of its
// own.
func TestMulticlusterLinksNoKRM(t *testing.T) {
	importcheck.Forbid(t, ".", importcheck.Module+"/krm", "go.starlark.net", "sigs.k8s.io/kustomize/api")
}
