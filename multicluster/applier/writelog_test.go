package applier_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/multicluster"
)

// Short lease settings for the real tests and the take-over benchmark: a
// standby may take a dead owner's rollout over 3 s after the owner's last
// renewal; the owner stops 2 s after it, before that.
const (
	realLeaseDuration = 3 * time.Second
	realRenewDeadline = 2 * time.Second
	realRetryPeriod   = 500 * time.Millisecond
)

// errCutOff is what a replica's requests fail with once it is cut off.
var errCutOff = errors.New("replica cut off from the management cluster")

// cutOffTransport fails every request once cut is set, as if the replica
// had crashed or lost the network: it can neither renew nor release its
// Leases, nor save its records.
type cutOffTransport struct {
	next http.RoundTripper
	cut  *atomic.Bool
}

func (c cutOffTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.cut.Load() {
		return nil, errCutOff
	}
	return c.next.RoundTrip(r)
}

// cuttableClient is a client of cfg's cluster whose requests fail once the
// returned flag is set.
func cuttableClient(t testing.TB, cfg *rest.Config) (kubernetes.Interface, *atomic.Bool) {
	t.Helper()
	cut := &atomic.Bool{}
	c := rest.CopyConfig(cfg)
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return cutOffTransport{next: rt, cut: cut} })
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return cs, cut
}

func createNamespace(t testing.TB, cs kubernetes.Interface, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func leaseOwnership(t testing.TB, cs kubernetes.Interface, namespace, identity string) *multicluster.LeaseOwnership {
	t.Helper()
	o, err := multicluster.NewLeaseOwnership(multicluster.LeaseConfig{Client: cs, Namespace: namespace, Identity: identity,
		LeaseDuration: realLeaseDuration, RenewDeadline: realRenewDeadline, RetryPeriod: realRetryPeriod})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// write is one change a replica made to a cluster: a delivery or a
// removal, from its start to its return.
type write struct {
	replica, cluster, op, revision string
	start, end                     time.Time
}

// writeLog records every change the replicas' backends make.
type writeLog struct {
	mu     sync.Mutex
	writes []write
}

func (l *writeLog) add(w write) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, w)
}

func (l *writeLog) all() []write {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]write(nil), l.writes...)
}

// count returns the deliveries of pkg (any revision when revPrefix is
// empty).
func (l *writeLog) count(op, pkg, revPrefix string) int {
	n := 0
	for _, w := range l.all() {
		if w.op == op && strings.HasPrefix(w.revision, pkg+"/"+revPrefix) {
			n++
		}
	}
	return n
}

// overlaps lists the pairs of writes of different replicas to the same
// cluster whose intervals intersect.
func (l *writeLog) overlaps() []string {
	by := map[string][]write{}
	for _, w := range l.all() {
		by[w.cluster] = append(by[w.cluster], w)
	}
	var out []string
	for c, ws := range by {
		sort.Slice(ws, func(i, j int) bool { return ws[i].start.Before(ws[j].start) })
		for i := range ws {
			for j := i + 1; j < len(ws) && ws[j].start.Before(ws[i].end); j++ {
				if ws[i].replica != ws[j].replica {
					out = append(out, fmt.Sprintf("%s: %s %s [%s, %s] and %s %s [%s, %s]", c,
						ws[i].replica, ws[i].op, ws[i].start.Format(time.StampMilli), ws[i].end.Format(time.StampMilli),
						ws[j].replica, ws[j].op, ws[j].start.Format(time.StampMilli), ws[j].end.Format(time.StampMilli)))
				}
			}
		}
	}
	return out
}

// loggedBackend is a replica's Backend: the shared direct applier, with
// every Deliver and Remove written to the log.
type loggedBackend struct {
	multicluster.Backend
	replica string
	log     *writeLog
}

func (b *loggedBackend) Deliver(ctx context.Context, c *multicluster.Cluster, rev *multicluster.Revision) error {
	start := time.Now()
	err := b.Backend.Deliver(ctx, c, rev)
	b.log.add(write{replica: b.replica, cluster: c.Name, op: "deliver", revision: rev.Package + "/" + rev.ID, start: start, end: time.Now()})
	return err
}

func (b *loggedBackend) Remove(ctx context.Context, c *multicluster.Cluster, pkg string) error {
	start := time.Now()
	err := b.Backend.Remove(ctx, c, pkg)
	b.log.add(write{replica: b.replica, cluster: c.Name, op: "remove", revision: pkg + "/", start: start, end: time.Now()})
	return err
}

// ownerLog records when each replica came to own a rollout.
type ownerLog struct {
	mu       sync.Mutex
	acquired map[multicluster.ID][]acquiredBy
}

type acquiredBy struct {
	replica string
	at      time.Time
}

func (l *ownerLog) owners(id multicluster.ID) []acquiredBy {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]acquiredBy(nil), l.acquired[id]...)
}

// recordedOwnership is a replica's Ownership, the Lease one, with its
// acquisitions written to the log.
type recordedOwnership struct {
	multicluster.Ownership
	replica string
	log     *ownerLog
}

func (o *recordedOwnership) Acquire(ctx context.Context, id multicluster.ID) (context.Context, func(), error) {
	owned, release, err := o.Ownership.Acquire(ctx, id)
	if err == nil {
		o.log.mu.Lock()
		if o.log.acquired == nil {
			o.log.acquired = map[multicluster.ID][]acquiredBy{}
		}
		o.log.acquired[id] = append(o.log.acquired[id], acquiredBy{o.replica, time.Now()})
		o.log.mu.Unlock()
	}
	return owned, release, err
}
