package eventually

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWaitReturnsOnceTheConditionHolds(t *testing.T) {
	n := 0
	err := Wait(context.Background(), 5*time.Second, func() (bool, string) {
		n++
		return n == 3, "n is not 3"
	})
	if err != nil || n != 3 {
		t.Fatalf("Wait = %v after %d checks, want nil after 3", err, n)
	}
}

func TestWaitReportsWhatWasLastSeen(t *testing.T) {
	err := Wait(context.Background(), 50*time.Millisecond, func() (bool, string) { return false, "phase Running" })
	var te *TimeoutError
	if !errors.As(err, &te) || te.Seen != "phase Running" || !strings.Contains(err.Error(), "phase Running") {
		t.Fatalf("Wait = %v, want a TimeoutError that names the last description", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want it to wrap context.DeadlineExceeded", err)
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := Wait(ctx, time.Hour, func() (bool, string) { return false, "never" })
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("Wait = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}
