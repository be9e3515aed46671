package intent_test

import (
	"context"
	"errors"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/blueprint"
	"github.com/nephoran/porchkit/blueprint/library"
	"github.com/nephoran/porchkit/intent"
)

func libraryMapper(t *testing.T) *intent.Mapper {
	t.Helper()
	cat, err := library.Catalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cat.Close)
	return intent.NewLibraryMapper(cat)
}

func cluster(t *testing.T, name string) blueprint.GenerateOption {
	t.Helper()
	rn, err := yaml.Parse("apiVersion: infra.nephio.org/v1alpha1\nkind: WorkloadCluster\nmetadata:\n  name: " + name +
		"\nspec:\n  clusterName: " + name + "\n  cnis: [macvlan]\n  masterInterface: eth1\n")
	if err != nil {
		t.Fatal(err)
	}
	return blueprint.Inject(rn)
}

func field(t *testing.T, files map[string]string, file string, path ...string) string {
	t.Helper()
	rn, err := yaml.Parse(files[file])
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	v, err := rn.Pipe(yaml.Lookup(path...))
	if err != nil || v == nil {
		t.Fatalf("%s %v: %v", file, path, err)
	}
	return yaml.GetValue(v)
}

func TestFromIntentEveryLibraryFunction(t *testing.T) {
	m := libraryMapper(t)
	ctx := context.Background()
	cases := []struct {
		in       intent.Intent
		rule     string
		replicas string
	}{
		{intent.Intent{Name: "amf-dev", NetworkFunction: intent.AMF, Environment: intent.Dev, Region: "eu-west",
			Scale: intent.Scale{MaxSubscribers: 50000}, PLMN: intent.PLMN{MCC: "310", MNC: "260"}}, "amf", "1"},
		{intent.Intent{Name: "smf-prod", NetworkFunction: intent.SMF, Environment: intent.Prod, Region: "eu-west", DNN: "ims",
			Slices: []intent.Slice{{SST: 1, SD: "000001"}, {SST: 2}}}, "smf-prod", "3"},
		{intent.Intent{Name: "upf-edge", NetworkFunction: intent.UPF, Environment: intent.Staging, Site: "edge01", HA: true,
			Scale: intent.Scale{MaxUplinkThroughput: "10G"}}, "upf", "2"},
		{intent.Intent{Name: "nrf-prod", NetworkFunction: intent.NRF, Environment: intent.Prod, Region: "us-east-1",
			Scale: intent.Scale{Replicas: 1}}, "nrf-prod", "2"},
	}
	for _, c := range cases {
		t.Run(c.in.Name, func(t *testing.T) {
			res, err := m.FromIntent(ctx, c.in, cluster(t, "edge01"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision.Rule.Name != c.rule || res.Package.Name != c.in.Name || res.Package.Blueprint.Version != "v1.0.0" {
				t.Fatalf("rule %s package %s blueprint %s", res.Decision.Rule.Name, res.Package.Name, res.Package.Blueprint)
			}
			f := res.Package.Files
			if got := field(t, f, "deployment.yaml", "spec", "replicas"); got != c.replicas {
				t.Fatalf("replicas %s, want %s", got, c.replicas)
			}
			if got := field(t, f, "package-context.yaml", "data", "name"); got != c.in.Name {
				t.Fatalf("package context name %q", got)
			}
			region := c.in.Region
			if region == "" {
				region = c.in.Site
			}
			if got := field(t, f, "nfconfig.yaml", "spec", "configRefs", "[kind=NFProfile]", "spec", "region"); got != region {
				t.Fatalf("region %q, want %q", got, region)
			}
			ha := c.in.HA || c.in.Environment == intent.Prod
			if got := field(t, f, "nfconfig.yaml", "spec", "configRefs", "[kind=NFProfile]", "spec", "highAvailability"); got != map[bool]string{true: "true", false: "false"}[ha] {
				t.Fatalf("highAvailability %s", got)
			}
			switch c.in.NetworkFunction {
			case intent.AMF:
				if got := field(t, f, "capacity.yaml", "spec", "maxSubscribers"); got != "50000" {
					t.Fatalf("maxSubscribers %s", got)
				}
				if got := field(t, f, "nfconfig.yaml", "spec", "configRefs", "[kind=PLMN]", "spec", "PLMNInfo", "[tac=1]", "plmnID", "mnc"); got != "260" {
					t.Fatalf("mnc %s", got)
				}
			case intent.SMF:
				if got := field(t, f, "nfconfig.yaml", "spec", "configRefs", "[kind=NFProfile]", "spec", "dnn"); got != "ims" {
					t.Fatalf("dnn %s", got)
				}
				if got := field(t, f, "nfconfig.yaml", "spec", "configRefs", "[kind=PLMN]", "spec", "PLMNInfo", "[tac=1]", "nssai", "[sst=2]", "sst"); got != "2" {
					t.Fatalf("slice %s", got)
				}
			case intent.UPF:
				if got := field(t, f, "capacity.yaml", "spec", "maxUplinkThroughput"); got != "10G" {
					t.Fatalf("uplink %s", got)
				}
			}
		})
	}
}

func TestFromIntentTypedFailures(t *testing.T) {
	ctx := context.Background()
	m := libraryMapper(t)

	_, err := m.FromIntent(ctx, intent.Intent{Name: "du-1", NetworkFunction: intent.DU, Environment: intent.Dev, Site: "cell-1"})
	var nm *intent.NoMatchError
	if !errors.As(err, &nm) || len(nm.Rejections) != 8 {
		t.Fatalf("no rule for a DU: %v", err)
	}
	_, err = m.FromIntent(ctx, intent.Intent{Name: "Bad", NetworkFunction: intent.AMF})
	if !errors.Is(err, intent.ErrInvalidIntent) {
		t.Fatalf("invalid intent: %v", err)
	}

	// The policy layer sees the values: 500000 subscribers on one AMF replica.
	_, err = m.FromIntent(ctx, intent.Intent{Name: "amf-big", NetworkFunction: intent.AMF, Environment: intent.Dev, Region: "eu-west",
		Scale: intent.Scale{Replicas: 1, MaxSubscribers: 500000}}, cluster(t, "edge01"))
	var ge *intent.GenerateError
	var vs blueprint.Violations
	if !errors.As(err, &ge) || ge.Rule != "amf" || !errors.As(err, &vs) || !errors.Is(err, blueprint.ErrValidation) || vs[0].Rule != "amf-subscribers-per-replica" {
		t.Fatalf("policy violation: %v", err)
	}
	// Without the cluster injected, the required injection point is unfilled.
	_, err = m.FromIntent(ctx, intent.Intent{Name: "amf-1", NetworkFunction: intent.AMF, Environment: intent.Dev, Region: "eu-west"})
	if !errors.As(err, &vs) || vs[0].Rule != "required-injection-filled" {
		t.Fatalf("unfilled injection: %v", err)
	}

	cat, err := library.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	for name, c := range map[string]struct {
		rule intent.Rule
		want error
	}{
		"unknown blueprint": {intent.Rule{Name: "r", Blueprint: intent.BlueprintRef{Name: "mme"}}, blueprint.ErrUnknownBlueprint},
		"no version":        {intent.Rule{Name: "r", Blueprint: intent.BlueprintRef{Name: "amf", Version: "^3.0.0"}}, blueprint.ErrNoMatchingVersion},
		"values out of range": {intent.Rule{Name: "r", Blueprint: intent.BlueprintRef{Name: "amf"},
			ValueExprs: map[string]string{"replicas": "intent.scale.replicas * 50"}}, blueprint.ErrInvalidValues},
		"unknown value key": {intent.Rule{Name: "r", Blueprint: intent.BlueprintRef{Name: "amf"},
			Values: map[string]any{"replica": 2}}, blueprint.ErrInvalidValues},
		"unknown environment": {intent.Rule{Name: "r", Blueprint: intent.BlueprintRef{Name: "amf"}, Environment: "qa"}, blueprint.ErrUnknownEnvironment},
	} {
		t.Run(name, func(t *testing.T) {
			rules, err := intent.NewRules(c.rule)
			if err != nil {
				t.Fatal(err)
			}
			m := &intent.Mapper{Rules: rules, Generator: blueprint.NewEngine(cat)}
			_, err = m.FromIntent(ctx, intent.Intent{Name: "x", NetworkFunction: intent.AMF, Environment: intent.Dev, Region: "r1",
				Scale: intent.Scale{Replicas: 2}}, cluster(t, "edge01"))
			if !errors.As(err, &ge) || ge.Rule != "r" || !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := (&intent.Mapper{}).FromIntent(ctx, intent.Intent{}); !errors.Is(err, intent.ErrInvalidRules) {
		t.Fatalf("empty mapper: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.FromIntent(cctx, intent.Intent{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
