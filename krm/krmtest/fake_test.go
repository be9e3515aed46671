package krmtest_test

import (
	"context"
	"errors"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/krm/krmtest"
)

func TestFakeRecordsAndScripts(t *testing.T) {
	boom := errors.New("boom")
	fake := krmtest.NewExecutor().Fail("example.com/fails:v1", boom)
	ctx := context.Background()
	in := &framework.ResourceList{Items: []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")}}
	out, err := fake.Execute(ctx, krm.Function{Image: "example.com/passes:v1"}, in)
	if err != nil || len(out.Items) != 1 || out.Items[0] == in.Items[0] {
		t.Fatalf("pass-through: %v", err)
	}
	if _, err := fake.Execute(ctx, krm.Function{Image: "example.com/fails:v1"}, in); !errors.Is(err, boom) {
		t.Fatalf("scripted failure: %v", err)
	}
	// The fake serves krm.Render like any Executor.
	files := map[string]string{"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\npipeline:\n  mutators:\n  - image: example.com/fails:v1\n"}
	if _, _, err := krm.Render(ctx, fake, files); !errors.Is(err, boom) {
		t.Fatalf("render through the fake: %v", err)
	}
	calls := fake.Calls()
	if len(calls) != 3 || calls[2].Function.Image != "example.com/fails:v1" || len(calls[2].Items) != 1 {
		t.Fatalf("calls: %+v", calls)
	}
}
