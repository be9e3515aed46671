package multicluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// ErrInvalidLease: lease settings that leader election cannot work with
// (a renew deadline not shorter than the lease, a missing client, ...).
var ErrInvalidLease = errors.New("invalid lease settings")

// Default lease settings, the ones controller-runtime's manager and the
// Kubernetes control plane use: a standby takes a dead owner's rollout
// over at most about LeaseDuration + RetryPeriod after the owner's last
// renewal, and an owner that cannot renew for RenewDeadline stops first,
// LeaseDuration - RenewDeadline before anyone else may start.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// LeaseConfig configures a LeaseOwnership. Zero durations take their
// defaults; the three are then checked together, so a test that wants
// short leases sets all three (for instance 3s / 2s / 500ms).
type LeaseConfig struct {
	// Client reaches the (management) cluster the Leases live in.
	Client kubernetes.Interface
	// Namespace holds the Leases; use the ConfigMapStore's, so that a
	// rollout's record and its owner sit side by side.
	Namespace string
	// Identity names this replica in the Lease's holderIdentity; it must
	// differ between replicas, which would otherwise each take the other's
	// Lease for their own (default: the host name, a pod's name, and a
	// random suffix, unique per process).
	Identity string
	// LeaseDuration is how long a standby waits, after it last saw the
	// Lease change, before it takes the rollout over. The Lease stores it
	// in whole seconds, so it must be a whole number of seconds, at least
	// one (default DefaultLeaseDuration).
	LeaseDuration time.Duration
	// RenewDeadline is how long the owner keeps trying to renew before it
	// gives the rollout up; shorter than LeaseDuration so the owner stops
	// before a standby may start (default DefaultRenewDeadline).
	RenewDeadline time.Duration
	// RetryPeriod is the pause between tries to acquire or renew; a
	// standby notices a released or expired Lease within one period
	// (default DefaultRetryPeriod). RenewDeadline must exceed 1.2 times
	// it, the jitter leader election adds.
	RetryPeriod time.Duration
	// Logger logs acquisitions, losses and releases (zero: discarded).
	Logger logr.Logger
}

// LeaseOwnership is an Ownership over coordination.k8s.io Leases, one per
// rollout, run by client-go's leader election: only the replica holding a
// rollout's Lease delivers it, and when that replica dies or gives the
// rollout up another takes it over from the stored record.
type LeaseOwnership struct {
	cfg LeaseConfig
}

var _ Ownership = (*LeaseOwnership)(nil)

// NewLeaseOwnership checks cfg, fills in its defaults and returns the
// ownership; a bad setting is a *FieldError wrapping ErrInvalidLease.
func NewLeaseOwnership(cfg LeaseConfig) (*LeaseOwnership, error) {
	if cfg.Client == nil {
		return nil, fieldError(ErrInvalidLease, "client", "is nil")
	}
	if errs := validation.IsDNS1123Label(cfg.Namespace); len(errs) > 0 {
		return nil, fieldError(ErrInvalidLease, "namespace", "%q is not a namespace name: %s", cfg.Namespace, errs[0])
	}
	if cfg.Identity == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "porchkit"
		}
		cfg.Identity = host + "-" + utilrand.String(8)
	}
	for _, d := range []struct {
		field string
		v     *time.Duration
		def   time.Duration
	}{
		{"leaseDuration", &cfg.LeaseDuration, DefaultLeaseDuration},
		{"renewDeadline", &cfg.RenewDeadline, DefaultRenewDeadline},
		{"retryPeriod", &cfg.RetryPeriod, DefaultRetryPeriod},
	} {
		switch {
		case *d.v < 0:
			return nil, fieldError(ErrInvalidLease, d.field, "%v is negative", *d.v)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	switch {
	case cfg.LeaseDuration < time.Second || cfg.LeaseDuration%time.Second != 0:
		return nil, fieldError(ErrInvalidLease, "leaseDuration", "%v is not a whole number of seconds (at least 1s)", cfg.LeaseDuration)
	case cfg.RenewDeadline >= cfg.LeaseDuration:
		return nil, fieldError(ErrInvalidLease, "renewDeadline", "%v is not shorter than leaseDuration %v", cfg.RenewDeadline, cfg.LeaseDuration)
	case float64(cfg.RenewDeadline) <= leaderelection.JitterFactor*float64(cfg.RetryPeriod):
		return nil, fieldError(ErrInvalidLease, "retryPeriod", "%v times the jitter %.1f is not shorter than renewDeadline %v",
			cfg.RetryPeriod, leaderelection.JitterFactor, cfg.RenewDeadline)
	}
	if cfg.Logger.GetSink() == nil {
		cfg.Logger = logr.Discard()
	}
	return &LeaseOwnership{cfg: cfg}, nil
}

// Identity is the holder identity this replica writes into the Leases.
func (o *LeaseOwnership) Identity() string { return o.cfg.Identity }

// LeaseName is the name of rollout id's Lease: the ConfigMapStore's
// record name with a "-lease" suffix, or, when that is not a valid object
// name (longer than 253 characters, for instance), a name made of a hash
// of id.
func LeaseName(id ID) string {
	n := "porchkit-rollout-" + string(id) + "-lease"
	if len(validation.IsDNS1123Subdomain(n)) == 0 {
		return n
	}
	return "porchkit-rollout-" + idHash(id) + "-lease"
}

// leaseLabel is the value of the porchkit.io/rollout label: the ID when it
// is a valid label value, otherwise its hash.
func leaseLabel(id ID) string {
	if len(validation.IsValidLabelValue(string(id))) == 0 {
		return string(id)
	}
	return idHash(id)
}

func idHash(id ID) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])[:20]
}

