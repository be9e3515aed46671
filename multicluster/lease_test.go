package multicluster_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
)

// Short settings so the tests run in seconds: a standby may take over one
// second after the owner's last renewal.
const (
	testLeaseDuration = time.Second
	testRenewDeadline = 600 * time.Millisecond
	testRetryPeriod   = 100 * time.Millisecond
)

func testLease(t *testing.T, client kubernetes.Interface, identity string) *multicluster.LeaseOwnership {
	t.Helper()
	o, err := multicluster.NewLeaseOwnership(multicluster.LeaseConfig{
		Client: client, Namespace: "porchkit", Identity: identity,
		LeaseDuration: testLeaseDuration, RenewDeadline: testRenewDeadline, RetryPeriod: testRetryPeriod,
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func getLease(t *testing.T, client kubernetes.Interface, id multicluster.ID) *coordinationv1.Lease {
	t.Helper()
	l, err := client.CoordinationV1().Leases("porchkit").Get(context.Background(), multicluster.LeaseName(id), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func holder(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// acquireAsync acquires in the background and reports the outcome once.
type acquisition struct {
	owned   context.Context
	release func()
	err     error
	at      time.Time
}

func acquireAsync(ctx context.Context, o *multicluster.LeaseOwnership, id multicluster.ID) <-chan acquisition {
	ch := make(chan acquisition, 1)
	go func() {
		owned, release, err := o.Acquire(ctx, id)
		ch <- acquisition{owned, release, err, time.Now()}
	}()
	return ch
}

func receive[T any](t *testing.T, ch <-chan T, timeout time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("%s: nothing after %v", what, timeout)
		panic("unreachable")
	}
}

func TestLeaseConfigInvalid(t *testing.T) {
	client := fake.NewSimpleClientset()
	for _, tc := range []struct {
		name  string
		cfg   multicluster.LeaseConfig
		field string
	}{
		{"no client", multicluster.LeaseConfig{Namespace: "ns"}, "client"},
		{"no namespace", multicluster.LeaseConfig{Client: client}, "namespace"},
		{"bad namespace", multicluster.LeaseConfig{Client: client, Namespace: "Not_A_Name"}, "namespace"},
		{"negative duration", multicluster.LeaseConfig{Client: client, Namespace: "ns", LeaseDuration: -time.Second}, "leaseDuration"},
		{"negative retry", multicluster.LeaseConfig{Client: client, Namespace: "ns", RetryPeriod: -1}, "retryPeriod"},
		{"sub-second lease", multicluster.LeaseConfig{Client: client, Namespace: "ns",
			LeaseDuration: 500 * time.Millisecond, RenewDeadline: 300 * time.Millisecond, RetryPeriod: 100 * time.Millisecond}, "leaseDuration"},
		{"fractional lease", multicluster.LeaseConfig{Client: client, Namespace: "ns",
			LeaseDuration: 1500 * time.Millisecond, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond}, "leaseDuration"},
		{"renew deadline equal to lease", multicluster.LeaseConfig{Client: client, Namespace: "ns",
			LeaseDuration: 3 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 500 * time.Millisecond}, "renewDeadline"},
		{"only lease shortened (default renew deadline 10s)", multicluster.LeaseConfig{Client: client, Namespace: "ns",
			LeaseDuration: 3 * time.Second}, "renewDeadline"},
		{"retry period too long for the jitter", multicluster.LeaseConfig{Client: client, Namespace: "ns",
			LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 1700 * time.Millisecond}, "retryPeriod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := multicluster.NewLeaseOwnership(tc.cfg)
			if !errors.Is(err, multicluster.ErrInvalidLease) {
				t.Fatalf("got %v, %v; want ErrInvalidLease", o, err)
			}
			var fe *multicluster.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("error %v does not name field %q", err, tc.field)
			}
		})
	}
}

func TestLeaseDefaults(t *testing.T) {
	client := fake.NewSimpleClientset()
	a, err := multicluster.NewLeaseOwnership(multicluster.LeaseConfig{Client: client, Namespace: "porchkit"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := multicluster.NewLeaseOwnership(multicluster.LeaseConfig{Client: client, Namespace: "porchkit"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Identity() == "" || a.Identity() == b.Identity() {
		t.Fatalf("default identities %q and %q are not distinct", a.Identity(), b.Identity())
	}
	// An empty ID is refused before anything is written.
	if _, _, err := a.Acquire(context.Background(), ""); !errors.Is(err, multicluster.ErrInvalidLease) {
		t.Fatalf("empty id: %v", err)
	}
	if l, _ := client.CoordinationV1().Leases("porchkit").List(context.Background(), metav1.ListOptions{}); len(l.Items) != 0 {
		t.Fatalf("leases written for an empty id: %v", l.Items)
	}
}

func TestLeaseName(t *testing.T) {
	if got := multicluster.LeaseName("app-v1-12-3"); got != "porchkit-rollout-app-v1-12-3-lease" {
		t.Fatalf("LeaseName = %q", got)
	}
	long := multicluster.ID(strings.Repeat("a", 260))
	n := multicluster.LeaseName(long)
	if len(n) > 253 || !strings.HasPrefix(n, "porchkit-rollout-") || n == multicluster.LeaseName(long+"b") {
		t.Fatalf("LeaseName of a long id = %q", n)
	}
}

// TestLeaseExclusive: while one replica holds a rollout's Lease, another
// never gets it (its Acquire ends with its context), though the holder's
// renewals outlast several lease durations; and the Lease is labelled with
// the rollout.
func TestLeaseExclusive(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	client := fake.NewSimpleClientset()
	a, b := testLease(t, client, "replica-a"), testLease(t, client, "replica-b")
	const id = multicluster.ID("app-v1-abc")
	owned, release, err := a.Acquire(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*testLeaseDuration)
	defer cancel()
	if _, _, err := b.Acquire(ctx, id); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b acquired a held lease: %v", err)
	}
	if owned.Err() != nil {
		t.Fatal("a lost the lease while renewing it")
	}
	l := getLease(t, client, id)
	if holder(l) != "replica-a" || l.Labels["porchkit.io/rollout"] != string(id) {
		t.Fatalf("lease holder %q labels %v", holder(l), l.Labels)
	}
	if l.Spec.LeaseDurationSeconds == nil || *l.Spec.LeaseDurationSeconds != int32(testLeaseDuration/time.Second) {
		t.Fatalf("lease duration %v", l.Spec.LeaseDurationSeconds)
	}
	release()
	if owned.Err() == nil {
		t.Fatal("owned context alive after release")
	}
	release() // a second call does nothing
}

// TestLeaseReleaseGivesUp: release clears the holder at once, and a
// standby then takes the rollout over.
func TestLeaseReleaseGivesUp(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	client := fake.NewSimpleClientset()
	a, b := testLease(t, client, "replica-a"), testLease(t, client, "replica-b")
	const id = multicluster.ID("app-v2")
	_, releaseA, err := a.Acquire(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := acquireAsync(ctx, b, id)
	releaseA()
	if h := holder(getLease(t, client, id)); h == "replica-a" {
		t.Fatalf("lease still held by %q after release", h)
	}
	acq := receive(t, got, 30*time.Second, "b's acquisition")
	if acq.err != nil {
		t.Fatal(acq.err)
	}
	if h := holder(getLease(t, client, id)); h != "replica-b" {
		t.Fatalf("holder after take-over %q", h)
	}
	acq.release()
}

// TestLeaseTakeOverAfterHolderContextEnds: the holder's context ending
// ends its ownership, and only after that does the standby own the
// rollout.
func TestLeaseTakeOverAfterHolderContextEnds(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	client := fake.NewSimpleClientset()
	a, b := testLease(t, client, "replica-a"), testLease(t, client, "replica-b")
	const id = multicluster.ID("app-v3")
	ctxA, killA := context.WithCancel(context.Background())
	ownedA, releaseA, err := a.Acquire(ctxA, id)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()
	ctxB, cancelB := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelB()
	got := acquireAsync(ctxB, b, id)
	var endedA atomic.Int64
	stop := context.AfterFunc(ownedA, func() { endedA.Store(time.Now().UnixNano()) })
	defer stop()
	killA()
	acq := receive(t, got, 30*time.Second, "b's acquisition")
	if acq.err != nil {
		t.Fatal(acq.err)
	}
	defer acq.release()
	eventually.True(t, 10*time.Second, func() (bool, string) { return endedA.Load() != 0, "a's owned context alive" })
	if e := time.Unix(0, endedA.Load()); acq.at.Before(e) {
		t.Fatalf("b acquired at %v, before a's ownership ended at %v", acq.at, e)
	}
	if acq.owned.Err() != nil {
		t.Fatal("b's owned context ended")
	}
}

// TestLeaseLostWhenRenewalFails: a holder cut off from the API server
// (every Lease write fails, as for a crashed or partitioned replica) ends
// its ownership within the renew deadline, and the standby takes over
// only once the lease has expired, after that.
func TestLeaseLostWhenRenewalFails(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	client := fake.NewSimpleClientset()
	var cut atomic.Bool
	// a's client shares b's objects, but its Lease requests fail once cut.
	failing := &fake.Clientset{}
	failing.AddReactor("*", "*", k8stesting.ObjectReaction(client.Tracker()))
	failing.PrependReactor("*", "leases", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if cut.Load() {
			return true, nil, apierrors.NewServiceUnavailable("replica cut off")
		}
		return false, nil, nil
	})
	a, b := testLease(t, failing, "replica-a"), testLease(t, client, "replica-b")
	const id = multicluster.ID("app-v4")
	ownedA, releaseA, err := a.Acquire(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()
	ctxB, cancelB := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelB()
	got := acquireAsync(ctxB, b, id)
	cut.Store(true)
	var endedA atomic.Int64
	stop := context.AfterFunc(ownedA, func() { endedA.Store(time.Now().UnixNano()) })
	defer stop()
	acq := receive(t, got, 30*time.Second, "b's acquisition")
	if acq.err != nil {
		t.Fatal(acq.err)
	}
	defer acq.release()
	if endedA.Load() == 0 {
		t.Fatal("b owns the rollout while a's ownership has not ended")
	}
	if e := time.Unix(0, endedA.Load()); acq.at.Before(e) {
		t.Fatalf("b acquired at %v, before a's ownership ended at %v", acq.at, e)
	}
	if h := holder(getLease(t, client, id)); h != "replica-b" {
		t.Fatalf("holder %q", h)
	}
}

// TestLeaseContextEndsBeforeAcquisition: Acquire returns the context's
// error when it ends first, and leaves the holder's Lease alone.
func TestLeaseContextEndsBeforeAcquisition(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	client := fake.NewSimpleClientset()
	a, b := testLease(t, client, "replica-a"), testLease(t, client, "replica-b")
	const id = multicluster.ID("app-v5")
	_, releaseA, err := a.Acquire(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if owned, release, err := b.Acquire(ctx, id); !errors.Is(err, context.DeadlineExceeded) || owned != nil || release != nil {
		t.Fatalf("got %v, %v", owned, err)
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if _, _, err := b.Acquire(done, "other"); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled context: %v", err)
	}
	if _, err := client.CoordinationV1().Leases("porchkit").Get(context.Background(), multicluster.LeaseName("other"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a canceled Acquire wrote a lease: %v", err)
	}
	if h := holder(getLease(t, client, id)); h != "replica-a" {
		t.Fatalf("holder %q", h)
	}
}

// TestLeaseKeptUntilReleaseAfterContextEnds: when the holder's context
// ends, its ownership ends at once but its Lease stays held until release
// (the guarded work may still be stopping), and release then gives it up.
// Without release, the Lease is given up after RenewDeadline and every
// goroutine ends.
func TestLeaseKeptUntilReleaseAfterContextEnds(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	client := fake.NewSimpleClientset()
	o, err := multicluster.NewLeaseOwnership(multicluster.LeaseConfig{Client: client, Namespace: "porchkit", Identity: "replica-a",
		LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, released := range []bool{true, false} {
		id := multicluster.ID("app-kept-" + map[bool]string{true: "released", false: "abandoned"}[released])
		ctx, kill := context.WithCancel(context.Background())
		owned, release, err := o.Acquire(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		kill()
		select {
		case <-owned.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("owned context alive after its parent ended")
		}
		if h := holder(getLease(t, client, id)); h != "replica-a" {
			t.Fatalf("lease given up before release: holder %q", h)
		}
		if released {
			release()
			if h := holder(getLease(t, client, id)); h != "" {
				t.Fatalf("holder after release %q", h)
			}
			continue
		}
		eventually.True(t, 20*time.Second, func() (bool, string) {
			h := holder(getLease(t, client, id))
			return h == "", "holder " + h
		})
		release()
	}
}
