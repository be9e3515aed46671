package library

import (
	"context"
	"strings"
	"testing"

	"github.com/nephoran/porchkit/krm"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The shipped pipelines run in-process: apply-replacements names the
// NFDeployment after the cluster, set-namespace moves everything to the
// blueprint's namespace.
func TestPipelinesRenderInProcess(t *testing.T) {
	exec := krm.NewRunner(krm.RunnerConfig{})
	for _, name := range Names() {
		for _, version := range Versions() {
			files, err := Files(name, version)
			if err != nil {
				t.Fatal(err)
			}
			files["workload-cluster.yaml"] = strings.Replace(files["workload-cluster.yaml"], "clusterName: example", "clusterName: edge01", 1)
			out, res, err := krm.Render(context.Background(), exec, files)
			if err != nil {
				t.Fatalf("%s %s: %v", name, version, err)
			}
			if len(res.Runs) != 3 {
				t.Fatalf("%s %s: %d runs", name, version, len(res.Runs))
			}
			nf, err := yaml.Parse(out[name+"deployment.yaml"])
			if err != nil {
				t.Fatal(err)
			}
			if nf.GetName() != name+"-edge01" {
				t.Fatalf("%s %s: NFDeployment named %q", name, version, nf.GetName())
			}
			dep, err := yaml.Parse(out["deployment.yaml"])
			if err != nil {
				t.Fatal(err)
			}
			ns := "free5gc-cp"
			if name == "upf" {
				ns = "free5gc-upf"
			}
			if dep.GetNamespace() != ns {
				t.Fatalf("%s %s: Deployment namespace %q, want %q", name, version, dep.GetNamespace(), ns)
			}
			capacity, err := yaml.Parse(out["capacity.yaml"])
			if err != nil {
				t.Fatal(err)
			}
			if got := capacity.GetAnnotations()["specializer.nephio.org/owner"]; got != "workload.nephio.org/v1alpha1.NFDeployment."+name+"-edge01" {
				t.Fatalf("%s %s: capacity owner %q", name, version, got)
			}
		}
	}
}