// Acquire implements Ownership: it runs a leader election on rollout id's
// Lease and returns once this replica holds it. The owned context ends
// when RenewDeadline passes without a successful renewal (before a
// standby may take over, which needs LeaseDuration), when ctx ends, or at
// release; when it ends, stop the guarded work and call release.
//
// release stops the election and, when this replica still holds the
// Lease, gives it up at once (its holder is cleared), so a standby takes
// over within one RetryPeriod instead of waiting out LeaseDuration. When
// ctx ends, the Lease is kept (and renewed) until release, or at most
// RenewDeadline, so that the work owned guards has stopped before another
// replica may start. If ctx ends before the Lease is acquired, Acquire
// returns ctx's error.
func (o *LeaseOwnership) Acquire(ctx context.Context, id ID) (context.Context, func(), error) {
	if id == "" {
		return nil, nil, fieldError(ErrInvalidLease, "id", "is empty")
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	name := LeaseName(id)
	log := o.cfg.Logger.WithValues("lease", o.cfg.Namespace+"/"+name, "identity", o.cfg.Identity)
	// The election outlives ctx by up to RenewDeadline (see above); owned
	// ends with ctx at once.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	owned, endOwned := context.WithCancel(ctx)
	w := &watchdog{deadline: o.cfg.RenewDeadline, expire: func() {
		if owned.Err() == nil {
			log.Info("lost rollout lease: not renewed within the renew deadline")
		}
		endOwned()
	}}
	lock := &renewWatchedLock{
		Interface: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: name, Namespace: o.cfg.Namespace},
			Client:     o.cfg.Client.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: o.cfg.Identity},
			Labels:     map[string]string{rolloutLabel: leaseLabel(id)},
		},
		renewed: w.renewed,
	}
	started := make(chan struct{}, 1)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            name,
		LeaseDuration:   o.cfg.LeaseDuration,
		RenewDeadline:   o.cfg.RenewDeadline,
		RetryPeriod:     o.cfg.RetryPeriod,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { started <- struct{}{} },
			OnStoppedLeading: endOwned,
		},
	})
	if err != nil {
		endOwned()
		stopRun()
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidLease, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		elector.Run(runCtx)
	}()
	select {
	case <-started:
	case <-ctx.Done():
		// Nothing guarded has run: stop at once (a Lease acquired in the
		// meantime is given back on the way out).
		endOwned()
		stopRun()
		w.stop()
		<-done
		return nil, nil, ctx.Err()
	}
	w.start()
	log.V(1).Info("acquired rollout lease")
	released := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			t := time.NewTimer(o.cfg.RenewDeadline)
			defer t.Stop()
			select {
			case <-t.C:
			case <-released:
			}
		case <-released:
		case <-done:
		}
		stopRun()
	}()
	release := sync.OnceFunc(func() {
		endOwned()
		w.stop()
		close(released)
		stopRun()
		<-done
		log.V(1).Info("released rollout lease")
	})
	return owned, release, nil
}

// renewWatchedLock reports every successful write of this replica's
// holder record, so the watchdog knows when the Lease was last renewed.
type renewWatchedLock struct {
	resourcelock.Interface
	renewed func(at time.Time)
}

func (l *renewWatchedLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	err := l.Interface.Create(ctx, r)
	if err == nil && r.HolderIdentity == l.Identity() {
		l.renewed(r.RenewTime.Time)
	}
	return err
}

func (l *renewWatchedLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	err := l.Interface.Update(ctx, r)
	if err == nil && r.HolderIdentity == l.Identity() {
		l.renewed(r.RenewTime.Time)
	}
	return err
}

// watchdog ends ownership RenewDeadline after the last renewal: client-go
// only gives up once its renew loop has timed out and its release attempt
// has returned, which can be later than a standby's take-over.
type watchdog struct {
	deadline time.Duration
	expire   func()

	mu      sync.Mutex
	last    time.Time
	timer   *time.Timer
	stopped bool
}

func (w *watchdog) renewed(at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = at
	if w.timer != nil && !w.stopped {
		w.timer.Reset(time.Until(at.Add(w.deadline)))
	}
}

func (w *watchdog) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped && w.timer == nil {
		w.timer = time.AfterFunc(time.Until(w.last.Add(w.deadline)), w.expire)
	}
}

func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
}
