package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestQuickstartInProcess(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"package files: [Kptfile README.md config.yaml package-context.yaml]",
		"published blueprints.team-a.hello.v1 as revision 1",
		"latest: blueprints.team-a.hello.v2 revision 2",
		"allowed=true (cel)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestQuickstartOnRealPorch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Porch")
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, true); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "latest: blueprints.team-a.hello.v2 revision 2") {
		t.Errorf("output:\n%s", out.String())
	}
}
