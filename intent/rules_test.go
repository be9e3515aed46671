package intent

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func validIntent(nf NetworkFunction, env Environment) Intent {
	return Intent{Name: "core-1", NetworkFunction: nf, Environment: env, Region: "eu-west",
		PLMN: PLMN{MCC: "001", MNC: "01"}, Slices: []Slice{{SST: 1, SD: "ffffff"}, {SST: 2}}}
}

func TestLibraryRulesChooseByFunctionAndEnvironment(t *testing.T) {
	rs := LibraryRules()
	cases := []struct {
		nf        NetworkFunction
		env       Environment
		rule, bp  string
		replicas  any
		ha        bool
		matchSize int
	}{
		{AMF, Dev, "amf", "amf", nil, false, 1},
		{AMF, Prod, "amf-prod", "amf", nil, true, 2},
		{SMF, Staging, "smf", "smf", nil, false, 1},
		{SMF, Prod, "smf-prod", "smf", nil, true, 2},
		{UPF, Dev, "upf", "upf", nil, false, 1},
		{UPF, Prod, "upf-prod", "upf", nil, true, 2},
		{NRF, Dev, "nrf", "nrf", nil, false, 1},
		{NRF, Prod, "nrf-prod", "nrf", nil, true, 2},
	}
	for _, c := range cases {
		t.Run(string(c.nf)+"-"+string(c.env), func(t *testing.T) {
			d, err := rs.Decide(validIntent(c.nf, c.env))
			if err != nil {
				t.Fatal(err)
			}
			if d.Rule.Name != c.rule || d.Blueprint.Name != c.bp || d.Blueprint.Version != "^1.0.0" {
				t.Fatalf("rule %s blueprint %+v, want %s %s", d.Rule.Name, d.Blueprint, c.rule, c.bp)
			}
			if len(d.Matched) != c.matchSize || d.Matched[0] != c.rule {
				t.Fatalf("matched %v", d.Matched)
			}
			if got := d.Values["replicas"]; got != c.replicas {
				t.Fatalf("replicas = %#v, want %#v", got, c.replicas)
			}
			if d.Values["ha_enabled"] != c.ha {
				t.Fatalf("ha_enabled = %#v", d.Values["ha_enabled"])
			}
			if d.Environment != string(c.env) || d.Values["region"] != "eu-west" {
				t.Fatalf("environment %q region %#v", d.Environment, d.Values["region"])
			}
			wantPLMN := map[string]any{"mcc": "001", "mnc": "01"}
			if !reflect.DeepEqual(d.Values["plmn"], wantPLMN) {
				t.Fatalf("plmn = %#v", d.Values["plmn"])
			}
			if c.nf != NRF {
				want := []any{map[string]any{"sst": int64(1), "sd": "ffffff"}, map[string]any{"sst": int64(2)}}
				if !reflect.DeepEqual(d.Values["slices"], want) {
					t.Fatalf("slices = %#v", d.Values["slices"])
				}
			}
		})
	}
}

func TestLibraryRulesScaleFigures(t *testing.T) {
	in := validIntent(UPF, Prod)
	in.Scale = Scale{Replicas: 4, MaxUplinkThroughput: "10G", MaxDownlinkThroughput: "20G"}
	in.Region, in.Site, in.DNN = "", "edge-7", "ims"
	d, err := LibraryRules().Decide(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"maxUplinkThroughput": "10G", "maxDownlinkThroughput": "20G"}
	if !reflect.DeepEqual(d.Values["capacity"], want) || d.Values["replicas"] != int64(4) ||
		d.Values["region"] != "edge-7" || d.Values["dnn"] != "ims" {
		t.Fatalf("values %#v", d.Values)
	}
	in = validIntent(SMF, Prod)
	in.Scale.Replicas = 1
	if d, err = LibraryRules().Decide(in); err != nil || d.Values["replicas"] != int64(2) {
		t.Fatalf("a prod SMF asked with 1 replica: values %#v err %v", d.Values, err)
	}
	in = validIntent(AMF, Dev)
	in.Scale = Scale{MaxSubscribers: 50000}
	d, err = LibraryRules().Decide(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Values["capacity"], map[string]any{"maxSubscribers": int64(50000)}) {
		t.Fatalf("capacity %#v", d.Values["capacity"])
	}
	if _, set := d.Values["dnn"]; set {
		t.Fatalf("the AMF rule set dnn: %#v", d.Values)
	}
}

