package krm_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nephoran/porchkit/krm"
)

func TestPolicyDefaultsAndCaps(t *testing.T) {
	fn := func(needs krm.Capabilities) krm.Function {
		return krm.Function{Image: "example.com/fn:v1", Needs: needs}
	}
	for _, tc := range []struct {
		name   string
		policy krm.Policy
		needs  krm.Capabilities
		want   krm.Limits
		denied bool
	}{
		{name: "package defaults", want: krm.Limits{Memory: krm.DefaultMemory, CPU: krm.DefaultCPU, WallTime: krm.DefaultWallTime}},
		{name: "policy defaults", policy: krm.Policy{Defaults: krm.Capabilities{Memory: 64 << 20, CPU: time.Second, WallTime: 5 * time.Second}},
			want: krm.Limits{Memory: 64 << 20, CPU: time.Second, WallTime: 5 * time.Second}},
		{name: "partial policy defaults", policy: krm.Policy{Defaults: krm.Capabilities{WallTime: 5 * time.Second}},
			want: krm.Limits{Memory: krm.DefaultMemory, CPU: krm.DefaultCPU, WallTime: 5 * time.Second}},
		{name: "the function's ask wins over the policy's default", policy: krm.Policy{Defaults: krm.Capabilities{Memory: 64 << 20}},
			needs: krm.Capabilities{Memory: 128 << 20}, want: krm.Limits{Memory: 128 << 20, CPU: krm.DefaultCPU, WallTime: krm.DefaultWallTime}},
		{name: "a default over the cap is refused", policy: krm.Policy{Defaults: krm.Capabilities{WallTime: time.Minute}, MaxWallTime: time.Second}, denied: true},
		{name: "an ask over the cap is refused", policy: krm.Policy{MaxMemory: 64 << 20}, needs: krm.Capabilities{Memory: 65 << 20}, denied: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := tc.policy.Grant(fn(tc.needs))
			if tc.denied {
				var ce *krm.CapabilityError
				if !errors.Is(err, krm.ErrCapabilityDenied) || !errors.As(err, &ce) {
					t.Fatalf("granted %+v (%v), want a *CapabilityError", l, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Memory != tc.want.Memory || l.CPU != tc.want.CPU || l.WallTime != tc.want.WallTime {
				t.Fatalf("limits memory %d cpu %v wall %v, want %d %v %v", l.Memory, l.CPU, l.WallTime, tc.want.Memory, tc.want.CPU, tc.want.WallTime)
			}
		})
	}
}
