package porchenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nephoran/porchkit/internal/process"
)

// controllerReadyLine is what controller-runtime logs once a controller's
// workers run, i.e. once its watches are synced and it reconciles.
var controllerReadyLine = []byte(`"Starting workers"`)

// startPackageVariantController starts Porch's PackageVariant controller
// (testbin's porch-controllers) against kube-apiserver, through which it
// reaches porch.kpt.dev by aggregation as in a production install, and
// waits until its workers run.
func (e *Environment) startPackageVariantController(ctx context.Context, path string) error {
	dir := filepath.Join(e.dir, "porch-controllers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p, err := process.Start(process.Spec{
		Name: "porch-controllers",
		Path: path,
		Dir:  dir,
		Args: []string{"--kubeconfig=" + e.KubeconfigPath},
	})
	if err != nil {
		return err
	}
	e.controllers = p
	return p.WaitReady(ctx, 100*time.Millisecond, func(context.Context) error {
		log, err := os.ReadFile(p.LogPath())
		if err != nil {
			return err
		}
		if !bytes.Contains(log, controllerReadyLine) {
			return fmt.Errorf("porch-controllers: workers not started yet")
		}
		return nil
	})
}
