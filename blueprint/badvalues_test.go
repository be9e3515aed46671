package blueprint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm/catalog"
)

// want is one expected values-layer violation: its JSON pointer and rule.
type want struct{ path, rule string }

// badValueSet is one mistaken set of values for a blueprint.
type badValueSet struct {
	name   string
	bp     string // directory under testdata/validation
	values Values
	env    string
	want   []want
}

// goodValues are valid values for each test blueprint.
var goodValues = map[string]Values{
	"5g-amf-blueprint": {"region": "eu-west-1", "plmn": map[string]any{"mcc": "001", "mnc": "01"}, "replicas": 2},
	"5g-smf-blueprint": {"dnn": "internet"},
	"5g-upf-blueprint": {"n6": map[string]any{"gateway": "10.0.0.1"}},
}

// with returns the blueprint's good values changed by edits (a nil value
// deletes the key; dotted keys reach into objects).
func with(bp string, edits map[string]any) Values {
	v := goodValues[bp].DeepCopy()
	for k, x := range edits {
		parts := strings.Split(k, ".")
		m := map[string]any(v)
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		if x == nil {
			delete(m, parts[len(parts)-1])
		} else {
			m[parts[len(parts)-1]] = x
		}
	}
	return v
}

const amf, smf, upf = "5g-amf-blueprint", "5g-smf-blueprint", "5g-upf-blueprint"

