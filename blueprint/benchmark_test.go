package blueprint

import (
	"context"
	"testing"
)

// BenchmarkGenerateNephio measures the whole in-process flow on a Nephio
// blueprint: inference, validation, injection, conditions, and the render
// of its catalog functions (the Nephio specializers skipped).
func BenchmarkGenerateNephio(b *testing.B) {
	bp := loadNephio(b, "pkg-example-upf-bp")
	wc := workloadCluster("edge01", "edge01")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(ctx, bp, nil, Name("upf-edge01"), AsDeployment(), Inject(wc), nephioFunctions); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerateDeclared measures a declared blueprint: schema,
// layering, a template, field, setter and injection bindings, render.
func BenchmarkGenerateDeclared(b *testing.B) {
	bp := declared()
	ctx := context.Background()
	vals := Values{"region": "eu-west", "replicas": 3}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(ctx, bp, vals, Environment("prod")); err != nil {
			b.Fatal(err)
		}
	}
}
