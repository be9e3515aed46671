package depstest

import (
	"context"
	"errors"
	"testing"

	"github.com/nephoran/porchkit/deps"
)

func TestScriptThenFallback(t *testing.T) {
	u, err := deps.NewUniverse(deps.NewRelease("nrf", "1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	want := &deps.Plan{}
	boom := errors.New("boom")
	r := NewResolver(Answer{Plan: want}, Answer{Err: boom})
	req := deps.Request{Roots: []deps.Dependency{deps.MustParseDependency("nrf")}}
	if p, err := r.Resolve(context.Background(), u, req); p != want || err != nil {
		t.Fatalf("first answer = %v, %v", p, err)
	}
	if _, err := r.Resolve(context.Background(), u, req); !errors.Is(err, boom) {
		t.Fatalf("second answer err = %v", err)
	}
	if _, err := r.Resolve(context.Background(), u, req); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("script used up: err = %v", err)
	}
	r.Fallback = deps.NewSATResolver(deps.ResolverConfig{})
	p, err := r.Resolve(context.Background(), u, req)
	if err != nil || p.Releases["nrf"] == nil {
		t.Fatalf("fallback = %v, %v", p, err)
	}
	if n := len(r.Requests()); n != 4 {
		t.Errorf("recorded %d requests, want 4", n)
	}
}
