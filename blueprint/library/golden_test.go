package library

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/blueprint"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the generated packages")

// goldenCase is one value set and environment for a blueprint.
type goldenCase struct {
	name    string
	env     string
	values  blueprint.Values
	cluster *blueprint.ClusterContext
}

func workloadCluster(t *testing.T, name string) *yaml.RNode {
	t.Helper()
	rn, err := yaml.Parse(`apiVersion: infra.nephio.org/v1alpha1
kind: WorkloadCluster
metadata:
  name: ` + name + `
spec:
  clusterName: ` + name + `
  cnis: [macvlan, sriov]
  masterInterface: eth1
`)
	if err != nil {
		t.Fatal(err)
	}
	return rn
}

func goldenCases(name string) []goldenCase {
	custom := blueprint.Values{
		"replicas": 2, "region": "eu-west", "log_level": "debug",
		"plmn": map[string]any{"mcc": "310", "mnc": "260"},
	}
	if name != "nrf" {
		custom["slices"] = []any{map[string]any{"sst": 1, "sd": "000001"}, map[string]any{"sst": 2}}
	}
	switch name {
	case "amf":
		custom["capacity"] = map[string]any{"maxSubscribers": 150000, "maxNFConnections": 20}
	case "smf":
		custom["capacity"] = map[string]any{"maxSessions": 20000}
		custom["dnn"] = "ims"
	case "upf":
		custom["capacity"] = map[string]any{"maxUplinkThroughput": "10G", "maxDownlinkThroughput": "20G"}
		custom["dnn"] = "enterprise"
	case "nrf":
		custom["capacity"] = map[string]any{"maxNFConnections": 200}
	}
	return []goldenCase{
		{name: "dev-defaults", env: "dev"},
		{name: "staging-custom", env: "staging", values: custom},
		{name: "prod-cluster", env: "prod", values: blueprint.Values{"ha_enabled": true},
			cluster: &blueprint.ClusterContext{Name: "edge01", Region: "us-east-1", Site: "edge01", Environment: "prod"}},
	}
}

// TestGolden generates every shipped blueprint, both versions, with
// several value sets and environments, and compares the packages with
// testdata/golden (go test ./blueprint/library -run TestGolden -update
// rewrites them).
func TestGolden(t *testing.T) {
	for _, name := range Names() {
		for _, version := range Versions() {
			bp, err := Blueprint(name, version)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range goldenCases(name) {
				t.Run(name+"-"+version+"/"+c.name, func(t *testing.T) {
					opts := []blueprint.GenerateOption{blueprint.Name(name + "-" + c.name), blueprint.Environment(c.env)}
					if c.cluster != nil {
						opts = append(opts, c.cluster, blueprint.Inject(workloadCluster(t, c.cluster.Name)))
					}
					pkg, err := blueprint.Generate(context.Background(), bp, c.values, opts...)
					if err != nil {
						t.Fatal(err)
					}
					checkInvariants(t, name, c, pkg)
					got := goldenText(t, pkg)
					path := filepath.Join("testdata", "golden", name+"-"+version, c.name+".yaml")
					if *update {
						if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
							t.Fatal(err)
						}
						return
					}
					want, err := os.ReadFile(path)
					if err != nil {
						t.Fatalf("%v (run with -update to create it)", err)
					}
					if got != string(want) {
						diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got),
							FromFile: path, ToFile: "generated", Context: 2})
						t.Fatalf("package differs from %s (run with -update if intended):\n%s", path, diff)
					}
				})
			}
		}
	}
}

// checkInvariants asserts what every case must show, independent of the
// golden bytes: the layered values landed where the bindings say.
func checkInvariants(t *testing.T, name string, c goldenCase, pkg *blueprint.Package) {
	t.Helper()
	dep, err := yaml.Parse(pkg.Files["deployment.yaml"])
	if err != nil {
		t.Fatal(err)
	}
	replicas, err := dep.GetFieldValue("spec.replicas")
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := replicas.(int); !ok || r != toInt(pkg.Values["replicas"]) {
		t.Fatalf("Deployment replicas %#v, values say %#v", replicas, pkg.Values["replicas"])
	}
	want := map[string]int{"dev-defaults": 1, "staging-custom": 2, "prod-cluster": 3}[c.name]
	if r := toInt(pkg.Values["replicas"]); r != want {
		t.Fatalf("replicas %d, want %d (environment %s)", r, want, c.env)
	}
	cfg, err := yaml.Parse(pkg.Files["nfconfig.yaml"])
	if err != nil {
		t.Fatal(err)
	}
	region, err := cfg.Pipe(yaml.Lookup("spec", "configRefs", "[kind=NFProfile]", "spec", "region"))
	if err != nil || region == nil {
		t.Fatalf("no region in the NFConfig: %v", err)
	}
	wantRegion := map[string]string{"dev-defaults": "local", "staging-custom": "eu-west", "prod-cluster": "us-east-1"}[c.name]
	if got := yaml.GetValue(region); got != wantRegion {
		t.Fatalf("region %q, want %q", got, wantRegion)
	}
	if c.cluster != nil {
		nf, err := yaml.Parse(pkg.Files[name+"deployment.yaml"])
		if err != nil {
			t.Fatal(err)
		}
		if nf.GetName() != name+"-"+c.cluster.Name {
			t.Fatalf("NFDeployment %q, want it named after the injected cluster", nf.GetName())
		}
	}
}

func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return -1
}

// goldenText is the package as one reviewable file: the effective values
// and their origins, then every file under a "# file:" header, by path.
func goldenText(t *testing.T, pkg *blueprint.Package) string {
	t.Helper()
	var b strings.Builder
	meta, err := json.MarshalIndent(map[string]any{"blueprint": pkg.Blueprint.String(), "values": pkg.Values, "origins": pkg.Origins}, "# ", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("# " + string(meta) + "\n")
	paths := make([]string, 0, len(pkg.Files))
	for p := range pkg.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if p == "README.md" {
			continue
		}
		b.WriteString("# file: " + p + "\n")
		b.WriteString(strings.TrimRight(pkg.Files[p], "\n") + "\n")
	}
	return b.String()
}
