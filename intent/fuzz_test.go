package intent

import (
	"errors"
	"testing"
)

// FuzzDecide: any intent either decides or fails with one of the typed
// errors, never a panic.
func FuzzDecide(f *testing.F) {
	f.Add("core-1", "AMF", "prod", "eu-west", "", true, 3, int64(10000), "5G", "001", "01", 1, "ffffff", "internet")
	f.Add("x", "CU-CP", "dev", "", "site-1", false, 0, int64(-1), "fast", "1", "abc", 300, "zz", "BAD!")
	f.Add("", "", "", "", "", false, -5, int64(0), "", "", "", 0, "", "")
	rs := LibraryRules()
	f.Fuzz(func(t *testing.T, name, nf, env, region, site string, ha bool, replicas int, subs int64, ul, mcc, mnc string, sst int, sd, dnn string) {
		in := Intent{Name: name, NetworkFunction: NetworkFunction(nf), Environment: Environment(env), Region: region, Site: site, HA: ha,
			Scale: Scale{Replicas: replicas, MaxSubscribers: subs, MaxUplinkThroughput: ul},
			PLMN:  PLMN{MCC: mcc, MNC: mnc}, Slices: []Slice{{SST: sst, SD: sd}}, DNN: dnn}
		d, err := rs.Decide(in)
		if err == nil {
			if d.Rule == nil || d.Blueprint.Name == "" {
				t.Fatalf("decision without a rule: %+v", d)
			}
			return
		}
		if !errors.Is(err, ErrInvalidIntent) && !errors.Is(err, ErrNoRuleMatched) && !errors.Is(err, ErrAmbiguousRules) && !errors.Is(err, ErrRuleEvaluation) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
	})
}
