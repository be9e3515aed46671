package testbin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tool is one tool module (in modules/) and what it produces.
type tool struct {
	// dir is the module's directory under modules/, and the first part of
	// its cache directory's name.
	dir string
	// module is the upstream module whose version the tool pins.
	module string
	// binaries maps a binary name to the package built for it.
	binaries map[string]string
	// assets copies files from the upstream module (at modRoot) into out.
	assets func(modRoot, out string) error
	// assetNames are the names assets produces.
	assetNames []string
}

// tools is the fixed table of tool modules; it is read-only.
var tools = []tool{
	{
		dir:      "etcd",
		module:   "go.etcd.io/etcd/server/v3",
		binaries: map[string]string{Etcd: "."},
	},
	{
		dir:    "kube",
		module: "k8s.io/kubernetes",
		binaries: map[string]string{
			KubeAPIServer:         "k8s.io/kubernetes/cmd/kube-apiserver",
			KubeControllerManager: "k8s.io/kubernetes/cmd/kube-controller-manager",
			KubeScheduler:         "k8s.io/kubernetes/cmd/kube-scheduler",
		},
	},
	{
		dir:    "porch",
		module: "github.com/nephio-project/porch",
		binaries: map[string]string{
			PorchServer:    "github.com/nephio-project/porch/cmd/porch",
			Porchctl:       "github.com/nephio-project/porch/cmd/porchctl",
			FunctionRunner: "github.com/nephio-project/porch/func/server",
			PorchGitServer: "github.com/nephio-project/porch/test/git",
		},
		assets:     copyPorchCRDs,
		assetNames: []string{PorchCRDs},
	},
	{
		dir:      "porchfn",
		module:   "github.com/nephio-project/porch",
		binaries: map[string]string{PorchFn: "."},
	},
	{
		dir:      "porchcontrollers",
		module:   "github.com/nephio-project/porch",
		binaries: map[string]string{PorchControllers: "."},
	},
	{
		dir:        "kwok",
		module:     "sigs.k8s.io/kwok",
		binaries:   map[string]string{Kwok: "sigs.k8s.io/kwok/cmd/kwok"},
		assets:     joinKwokStages,
		assetNames: []string{KwokStages},
	},
}

func toolFor(name string) (tool, bool) {
	for _, t := range tools {
		if _, ok := t.binaries[name]; ok {
			return t, true
		}
		for _, a := range t.assetNames {
			if a == name {
				return t, true
			}
		}
	}
	return tool{}, false
}

// porchCRDFiles are the CRD manifests inside the Porch module.
var porchCRDFiles = []string{
	"api/porchconfig/v1alpha1/config.porch.kpt.dev_repositories.yaml",
	"internal/api/porchinternal/v1alpha1/config.porch.kpt.dev_packagerevs.yaml",
	"controllers/config/crd/bases/config.porch.kpt.dev_packagevariants.yaml",
	"controllers/config/crd/bases/config.porch.kpt.dev_packagevariantsets.yaml",
}

func copyPorchCRDs(modRoot, out string) error {
	dir := filepath.Join(out, PorchCRDs)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range porchCRDFiles {
		data, err := os.ReadFile(filepath.Join(modRoot, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// kwokStageFiles are the stages a simulated cluster needs, inside the kwok
// module: nodes become Ready and keep a heartbeat; pods become Running and
// Ready, complete, and go away when deleted.
var kwokStageFiles = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat/node-heartbeat.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

func joinKwokStages(modRoot, out string) error {
	var docs []string
	for _, f := range kwokStageFiles {
		data, err := os.ReadFile(filepath.Join(modRoot, f))
		if err != nil {
			return err
		}
		docs = append(docs, strings.TrimSpace(string(data)))
	}
	return os.WriteFile(filepath.Join(out, KwokStages), []byte(strings.Join(docs, "\n---\n")+"\n"), 0o644)
}

// moduleRoot returns the directory of module in the module cache, as the tool
// module in modDir resolves it (downloading it when needed).
func moduleRoot(ctx context.Context, modDir, module string) (string, error) {
	out, err := goCommand(ctx, modDir, "list", "-m", "-f", "{{.Dir}}", module)
	if err != nil {
		return "", err
	}
	root := strings.TrimSpace(out)
	if root == "" {
		return "", fmt.Errorf("testbin: module %s has no directory (not downloaded?)", module)
	}
	return root, nil
}