// badValueSets are 45 mistaken value sets: 30 for the test blueprints with
// declarations, 15 for the Nephio blueprints (inferred declarations).
func badValueSets() []badValueSet {
	sets := []badValueSet{
		{"amf missing region", amf, with(amf, map[string]any{"region": nil}), "", []want{{"/region", "required"}}},
		{"amf missing plmn", amf, with(amf, map[string]any{"plmn": nil}), "", []want{{"/plmn", "required"}}},
		{"amf plmn missing mnc", amf, with(amf, map[string]any{"plmn.mnc": nil}), "", []want{{"/plmn/mnc", "required"}}},
		{"amf replicas as string", amf, with(amf, map[string]any{"replicas": "3"}), "", []want{{"/replicas", "type"}}},
		{"amf replicas zero", amf, with(amf, map[string]any{"replicas": 0}), "", []want{{"/replicas", "minimum"}}},
		{"amf replicas above maximum", amf, with(amf, map[string]any{"replicas": 11}), "", []want{{"/replicas", "maximum"}}},
		{"amf replicas fractional", amf, with(amf, map[string]any{"replicas": 2.5}), "", []want{{"/replicas", "type"}}},
		{"amf region typo", amf, with(amf, map[string]any{"region": "us-east1"}), "", []want{{"/region", "enum"}}},
		{"amf region misspelt", amf, with(amf, map[string]any{"region": "eu-centrl-1"}), "", []want{{"/region", "enum"}}},
		{"amf ha_enabled as string", amf, with(amf, map[string]any{"ha_enabled": "true"}), "", []want{{"/ha_enabled", "type"}}},
		{"amf logLevel not in enum", amf, with(amf, map[string]any{"logLevel": "warning"}), "", []want{{"/logLevel", "enum"}}},
		{"amf mcc too short", amf, with(amf, map[string]any{"plmn.mcc": "1"}), "", []want{{"/plmn/mcc", "pattern"}}},
		{"amf mcc as number", amf, with(amf, map[string]any{"plmn.mcc": 1}), "", []want{{"/plmn/mcc", "type"}}},
		{"amf plmn unknown key", amf, with(amf, map[string]any{"plmn.mnx": "01", "plmn.mnc": nil}), "", []want{{"/plmn/mnc", "required"}, {"/plmn/mnx", "additionalProperties"}}},
		{"amf unknown key replica", amf, with(amf, map[string]any{"replica": 3}), "", []want{{"/replica", "additionalProperties"}}},
		{"amf unknown key haEnabled", amf, with(amf, map[string]any{"haEnabled": true}), "", []want{{"/haEnabled", "additionalProperties"}}},
		{"amf maxSubscribers zero", amf, with(amf, map[string]any{"maxSubscribers": 0}), "", []want{{"/maxSubscribers", "exclusiveMinimum"}}},
		{"amf maxSubscribers not a multiple", amf, with(amf, map[string]any{"maxSubscribers": 12345}), "", []want{{"/maxSubscribers", "multipleOf"}}},
		{"amf sbiPort privileged", amf, with(amf, map[string]any{"sbiPort": 80}), "", []want{{"/sbiPort", "minimum"}}},
		{"amf sbiPort out of range", amf, with(amf, map[string]any{"sbiPort": 70000}), "", []want{{"/sbiPort", "maximum"}}},
		{"amf image without tag", amf, with(amf, map[string]any{"image": "amf"}), "", []want{{"/image", "pattern"}}},
		{"amf three mistakes", amf, with(amf, map[string]any{"replicas": -1, "region": "mars", "logLevel": "verbose"}), "", []want{{"/logLevel", "enum"}, {"/region", "enum"}, {"/replicas", "minimum"}}},
		{"amf unknown environment", amf, goodValues[amf], "prd", []want{{"environment", "environment"}}},
		{"amf plmn as string", amf, with(amf, map[string]any{"plmn": "00101"}), "", []want{{"/plmn", "type"}}},
		{"smf sst zero", smf, with(smf, map[string]any{"slice.sst": 0}), "", []want{{"/slice/sst", "minimum"}}},
		{"smf sliceType lower case", smf, with(smf, map[string]any{"slice.sliceType": "embb"}), "", []want{{"/slice/sliceType", "enum"}}},
		{"smf maxSessions as word", smf, with(smf, map[string]any{"maxSessions": "many"}), "", []want{{"/maxSessions", "type"}}},
		{"smf empty dnn", smf, with(smf, map[string]any{"dnn": ""}), "", []want{{"/dnn", "minLength"}, {"/dnn", "pattern"}}},
		{"smf missing dnn", smf, with(smf, map[string]any{"dnn": nil}), "", []want{{"/dnn", "required"}}},
		{"smf unknown slice key", smf, with(smf, map[string]any{"slice.slice_type": "eMBB"}), "", []want{{"/slice/slice_type", "additionalProperties"}}},
		{"upf n3 cni typo", upf, with(upf, map[string]any{"n3.cniType": "macvtap"}), "", []want{{"/n3/cniType", "enum"}}},
		{"upf vlan out of range", upf, with(upf, map[string]any{"n3.vlanId": 5000}), "", []want{{"/n3/vlanId", "maximum"}}},
		{"upf mtu fractional", upf, with(upf, map[string]any{"n3.mtu": 1500.5}), "", []want{{"/n3/mtu", "type"}}},
		{"upf gateway malformed", upf, with(upf, map[string]any{"n6.gateway": "10.0.0"}), "", []want{{"/n6/gateway", "pattern"}}},
		{"upf missing gateway", upf, with(upf, map[string]any{"n6.gateway": nil}), "", []want{{"/n6/gateway", "required"}}},
		{"upf throughput zero", upf, with(upf, map[string]any{"throughputGbps": 0}), "", []want{{"/throughputGbps", "exclusiveMinimum"}}},
	}
	for _, bp := range nephioBlueprints {
		dir := "../nephio/" + bp
		sets = append(sets,
			badValueSet{bp + " clusterName as number", dir, Values{"WorkloadCluster": map[string]any{"workload-cluster": map[string]any{"clusterName": 42}}}, "",
				[]want{{"/WorkloadCluster/workload-cluster/clusterName", "type"}}},
			badValueSet{bp + " misspelt injection point", dir, Values{"WorkloadCluster": map[string]any{"workload-clustr": map[string]any{"clusterName": "edge"}}}, "",
				[]want{{"/WorkloadCluster/workload-clustr", "additionalProperties"}}},
			badValueSet{bp + " injection point as string", dir, Values{"WorkloadCluster": map[string]any{"workload-cluster": "edge"}}, "",
				[]want{{"/WorkloadCluster/workload-cluster", "type"}}},
		)
	}
	return sets
}

