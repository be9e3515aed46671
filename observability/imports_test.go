package observability_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Each adapter links only the component it adapts, and the core links none:
// `go list -deps` of each package contains none of the forbidden import
// paths (a path, or anything under it).
func TestAdaptersLinkOnlyTheirComponent(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH:", err)
	}
	const (
		porch        = "github.com/nephoran/porchkit/porch"
		krm          = "github.com/nephoran/porchkit/krm"
		multicluster = "github.com/nephoran/porchkit/multicluster"
		starlark     = "go.starlark.net"
		kustomizeAPI = "sigs.k8s.io/kustomize/api"
	)
	for pkg, forbidden := range map[string][]string{
		".":            {porch, krm, multicluster, starlark, kustomizeAPI},
		"./porchobs":   {krm, multicluster, starlark, kustomizeAPI},
		"./krmobs":     {porch, multicluster},
		"./clusterobs": {porch},
	} {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command(goBin, "list", "-deps", pkg).Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr)
			}
			deps := strings.Fields(string(out))
			if len(deps) == 0 {
				t.Fatalf("go list -deps %s listed nothing", pkg)
			}
			for _, dep := range deps {
				for _, f := range forbidden {
					if dep == f || strings.HasPrefix(dep, f+"/") {
						t.Errorf("%s links %s", pkg, dep)
					}
				}
			}
		})
	}
}
