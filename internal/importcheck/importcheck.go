// Package importcheck lets a test assert what a package does not link, so
// that dependencies keep pointing the right way (a user of the Porch fake
// compiles no starlark, a user of Porch metrics nothing of krm).
package importcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// Module is porchkit's module path, for building forbidden import paths.
const Module = "github.com/nephoran/porchkit"

// Forbid fails the test when `go list -deps pkg` (run in the test's working
// directory) contains one of the forbidden import paths, or a package under
// one. The go command that runs the tests must be on PATH; without it the
// test fails rather than passing unchecked.
func Forbid(t *testing.T, pkg string, forbidden ...string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("importcheck: the go command is needed to list %s's dependencies: %v", pkg, err)
	}
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
}