func loadBlueprint(t testing.TB, dir string) *Blueprint {
	t.Helper()
	name := dir[strings.LastIndex(dir, "/")+1:]
	return &Blueprint{Name: name, Version: "v1.0.0", Files: readPackage(t, dir)}
}

// fixExpected lists the rules for which a fix can always be computed.
var fixExpected = map[string]bool{"enum": true, "minimum": true, "maximum": true, "exclusiveMinimum": true, "required": true,
	"type": true, "additionalProperties": true, "multipleOf": true, "environment": true, "pattern": true}

// jsonValues normalises values as they are validated (ints become int64).
func jsonValues(t *testing.T, v Values) map[string]any {
	t.Helper()
	m, err := normalizeValues(v)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidateGoodValues(t *testing.T) {
	for bp, vals := range goodValues {
		rep, err := Validate(context.Background(), loadBlueprint(t, bp), vals)
		if err != nil {
			t.Fatalf("%s: %v", bp, err)
		}
		if !rep.Layer(ValuesLayer).Ran {
			t.Errorf("%s: values layer did not run", bp)
		}
	}
	// With the template executed and the values bound: the AMF's
	// ConfigMap comes from its template and the Deployment has the replicas.
	rep, err := Validate(context.Background(), loadBlueprint(t, amf), goodValues[amf], AsGenerated(Environment("prod")))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Layer(TemplateLayer).Ran {
		t.Error("template layer did not run")
	}
}

// TestValidateBadValueSets is the bar: 45 mistaken value sets, every
// violation listed in one pass, 100% with a path, the offending value (or
// its absence, checked against the input) and the rule with where it is
// declared; a fix for every rule that has one.
func TestValidateBadValueSets(t *testing.T) {
	sets := badValueSets()
	if len(sets) < 40 {
		t.Fatalf("only %d bad value sets", len(sets))
	}
	total, withFix := 0, 0
	for _, s := range sets {
		t.Run(s.name, func(t *testing.T) {
			var opts []ValidateOption
			if s.env != "" {
				opts = append(opts, AsGenerated(Environment(s.env)))
			}
			rep, err := Validate(context.Background(), loadBlueprint(t, s.bp), s.values, opts...)
			vs := mustViolations(t, err)
			if !errors.Is(err, ErrInvalidValues) {
				t.Error("does not wrap ErrInvalidValues")
			}
			got := rep.Layer(ValuesLayer).Violations
			var gotW []want
			for _, v := range got {
				gotW = append(gotW, want{v.Path, v.Rule})
			}
			if !reflect.DeepEqual(gotW, s.want) {
				t.Fatalf("values violations %v, want %v\n%v", gotW, s.want, err)
			}
			input := jsonValues(t, s.values)
			for _, v := range vs {
				total++
				if v.Path == "" || v.Rule == "" || v.DeclaredAt == "" || v.Message == "" {
					t.Errorf("violation without path, rule or source: %+v", v)
				}
				if v.Layer != ValuesLayer {
					continue
				}
				if v.Rule == "environment" {
					if v.Value != s.env {
						t.Errorf("environment value %v", v.Value)
					}
				} else {
					at, present := lookupPointer(input, pointerTokens(v.Path))
					if present != v.HasValue || (present && !reflect.DeepEqual(at, v.Value)) {
						t.Errorf("%s: value %#v (has %v), input has %#v (present %v)", v.Path, v.Value, v.HasValue, at, present)
					}
				}
				if !strings.Contains(v.DeclaredAt, "#") {
					t.Errorf("%s: rule source %q has no location", v.Path, v.DeclaredAt)
				}
				if v.Fix != nil {
					withFix++
				} else if fixExpected[v.Rule] {
					t.Errorf("%s: no fix for rule %s", v.Path, v.Rule)
				}
				r := v.Result()
				if r.Field == nil || r.Field.Path != v.Path || r.Tags["rule"] != v.Rule || (v.HasValue && r.Field.CurrentValue == nil && v.Value != nil) {
					t.Errorf("%s: kpt result %+v", v.Path, r)
				}
			}
		})
	}
	t.Logf("%d bad value sets, %d violations, 100%% with path, value and rule; %d (%.0f%%) with a fix", len(sets), total, withFix, 100*float64(withFix)/float64(total))
}

// The fixes the values layer computes, by rule.
func TestValidateValueFixes(t *testing.T) {
	cases := []struct {
		values  Values
		path    string
		fix     any
		remove  bool
		inWords string
	}{
		{with(amf, map[string]any{"region": "us-east1"}), "/region", "us-east-1", false, "closest allowed value"},
		{with(amf, map[string]any{"logLevel": "warning"}), "/logLevel", "warn", false, "closest"},
		{with(amf, map[string]any{"replicas": 0}), "/replicas", int64(1), false, "minimum"},
		{with(amf, map[string]any{"replicas": 11}), "/replicas", int64(10), false, "maximum"},
		{with(amf, map[string]any{"replicas": "3"}), "/replicas", int64(3), false, "without quotes"},
		{with(amf, map[string]any{"ha_enabled": "true"}), "/ha_enabled", true, false, "without quotes"},
		{with(amf, map[string]any{"plmn.mcc": 1}), "/plmn/mcc", "1", false, "quote"},
		{with(amf, map[string]any{"plmn.mnc": nil}), "/plmn/mnc", "01", false, "example"},
		{with(amf, map[string]any{"region": nil}), "/region", "us-east-1", false, "one of"},
		{with(amf, map[string]any{"replica": 3}), "/replica", nil, true, `"replicas"`},
		{with(amf, map[string]any{"maxSubscribers": 12345}), "/maxSubscribers", int64(12000), false, "multiple"},
		{with(amf, map[string]any{"maxSubscribers": 0}), "/maxSubscribers", int64(1), false, "nearest allowed integer"},
	}
	for _, c := range cases {
		_, err := Validate(context.Background(), loadBlueprint(t, amf), c.values)
		vs := mustViolations(t, err).Layer(ValuesLayer)
		if len(vs) != 1 || vs[0].Path != c.path || vs[0].Fix == nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		f := vs[0].Fix
		if !reflect.DeepEqual(f.Value, c.fix) || f.Remove != c.remove || !strings.Contains(f.Description, c.inWords) {
			t.Errorf("%s: fix %+v, want value %#v remove %v mentioning %q", c.path, f, c.fix, c.remove, c.inWords)
		}
		if c.fix != nil && !reflect.DeepEqual(vs[0].Result().Field.ProposedValue, c.fix) {
			t.Errorf("%s: proposedValue %v", c.path, vs[0].Result().Field.ProposedValue)
		}
	}
	// An unknown environment proposes the closest declared one.
	_, err := Validate(context.Background(), loadBlueprint(t, amf), goodValues[amf], AsGenerated(Environment("prd")))
	if vs := mustViolations(t, err); vs[0].Fix == nil || vs[0].Fix.Value != "prod" || !errors.Is(err, ErrInvalidValues) {
		t.Errorf("environment fix: %v", err)
	}
}

// helmPrefix is what Helm's pkg/chart/common/util/values.go (ToRenderValues)
// puts before the schema errors, and helmTrim what its
// JSONSchemaValidationError.Error strips from santhosh-tekuri/jsonschema's
// message.
const (
	helmPrefix = "values don't meet the specifications of the schema(s) in the following chart(s):\n"
	helmTrim   = "jsonschema validation failed with 'file:///values.schema.json#'\n"
)

// helmSchemaCheck reproduces Helm's schema check (ValidateAgainstSchema and
// ValidateAgainstSingleSchema): the schema added as
// file:///values.schema.json to a santhosh-tekuri/jsonschema/v6 compiler,
// the coalesced values validated, the library's error with its first line
// trimmed and a newline added, under "<chart>:\n", the whole joined into
// one error string.
func helmSchemaCheck(t *testing.T, chart string, schema map[string]any, values map[string]any) error {
	t.Helper()
	sb, err := json.Marshal(schema)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(sb))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///values.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("file:///values.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	vb, err := json.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(vb))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		return errors.New(helmPrefix + chart + ":\n" + strings.TrimPrefix(err.Error(), helmTrim) + "\n")
	}
	return nil
}

