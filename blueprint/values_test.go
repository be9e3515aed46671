package blueprint

import (
	"errors"
	"math"
	"reflect"
	"testing"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
)

func TestLayeringOrderAndOrigins(t *testing.T) {
	p := mustParams(t)
	s, err := p.Compile()
	if err != nil {
		t.Fatal(err)
	}
	cluster := &ClusterContext{Name: "edge01", Region: "eu-central", Environment: "prod"}
	eff, origins, err := p.layer(s, Values{"region": "eu-west", "image": "free5gc/amf:v3.4.0", "capacity": Values{"maxSubscribers": 5000}}, "", cluster)
	if err != nil {
		t.Fatal(err)
	}
	want := Values{
		"replicas": int64(3),                        // prod overlay, chosen by the cluster's environment
		"ha":       map[string]any{"enabled": true}, // prod overlay over the default
		"image":    "free5gc/amf:v3.4.0",            // caller over default
		"region":   "eu-central",                    // cluster over caller
		"capacity": map[string]any{"maxSubscribers": int64(5000)},
	}
	if !reflect.DeepEqual(eff, want) {
		t.Fatalf("effective = %#v\nwant %#v", eff, want)
	}
	wantOrigins := Origins{
		"replicas":                LayerEnvironment,
		"ha.enabled":              LayerEnvironment,
		"image":                   LayerValues,
		"region":                  LayerCluster,
		"capacity.maxSubscribers": LayerValues,
	}
	if !reflect.DeepEqual(origins, wantOrigins) {
		t.Fatalf("origins = %v, want %v", origins, wantOrigins)
	}
}

func TestLayerExported(t *testing.T) {
	eff, origins, err := mustParams(t).Layer(Values{"region": "us-east"}, "prod", nil)
	if err != nil || eff["replicas"] != int64(3) || origins["region"] != LayerValues {
		t.Fatalf("%v %v %v", eff, origins, err)
	}
}

