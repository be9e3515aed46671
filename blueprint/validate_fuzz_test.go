package blueprint

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzValidateValues feeds arbitrary JSON values to Validate on the AMF
// test blueprint: it never panics, and fails only with Violations.
func FuzzValidateValues(f *testing.F) {
	for _, s := range []string{`{}`, `{"region":"eu-west-1","plmn":{"mcc":"001","mnc":"01"}}`, `{"replicas":"x","plmn":[1,2]}`,
		`{"region":null,"plmn":{"mcc":1e400}}`, `{"replica":{"a":{"b":[true]}}}`, `{"sbiPort":-0.5,"maxSubscribers":1e20}`} {
		f.Add(s)
	}
	bp := loadBlueprint(f, amf)
	f.Fuzz(func(t *testing.T, raw string) {
		var vals map[string]any
		if json.Unmarshal([]byte(raw), &vals) != nil {
			return
		}
		_, err := Validate(context.Background(), &Blueprint{Name: bp.Name, Files: bp.Files}, vals, WithoutPipelineValidators())
		var vs Violations
		if err != nil && !errors.As(err, &vs) {
			t.Fatalf("values %s: untyped error %v", raw, err)
		}
		for _, v := range vs {
			if v.Path == "" || v.Rule == "" || v.DeclaredAt == "" {
				t.Fatalf("values %s: violation without path, rule or source: %+v", raw, v)
			}
		}
	})
}

// BenchmarkValidate measures the full layered validation of the AMF test
// blueprint (values, template, YAML, KRM, OpenAPI, policies and its
// kubeconform validator) and of the package layers of the Nephio AMF.
func BenchmarkValidate(b *testing.B) {
	ctx := context.Background()
	bp := loadBlueprint(b, amf)
	b.Run("5g-amf-blueprint", func(b *testing.B) {
		for b.Loop() {
			if _, err := Validate(ctx, bp, goodValues[amf]); err != nil {
				b.Fatal(err)
			}
		}
	})
	nephio := readPackage(b, "../nephio/pkg-example-amf-bp")
	b.Run("nephio-amf-package", func(b *testing.B) {
		for b.Loop() {
			if _, err := ValidatePackage(ctx, nephio); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Validate is safe for concurrent use: the shared schema validator, CEL
// environment and policy cache are used from several goroutines at once,
// and each gets the same report.
func TestValidateConcurrent(t *testing.T) {
	bp := loadBlueprint(t, amf)
	vals := with(amf, map[string]any{"replicas": 0, "region": "us-east1"})
	_, first := Validate(context.Background(), bp, vals)
	want := mustViolations(t, first).Error()
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := Validate(context.Background(), bp, vals, WithPolicies(Policy{Name: "p", Source: "s", Fields: []string{"spec.replicas"}, Rule: "true", Message: "m"}))
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err == nil || err.Error() != want {
			t.Errorf("concurrent run: %v", err)
		}
	}
}
