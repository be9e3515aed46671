package intent

import (
	"errors"
	"reflect"
	"testing"
)

func TestValidIntentsPass(t *testing.T) {
	for _, nf := range NetworkFunctions() {
		for _, env := range Environments() {
			if err := validIntent(nf, env).Validate(); err != nil {
				t.Fatalf("%s %s: %v", nf, env, err)
			}
		}
	}
	in := Intent{Name: "n", NetworkFunction: UPF, Environment: Prod, Site: "edge-1", HA: true,
		Scale: Scale{Replicas: 3, MaxUplinkThroughput: "5G", MaxDownlinkThroughput: "500M"}, DNN: "internet.mnc01"}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidIntentListsEveryField(t *testing.T) {
	in := Intent{
		Name: "Bad_Name", NetworkFunction: "MME", Environment: "qa", HA: true,
		Scale:  Scale{Replicas: 1, MaxSessions: -1, MaxUplinkThroughput: "fast"},
		PLMN:   PLMN{MCC: "1", MNC: "abcd"},
		Slices: []Slice{{SST: 300, SD: "xyz"}, {SST: 1}, {SST: 1}},
		DNN:    "Internet!",
	}
	err := in.Validate()
	var ie *InvalidIntentError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidIntent) {
		t.Fatalf("err = %v", err)
	}
	var fields []string
	for _, f := range ie.Fields {
		fields = append(fields, f.Field)
	}
	want := []string{"name", "networkFunction", "environment", "region", "scale.replicas", "scale.maxSessions",
		"scale.maxUplinkThroughput", "plmn.mcc", "plmn.mnc", "slices[0].sst", "slices[0].sd", "slices[2]", "dnn"}
	if !reflect.DeepEqual(fields, want) {
		t.Fatalf("fields %q\nwant   %q", fields, want)
	}
	if ie.Fields[1].Value != NetworkFunction("MME") || ie.Fields[7].Value != "1" {
		t.Fatalf("values not kept: %+v", ie.Fields)
	}
	// Decide refuses an invalid intent before any rule runs.
	if _, err := LibraryRules().Decide(in); !errors.Is(err, ErrInvalidIntent) {
		t.Fatalf("Decide err = %v", err)
	}
}

func TestRequiredFieldsOfEmptyIntent(t *testing.T) {
	var ie *InvalidIntentError
	if !errors.As(Intent{}.Validate(), &ie) || len(ie.Fields) != 4 {
		t.Fatalf("fields %+v", ie)
	}
	in := validIntent(AMF, Dev)
	in.Scale.Replicas = MaxReplicas + 1
	if !errors.As(in.Validate(), &ie) || ie.Fields[0].Field != "scale.replicas" {
		t.Fatalf("fields %+v", ie)
	}
}
