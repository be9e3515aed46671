package observability_test

import (
	"testing"

	"github.com/nephoran/porchkit/internal/importcheck"
)

const (
	porch        = importcheck.Module + "/porch"
	krm          = importcheck.Module + "/krm"
	multicluster = importcheck.Module + "/multicluster"
	starlark     = "go.starlark.net"
	kustomizeAPI = "sigs.k8s.io/kustomize/api"
)

// Each adapter links only the component it adapts, and the core links none.
func TestAdaptersLinkOnlyTheirComponent(t *testing.T) {
	for pkg, forbidden := range map[string][]string{
		".":            {porch, krm, multicluster, starlark, kustomizeAPI},
		"./porchobs":   {krm, multicluster, starlark, kustomizeAPI},
		"./krmobs":     {porch, multicluster},
		"./clusterobs": {porch, krm, starlark, kustomizeAPI},
	} {
		t.Run(pkg, func(t *testing.T) { importcheck.Forbid(t, pkg, forbidden...) })
	}
}
