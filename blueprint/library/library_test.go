package library

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func resources(t *testing.T, files map[string]string) []*yaml.RNode {
	t.Helper()
	var out []*yaml.RNode
	for p, s := range files {
		if !strings.HasSuffix(p, ".yaml") && p != "Kptfile" {
			continue
		}
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(s), OmitReaderAnnotations: true}).Read()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, nodes...)
	}
	return out
}

func TestEveryBlueprintIsAVersionedKptPackage(t *testing.T) {
	for _, name := range Names() {
		for _, version := range Versions() {
			files, err := Files(name, version)
			if err != nil {
				t.Fatal(err)
			}
			kf, err := yaml.Parse(files["Kptfile"])
			if err != nil {
				t.Fatalf("%s %s Kptfile: %v", name, version, err)
			}
			if kf.GetName() != name || "v"+kf.GetAnnotations()["blueprint.porchkit.io/version"] != version {
				t.Fatalf("%s %s: Kptfile name %q annotations %v", name, version, kf.GetName(), kf.GetAnnotations())
			}
			kinds := map[string]int{}
			seen := map[string]bool{}
			for _, rn := range resources(t, files) {
				id := rn.GetApiVersion() + "/" + rn.GetKind() + "/" + rn.GetName()
				if rn.GetApiVersion() == "" || rn.GetKind() == "" || rn.GetName() == "" || seen[id] {
					t.Fatalf("%s %s: bad or duplicate resource %q", name, version, id)
				}
				seen[id] = true
				kinds[rn.GetKind()]++
			}
			for _, k := range []string{"Parameters", "Policy", "WorkloadCluster", "NFDeployment", "NFConfig", "Capacity", "Deployment"} {
				if kinds[k] != 1 {
					t.Fatalf("%s %s: %d %s resources, want 1", name, version, kinds[k], k)
				}
			}
			if !strings.Contains(files["Kptfile"], "apply-replacements:v0.1.1") || strings.Contains(files["Kptfile"], ":latest") {
				t.Fatalf("%s %s: pipeline\n%s", name, version, files["Kptfile"])
			}
		}
	}
}

func TestUPFIsTheFiftyResourceBlueprint(t *testing.T) {
	files, err := Files("upf", "v1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resources(t, files)); n < 50 || n > 60 {
		t.Fatalf("upf has %d resources, want about 50", n)
	}
}

func TestUnknownBlueprintOrVersion(t *testing.T) {
	if _, err := Files("mme", "1.0.0"); err == nil || !strings.Contains(err.Error(), `"mme"`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Dir("amf", "3.0.0"); err == nil || !strings.Contains(err.Error(), `"3.0.0"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestNoticeAndLicenseShipped(t *testing.T) {
	for _, p := range []string{"NOTICE", "LICENSE"} {
		if _, err := FS().Open(p); err != nil {
			t.Fatal(err)
		}
	}
}
