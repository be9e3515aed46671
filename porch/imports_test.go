package porch_test

import (
	"testing"

	"github.com/nephoran/porchkit/internal/importcheck"
)

// Nothing under porch/ links krm, multicluster or observability, so that a
// user of the client or its fake compiles no starlark or kustomize/api.
func TestPorchLinksNoOtherComponent(t *testing.T) {
	for _, pkg := range []string{".", "./fake", "./porchenv", "./conformance"} {
		importcheck.Forbid(t, pkg, importcheck.Module+"/krm", importcheck.Module+"/multicluster", importcheck.Module+"/observability",
			"go.starlark.net", "sigs.k8s.io/kustomize/api")
	}
}