// explains is what one report says about one violation.
type explains struct{ path, value, rule, declaredAt, fix bool }

func (e explains) count() int {
	n := 0
	for _, b := range []bool{e.path, e.value, e.rule, e.declaredAt, e.fix} {
		if b {
			n++
		}
	}
	return n
}

// covers reports whether a says everything b says.
func (a explains) covers(b explains) bool {
	return (a.path || !b.path) && (a.value || !b.value) && (a.rule || !b.rule) && (a.declaredAt || !b.declaredAt) && (a.fix || !b.fix)
}

// porchkitExplains is what a violation carries.
func porchkitExplains(v Violation) explains {
	return explains{path: v.Path != "", value: v.HasValue || v.Rule == "required", rule: v.Rule != "",
		declaredAt: v.DeclaredAt != "", fix: v.Fix != nil}
}

// textExplains is what a joined error string says about v: its pointer in
// quotes, the offending value, the rule's keyword, the keyword's location,
// the fix's value, on the line about that pointer.
func textExplains(msg string, v Violation) explains {
	var line string
	for _, l := range strings.Split(msg, "\n") {
		if strings.Contains(l, "'"+v.Path+"'") {
			line = l
			break
		}
	}
	e := explains{path: line != ""}
	if line == "" {
		return e
	}
	if v.HasValue {
		e.value = strings.Contains(line, "got "+fmt.Sprint(v.Value)) || strings.Contains(line, "'"+fmt.Sprint(v.Value)+"'")
	}
	e.rule = strings.Contains(line, v.Rule)
	if _, loc, ok := strings.Cut(v.DeclaredAt, "#"); ok {
		e.declaredAt = strings.Contains(msg, loc)
	}
	if v.Fix != nil && v.Fix.Value != nil {
		e.fix = strings.Contains(line, "want "+fmt.Sprint(v.Fix.Value))
	}
	return e
}

