package eventually

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Interval is how often a condition is checked.
const Interval = 10 * time.Millisecond

// True checks cond every Interval until it reports true, and fails the test
// with cond's last description once timeout has passed. It returns when the
// condition holds.
func True(t testing.TB, timeout time.Duration, cond func() (ok bool, seen string)) {
	t.Helper()
	if err := Wait(context.Background(), timeout, cond); err != nil {
		t.Fatal(err)
	}
}

// Wait is True without a test: it returns nil once cond holds, or an error
// naming cond's last description when timeout passes or ctx ends first.
func Wait(ctx context.Context, timeout time.Duration, cond func() (ok bool, seen string)) error {
	return Poll(ctx, Interval, timeout, cond)
}

// Poll is Wait checking every interval, for conditions that cost a request
// to the server under test.
func Poll(ctx context.Context, interval, timeout time.Duration, cond func() (ok bool, seen string)) error {
	var seen string
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(context.Context) (bool, error) {
		var ok bool
		ok, seen = cond()
		return ok, nil
	})
	if err != nil {
		return &TimeoutError{After: timeout, Seen: seen, Err: err}
	}
	return nil
}

// TimeoutError says that a condition did not hold in time, and what was
// last seen of it.
type TimeoutError struct {
	// After is the timeout that passed.
	After time.Duration
	// Seen is the condition's last description.
	Seen string
	// Err is the context error that ended the wait.
	Err error
}

// Error implements error.
func (e *TimeoutError) Error() string {
	return "condition not met within " + e.After.String() + "; last seen: " + e.Seen
}

// Unwrap returns the context error.
func (e *TimeoutError) Unwrap() error { return e.Err }
