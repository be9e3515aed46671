package blueprinttest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/nephoran/porchkit/blueprint"
)

func TestGeneratorRecordsAndAnswers(t *testing.T) {
	canned := &blueprint.Package{Name: "amf", Files: map[string]string{"Kptfile": "k"}}
	boom := errors.New("boom")
	g := New().Returns("amf", canned).Fails("smf", boom)
	ctx := context.Background()
	vals := blueprint.Values{"replicas": 2}
	pkg, err := g.Generate(ctx, blueprint.Ref{Name: "amf", Version: "^1"}, vals, blueprint.Name("amf-edge"), blueprint.Environment("prod"))
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Name != "amf-edge" || pkg.Files["Kptfile"] != "k" || pkg.Values["replicas"] != 2 {
		t.Fatalf("pkg = %+v", pkg)
	}
	pkg.Files["Kptfile"] = "changed"
	vals["replicas"] = 9
	if canned.Files["Kptfile"] != "k" {
		t.Fatal("canned package shared")
	}
	if _, err := g.Generate(ctx, blueprint.Ref{Name: "smf"}, nil); !errors.Is(err, boom) {
		t.Fatalf("smf: %v", err)
	}
	if _, err := g.Generate(ctx, blueprint.Ref{Name: "upf"}, nil); !errors.Is(err, blueprint.ErrUnknownBlueprint) {
		t.Fatalf("upf: %v", err)
	}
	calls := g.Calls()
	if len(calls) != 3 || calls[0].Ref.Version != "^1" || calls[0].Options.Environment != "prod" || calls[0].Values["replicas"] != 2 {
		t.Fatalf("calls = %+v", calls)
	}
	g.Reset()
	if len(g.Calls()) != 0 {
		t.Fatal("Reset kept calls")
	}
}

func TestGeneratorFuncAndDefault(t *testing.T) {
	g := &Generator{Func: func(_ context.Context, ref blueprint.Ref, v blueprint.Values, o blueprint.GenerateOptions) (*blueprint.Package, error) {
		return &blueprint.Package{Name: o.Name, Blueprint: ref, Values: v}, nil
	}}
	pkg, err := g.Generate(context.Background(), blueprint.Ref{Name: "nrf"}, blueprint.Values{"a": 1}, blueprint.Name("n1"))
	if err != nil || pkg.Name != "n1" || pkg.Blueprint.Name != "nrf" {
		t.Fatalf("%+v %v", pkg, err)
	}
	d := &Generator{Default: &blueprint.Package{Files: map[string]string{}}}
	pkg, err = d.Generate(context.Background(), blueprint.Ref{Name: "any"}, nil)
	if err != nil || pkg.Blueprint.Name != "any" {
		t.Fatalf("%+v %v", pkg, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Generate(ctx, blueprint.Ref{Name: "any"}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestGeneratorConcurrent(t *testing.T) {
	g := New().Returns("amf", &blueprint.Package{Files: map[string]string{}})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = g.Generate(context.Background(), blueprint.Ref{Name: "amf"}, blueprint.Values{"i": 1})
		}()
	}
	wg.Wait()
	if len(g.Calls()) != 8 {
		t.Fatalf("calls = %d", len(g.Calls()))
	}
}