// TestValidateComparedWithHelm runs Helm's schema check on the same
// schema and effective values for every bad value set and shows, per
// violation, that porchkit's typed violation says everything Helm's
// joined string says, and per set strictly more.
func TestValidateComparedWithHelm(t *testing.T) {
	var helm, ours [5]int
	n, helmSilent := 0, 0
	for _, s := range badValueSets() {
		if s.env != "" {
			continue // Helm charts have no environment overlays to get wrong
		}
		bp := loadBlueprint(t, s.bp)
		params, err := FindParameters(bp.Files)
		if err != nil {
			t.Fatal(err)
		}
		if params == nil {
			if params, err = Infer(bp.Files); err != nil {
				t.Fatal(err)
			}
		}
		schema, err := params.Compile()
		if err != nil {
			t.Fatal(err)
		}
		effective, _, err := params.layer(schema, s.values, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		herr := helmSchemaCheck(t, bp.Name, params.Schema, effective)
		msg := ""
		if herr == nil {
			helmSilent++
		} else {
			msg = herr.Error()
			if !strings.HasPrefix(msg, helmPrefix+bp.Name+":\n- at '") {
				t.Fatalf("%s: Helm's message is not in Helm's format:\n%s", s.name, msg)
			}
		}
		_, err = Validate(context.Background(), bp, s.values)
		vs := mustViolations(t, err).Layer(ValuesLayer)
		strictlyMore := false
		for _, v := range vs {
			n++
			p, h := porchkitExplains(v), textExplains(msg, v)
			if !p.covers(h) {
				t.Errorf("%s: %s: Helm says %+v, porchkit %+v\n%s", s.name, v.Path, h, p, msg)
			}
			if p.count() > h.count() {
				strictlyMore = true
			}
			for i, b := range []bool{h.path, h.value, h.rule, h.declaredAt, h.fix} {
				if b {
					helm[i]++
				}
			}
			for i, b := range []bool{p.path, p.value, p.rule, p.declaredAt, p.fix} {
				if b {
					ours[i]++
				}
			}
		}
		if !strictlyMore {
			t.Errorf("%s: porchkit says no more than Helm:\n%s", s.name, msg)
		}
	}
	t.Logf("%d violations; Helm's joined string has path %d, value %d, rule %d, rule location %d, fix %d; porchkit path %d, value %d, rule %d, rule location %d, fix %d; Helm silent on %d sets",
		n, helm[0], helm[1], helm[2], helm[3], helm[4], ours[0], ours[1], ours[2], ours[3], ours[4], helmSilent)
	if helmSilent == 0 {
		t.Error("expected Helm to pass the unknown-key sets silently (its schemas are open by default)")
	}
}

// amfSetters is the AMF blueprint written the kpt way: every value a
// string setter in "# kpt-set:" comments, applied by apply-setters.
const amfSetters = `apiVersion: v1
kind: ConfigMap
metadata:
  name: amf-config
data:
  replicas: "1" # kpt-set: ${replicas}
  region: "" # kpt-set: ${region}
  ha: "false" # kpt-set: ${ha_enabled}
  image: docker.io/free5gc/amf:v3.4.3 # kpt-set: ${image}
  logLevel: info # kpt-set: ${logLevel}
  plmn: "" # kpt-set: ${plmn.mcc}-${plmn.mnc}
  maxSubscribers: "10000" # kpt-set: ${maxSubscribers}
  sbi: http://amf:8080 # kpt-set: http://amf:${sbiPort}
`

// setterData turns values into apply-setters' string data.
func setterData(prefix string, v any, out map[string]string) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			setterData(p, x, out)
		}
		return
	}
	out[prefix] = fmt.Sprint(v)
}