func TestLayeringExplicitEnvironmentWins(t *testing.T) {
	p := mustParams(t)
	s, _ := p.Compile()
	eff, origins, err := p.layer(s, Values{"region": "us-east"}, "dev", &ClusterContext{Environment: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if eff["replicas"] != int64(1) || origins["replicas"] != LayerEnvironment || origins["ha.enabled"] != LayerDefault {
		t.Fatalf("eff %v origins %v", eff, origins)
	}
	eff, origins, err = p.layer(s, Values{"region": "us-east", "replicas": 7}, "prod", nil)
	if err != nil {
		t.Fatal(err)
	}
	if eff["replicas"] != int64(7) || origins["replicas"] != LayerValues {
		t.Fatalf("caller should win over the overlay: %v %v", eff, origins)
	}
}

func TestLayeringUnknownEnvironment(t *testing.T) {
	p := mustParams(t)
	s, _ := p.Compile()
	_, _, err := p.layer(s, Values{"region": "us-east"}, "qa", nil)
	if !errors.Is(err, ErrUnknownEnvironment) || !errors.Is(err, ErrInvalidValues) {
		t.Fatalf("err = %v", err)
	}
}

func TestLayeringClusterMapAndLabels(t *testing.T) {
	p := mustParams(t)
	p.Cluster = map[string]string{"region": "labels.topology/region"}
	s, _ := p.Compile()
	eff, origins, err := p.layer(s, Values{"region": "us-east"}, "", &ClusterContext{Region: "ignored", Labels: map[string]string{"topology/region": "eu-west"}})
	if err != nil {
		t.Fatal(err)
	}
	if eff["region"] != "eu-west" || origins["region"] != LayerCluster {
		t.Fatalf("eff %v origins %v", eff, origins)
	}
	p.Cluster = map[string]string{"region": "altitude"}
	if _, _, err := p.layer(s, nil, "", &ClusterContext{}); !errors.Is(err, ErrInvalidParameters) {
		t.Fatalf("unknown cluster field: %v", err)
	}
}

func TestNormalizeKeepsTypes(t *testing.T) {
	got, err := normalizeValues(Values{"i": 3, "u": uint8(4), "f": 2.5, "whole": 4.0, "s": []string{"a"}, "m": map[string]int{"x": 1}, "p": new(int)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"i": int64(3), "u": int64(4), "f": 2.5, "whole": int64(4), "s": []any{"a"}, "m": map[string]any{"x": int64(1)}, "p": int64(0)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
	for name, v := range map[string]any{"nan": math.NaN(), "inf": math.Inf(1), "intkeys": map[int]string{1: "a"}, "func": func() {}} {
		if _, err := normalizeValues(Values{"x": Values{"y": v}}); !errors.Is(err, ErrInvalidValues) {
			t.Errorf("%s: err = %v", name, err)
		} else if ne := (*normalizeError)(nil); !errors.As(err, &ne) || ne.pointer != "/x/y" {
			t.Errorf("%s: location %v", name, err)
		}
	}
}

func TestValuesGetSet(t *testing.T) {
	v := Values{}
	if err := v.Set("ha.peers.count", 2); err != nil {
		t.Fatal(err)
	}
	if got, ok := v.Get("ha.peers.count"); !ok || got != 2 {
		t.Fatalf("get = %v %v", got, ok)
	}
	if err := v.Set("ha.peers.count.x", 1); !errors.Is(err, ErrInvalidValues) {
		t.Fatalf("set through a scalar: %v", err)
	}
	if _, ok := v.Get("ha.nope"); ok {
		t.Fatal("absent path found")
	}
	c := v.DeepCopy()
	_ = c.Set("ha.peers.count", 3)
	if got, _ := v.Get("ha.peers.count"); got != 2 {
		t.Fatal("DeepCopy shares state")
	}
}

func TestClusterFromMulticluster(t *testing.T) {
	cc := ClusterFromMulticluster(multicluster.Cluster{Name: "edge01", Region: "eu-west", Zone: "a", Environment: "prod",
		Capabilities: []string{"sriov"}, Labels: map[string]string{NephioSiteLabel: "paris-1"}})
	want := &ClusterContext{Name: "edge01", Region: "eu-west", Zone: "a", Site: "paris-1", Environment: "prod",
		Capabilities: []string{"sriov"}, Labels: map[string]string{NephioSiteLabel: "paris-1"}}
	if !reflect.DeepEqual(cc, want) {
		t.Fatalf("got %+v", cc)
	}
}

func TestClusterFromNephioObjects(t *testing.T) {
	// The WorkloadCluster of Nephio's nephio-workload-cluster package, with
	// region labels added.
	wc := kyaml.MustParse(`apiVersion: infra.nephio.org/v1alpha1
kind: WorkloadCluster
metadata:
  name: example
  labels:
    nephio.org/region: us-west1
    nephio.org/site: us-west1a
spec:
  clusterName: example
  cnis:
  - macvlan
  - ipvlan
  - sriov
  masterInterface: eth1
`)
	cc, err := ClusterFromObject(wc)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Name != "example" || cc.Region != "us-west1" || cc.Site != "us-west1a" || !reflect.DeepEqual(cc.Capabilities, []string{"macvlan", "ipvlan", "sriov"}) {
		t.Fatalf("got %+v", cc)
	}
	ctx := kyaml.MustParse(`apiVersion: infra.nephio.org/v1alpha1
kind: ClusterContext
metadata:
  name: edge02
spec:
  siteCode: edge02-site
  cniConfig:
    cniType: macvlan
    masterInterface: eth1
`)
	cc, err = ClusterFromObject(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Name != "edge02" || cc.Site != "edge02-site" || !reflect.DeepEqual(cc.Capabilities, []string{"macvlan"}) {
		t.Fatalf("got %+v", cc)
	}
	if _, err := ClusterFromObject(kyaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")); !errors.Is(err, ErrInvalidValues) {
		t.Fatalf("ConfigMap accepted: %v", err)
	}
}
