package rbac_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/rbac"
)

// stateFlow is propagator-state's flow: a ConfigMapStore saves a new
// rollout record, saves it again and loads it; a Lease is read (absent),
// taken, read and renewed, as client-go's LeaseLock does for the owner of
// a rollout.
func stateFlow(cs kubernetes.Interface, ns, id string) []step {
	store := multicluster.NewConfigMapStore(cs, ns)
	rec := &multicluster.Record{ID: multicluster.ID(id), Package: "web", Revision: "v1",
		Clusters: map[string]multicluster.ClusterRecord{"edge-1": {Message: "waiting"}}}
	lock := &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Namespace: ns, Name: "porchkit-rollout-" + id},
		Client: cs.CoordinationV1(), LockConfig: resourcelock.ResourceLockConfig{Identity: "replica-1"}}
	ler := resourcelock.LeaderElectionRecord{HolderIdentity: "replica-1", LeaseDurationSeconds: 15,
		AcquireTime: metav1.NewTime(time.Now()), RenewTime: metav1.NewTime(time.Now())}
	cm, lease := "configmaps", "leases"
	return []step{
		{"save new record", []need{{cm, "update"}, {cm, "create"}}, func(ctx context.Context) error { return store.Save(ctx, rec) }},
		{"save again", []need{{cm, "update"}}, func(ctx context.Context) error {
			rec.Phase = multicluster.PhaseRunning
			return store.Save(ctx, rec)
		}},
		{"load", []need{{cm, "get"}}, func(ctx context.Context) error {
			got, err := store.Load(ctx, rec.ID)
			if err == nil && got.Phase != rec.Phase {
				err = errors.New("loaded phase " + string(got.Phase) + ", saved " + string(rec.Phase))
			}
			return err
		}},
		{"read free lease", []need{{lease, "get"}}, func(ctx context.Context) error {
			_, _, err := lock.Get(ctx)
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err == nil {
				err = errors.New("the lease exists before it was taken")
			}
			return err
		}},
		{"take lease", []need{{lease, "create"}}, func(ctx context.Context) error { return lock.Create(ctx, ler) }},
		{"read own lease", []need{{lease, "get"}}, func(ctx context.Context) error {
			got, _, err := lock.Get(ctx)
			if err == nil && got.HolderIdentity != "replica-1" {
				err = errors.New("the lease is held by " + got.HolderIdentity)
			}
			return err
		}},
		{"renew lease", []need{{lease, "update"}}, func(ctx context.Context) error {
			ler.RenewTime = metav1.NewTime(time.Now())
			return lock.Update(ctx, ler)
		}},
	}
}

// stateObjects is what the administrator sees of a rollout's state:
// the data of its ConfigMaps and the holder of its Lease.
func (s *stack) stateObjects(ctx context.Context, t *testing.T, ns, id string) map[string]string {
	t.Helper()
	out := map[string]string{}
	cms, err := s.admin.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "porchkit.io/rollout=" + id})
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range cms.Items {
		out["configmap/"+cm.Name] = strings.Join([]string{cm.Data["record"], cm.Data["clusters"]}, "|")
	}
	l, err := s.admin.CoordinationV1().Leases(ns).Get(ctx, "porchkit-rollout-"+id, metav1.GetOptions{})
	switch {
	case err == nil:
		out["lease"] = *l.Spec.HolderIdentity + " " + l.Spec.RenewTime.String()
	case !apierrors.IsNotFound(err):
		t.Fatal(err)
	}
	return out
}

func (s *stack) testPropagatorState(ctx context.Context, t *testing.T) {
	perms, err := rbac.For(rbac.PropagatorState)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("all rules", func(t *testing.T) {
		cfg := s.grant(ctx, t, nsA, "state", perms.Namespaced)
		wantMissing(ctx, t, cfg, perms, nsA, "", "")
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stateFlow(cs, nsA, "full") {
			if err := st.run(ctx); err != nil {
				t.Fatalf("step %s: %v", st.name, err)
			}
		}
	})
	for i, r := range perms.Namespaced {
		for _, verb := range r.Verbs {
			res := r.Resources[0]
			name := "no-" + res + "-" + verb
			t.Run("without "+res+" "+verb, func(t *testing.T) {
				cfg := s.grant(ctx, t, nsA, name, rbac.Without(perms.Namespaced, i, verb))
				wantMissing(ctx, t, cfg, perms, nsA, res, verb)
				cs, err := kubernetes.NewForConfig(cfg)
				if err != nil {
					t.Fatal(err)
				}
				steps := stateFlow(cs, nsA, name)
				fail := firstNeeding(steps, need{res, verb})
				if fail < 0 {
					t.Fatalf("no step of the flow needs %s %s: the rule is not minimal", verb, res)
				}
				for j, st := range steps[:fail] {
					if err := st.run(ctx); err != nil {
						t.Fatalf("step %d %s, before the one that needs %s %s: %v", j, st.name, verb, res, err)
					}
				}
				before := s.stateObjects(ctx, t, nsA, name)
				err = steps[fail].run(ctx)
				wantForbidden(t, err, apierrors.IsForbidden, user(nsA, name), res, verb)
				if after := s.stateObjects(ctx, t, nsA, name); !reflect.DeepEqual(before, after) {
					t.Errorf("the refused step %s changed the state:\nbefore %v\nafter  %v", steps[fail].name, before, after)
				}
			})
		}
	}
}
