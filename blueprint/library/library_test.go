package library

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nephoran/porchkit/blueprint"

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

func TestCatalogResolvesConstraints(t *testing.T) {
	ctx := context.Background()
	c, err := Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, name := range Names() {
		for constraint, want := range map[string]string{"^1.0.0": "v1.0.0", "": "v2.0.0", ">=1.5": "v2.0.0", "~1": "v1.0.0"} {
			e, err := c.Resolve(ctx, name, constraint)
			if err != nil {
				t.Fatalf("%s %q: %v", name, constraint, err)
			}
			if e.Ref().Version != want {
				t.Fatalf("%s %q resolved %s, want %s", name, constraint, e.Ref(), want)
			}
		}
	}
	if _, err := c.Resolve(ctx, "amf", "^3"); !errors.Is(err, blueprint.ErrNoMatchingVersion) {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Resolve(ctx, "mme", ""); !errors.Is(err, blueprint.ErrUnknownBlueprint) {
		t.Fatalf("err = %v", err)
	}
}

// Every generated package of the golden cases passes the layered
// validation with the shipped and in-package policies.
func TestGeneratedPackagesPassValidation(t *testing.T) {
	ctx := context.Background()
	for _, name := range Names() {
		bp, err := Blueprint(name, "v1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		pkg, err := blueprint.Generate(ctx, bp, blueprint.Values{"ha_enabled": true}, blueprint.Environment("prod"),
			blueprint.Inject(workloadCluster(t, "edge01")))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := blueprint.ValidatePackage(ctx, pkg.Files, blueprint.WithPolicyValues(pkg.Values), blueprint.AsDownstream(),
			blueprint.WithLifecycle("Published"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := rep.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The in-package capacity policy fires when the figures outgrow the replicas.
		over := map[string]blueprint.Values{"amf": {"capacity": map[string]any{"maxSubscribers": 500000}},
			"smf": {"capacity": map[string]any{"maxSessions": 900000}}, "nrf": {"capacity": map[string]any{"maxNFConnections": 900}}}[name]
		if over == nil {
			continue
		}
		over["replicas"] = 1
		pkg, err = blueprint.Generate(ctx, bp, over, blueprint.Environment("dev"), blueprint.Inject(workloadCluster(t, "edge01")))
		if err != nil {
			t.Fatal(err)
		}
		_, err = blueprint.ValidatePackage(ctx, pkg.Files, blueprint.WithPolicyValues(pkg.Values), blueprint.AsDownstream())
		var vs blueprint.Violations
		if !errors.As(err, &vs) || len(vs) != 1 || !strings.HasPrefix(vs[0].Rule, name+"-") || vs[0].File != "capacity.yaml" {
			t.Fatalf("%s: violations %v", name, err)
		}
	}
}