func TestNoRuleMatchesSaysWhyForEachRule(t *testing.T) {
	_, err := LibraryRules().Decide(validIntent(CUCP, Dev))
	var nm *NoMatchError
	if !errors.As(err, &nm) || !errors.Is(err, ErrNoRuleMatched) {
		t.Fatalf("err = %v", err)
	}
	if len(nm.Rejections) != len(LibraryRules().Rules()) {
		t.Fatalf("%d rejections for %d rules", len(nm.Rejections), len(LibraryRules().Rules()))
	}
	for _, r := range nm.Rejections {
		if len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0], "when[0] intent.networkFunction ==") || !strings.HasSuffix(r.Reasons[0], "is false") {
			t.Fatalf("rejection %+v", r)
		}
	}
	// A rule with two false conditions lists both.
	rs, err := NewRules(Rule{Name: "two", When: []string{`intent.ha`, `intent.environment == "prod"`}, Blueprint: BlueprintRef{Name: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rs.Decide(validIntent(AMF, Dev))
	if !errors.As(err, &nm) || len(nm.Rejections) != 1 || len(nm.Rejections[0].Reasons) != 2 {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), `rule "two"`) {
		t.Fatalf("message %q does not name the rule", err)
	}
}

func TestConditionEvaluationErrorIsAReason(t *testing.T) {
	rs, err := NewRules(Rule{Name: "bad-key", When: []string{`intent.scale.nosuch > 1`}, Blueprint: BlueprintRef{Name: "x"}},
		Rule{Name: "ok", Blueprint: BlueprintRef{Name: "y"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := rs.Decide(validIntent(AMF, Dev))
	if err != nil {
		t.Fatal(err)
	}
	if d.Rule.Name != "ok" || len(d.Rejected) != 1 || !strings.Contains(d.Rejected[0].Reasons[0], "failed") {
		t.Fatalf("decision %+v", d)
	}
}

func TestPriorityDecidesAndTiesAreAmbiguous(t *testing.T) {
	rs, err := NewRules(
		Rule{Name: "low", When: []string{`intent.networkFunction == "AMF"`}, Blueprint: BlueprintRef{Name: "a"}},
		Rule{Name: "high", Priority: 5, When: []string{`intent.networkFunction == "AMF"`}, Blueprint: BlueprintRef{Name: "b"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	d, err := rs.Decide(validIntent(AMF, Dev))
	if err != nil || d.Rule.Name != "high" || !reflect.DeepEqual(d.Matched, []string{"high", "low"}) {
		t.Fatalf("d=%+v err=%v", d, err)
	}
	rs, err = NewRules(
		Rule{Name: "first", Priority: 3, Blueprint: BlueprintRef{Name: "a"}},
		Rule{Name: "lower", Priority: 1, Blueprint: BlueprintRef{Name: "a"}},
		Rule{Name: "second", Priority: 3, Blueprint: BlueprintRef{Name: "b"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rs.Decide(validIntent(AMF, Dev))
	var amb *AmbiguousError
	if !errors.As(err, &amb) || !errors.Is(err, ErrAmbiguousRules) || amb.Priority != 3 || !reflect.DeepEqual(amb.Rules, []string{"first", "second"}) {
		t.Fatalf("err = %v", err)
	}
}

func TestInvalidRulesListEveryProblem(t *testing.T) {
	_, err := NewRules(
		Rule{Name: "a", When: []string{`intent.ha &&`, `1 + 1`}, Blueprint: BlueprintRef{Name: "x", Version: "not-a-range"}},
		Rule{Name: "a", ValueExprs: map[string]string{"replicas": `intent.nope(`}},
		Rule{Blueprint: BlueprintRef{Name: "z"}},
	)
	var re *RulesError
	if !errors.As(err, &re) || !errors.Is(err, ErrInvalidRules) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, p := range re.Problems {
		got = append(got, p.Rule+" "+p.Field)
	}
	want := []string{"a blueprint.version", "a when[0]", "a when[1]", "a name", "a blueprint.name", "a valueExprs.replicas", "#2 name"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

func TestParseRulesRejectsUnknownFieldsAndKinds(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": "apiVersion: intent.porchkit.io/v1alpha1\nkind: Rules\nspec:\n  rules:\n  - name: a\n    blueprint: {name: x}\n    priorty: 3\n",
		"wrong kind":    "apiVersion: intent.porchkit.io/v1alpha1\nkind: Rule\nspec:\n  rules: []\n",
		"bad yaml":      "apiVersion: [\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseRules("test.yaml", []byte(doc))
			var re *RulesError
			if !errors.As(err, &re) || re.Source != "test.yaml" {
				t.Fatalf("err = %v", err)
			}
		})
	}
	rs, err := ParseRules("two.yaml", []byte("apiVersion: intent.porchkit.io/v1alpha1\nkind: Rules\nspec:\n  rules:\n  - name: a\n    blueprint: {name: x}\n---\napiVersion: intent.porchkit.io/v1alpha1\nkind: Rules\nspec:\n  rules:\n  - name: b\n    blueprint: {name: y}\n"))
	if err != nil || len(rs.Rules()) != 2 {
		t.Fatalf("rules %v err %v", rs, err)
	}
}

func TestValueExpressionFailureIsTyped(t *testing.T) {
	rs, err := NewRules(Rule{Name: "div", Blueprint: BlueprintRef{Name: "x"}, ValueExprs: map[string]string{"replicas": `10 / intent.scale.replicas`}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rs.Decide(validIntent(AMF, Dev))
	var ve *ValueError
	if !errors.As(err, &ve) || !errors.Is(err, ErrRuleEvaluation) || ve.Key != "replicas" || ve.Rule != "div" {
		t.Fatalf("err = %v", err)
	}
}

func TestLiteralValuesAreCopiedPerDecision(t *testing.T) {
	rs, err := NewRules(Rule{Name: "lit", Blueprint: BlueprintRef{Name: "x"},
		Values: map[string]any{"capacity": map[string]any{"maxSessions": 10}, "plmn.mcc": "999"}})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := rs.Decide(validIntent(AMF, Dev))
	d1.Values["capacity"].(map[string]any)["maxSessions"] = 99
	d2, err := rs.Decide(validIntent(AMF, Dev))
	if err != nil || d2.Values["capacity"].(map[string]any)["maxSessions"] != 10 || d2.Values["plmn"].(map[string]any)["mcc"] != "999" {
		t.Fatalf("values %#v err %v", d2.Values, err)
	}
}