// TestValidateComparedWithApplySetters applies the same mistaken AMF
// values with the catalog's apply-setters (krm/catalog, the catalog
// function's behaviour): it accepts every mistake but a missing part of
// a multi-setter pattern, which it reports as "values for setters [...]
// must be provided" without a value path, value or rule; porchkit reports
// each with all three.
func TestValidateComparedWithApplySetters(t *testing.T) {
	accepted, mustProvide := 0, 0
	for _, s := range badValueSets() {
		if s.bp != amf || s.env != "" {
			continue
		}
		data := map[string]string{}
		setterData("", map[string]any(s.values), data)
		fnCfg, err := yaml.FromMap(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "setters"}, "data": toAny(data)})
		if err != nil {
			t.Fatal(err)
		}
		rl := &framework.ResourceList{Items: []*yaml.RNode{yaml.MustParse(amfSetters)}, FunctionConfig: fnCfg}
		kerr := catalog.ApplySetters(rl)
		var kptErrors []string
		if kerr != nil {
			kptErrors = append(kptErrors, kerr.Error())
		}
		for _, r := range rl.Results {
			if r.Severity == framework.Error {
				kptErrors = append(kptErrors, r.Message)
			}
		}
		_, err = Validate(context.Background(), loadBlueprint(t, amf), s.values)
		vs := mustViolations(t, err).Layer(ValuesLayer)
		switch {
		case len(kptErrors) == 0:
			accepted++
		default:
			for _, m := range kptErrors {
				if !strings.Contains(m, "values for setters [") || !strings.Contains(m, "must be provided") {
					t.Errorf("%s: apply-setters said %q", s.name, m)
				}
			}
			mustProvide++
		}
		joined := strings.Join(kptErrors, "\n")
		for _, v := range vs {
			p, k := porchkitExplains(v), textExplains(joined, v)
			if !p.covers(k) || p.count() <= k.count() {
				t.Errorf("%s: %s: apply-setters says %+v, porchkit %+v", s.name, v.Path, k, p)
			}
		}
	}
	t.Logf("apply-setters accepted %d mistaken AMF value sets silently and reported %d as 'values for setters [...] must be provided'", accepted, mustProvide)
	if mustProvide == 0 || accepted == 0 {
		t.Errorf("accepted %d, must-provide %d: both outcomes expected", accepted, mustProvide)
	}
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}
