package porch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/nephio-project/porch/api/generated/clientset/versioned/fake"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	clienttesting "k8s.io/client-go/testing"
)

// Each quirk function of quirks.go is driven here through client-go's
// typed fake of Porch's clientset, whose reactors answer as Porch v1.5.3
// does in the situation the quirk is about.

// quirkServer is a server on a fake clientset with fast retries.
func quirkServer(t *testing.T) (*server, *fake.Clientset, *calls) {
	t.Helper()
	cs := fake.NewSimpleClientset()
	res := &resilience{backoff: wait.Backoff{Steps: 4, Duration: time.Millisecond, Factor: 1}, limiter: newRepositoryLimiter(1),
		inst: nopInstrumentation{}, log: logr.Discard()}
	return &server{porch: cs, res: res, log: logr.Discard(), recent: newRecentRevisions(), goneWithin: deleteVisibleWithin}, cs, &calls{cs}
}

// calls counts the requests a fake clientset received.
type calls struct{ cs *fake.Clientset }

// get counts the requests with "verb resource".
func (c *calls) get(k string) int {
	n := 0
	for _, a := range c.cs.Actions() {
		if a.GetVerb()+" "+a.GetResource().Resource == k {
			n++
		}
	}
	return n
}

var prGR = schema.GroupResource{Group: porchapi.SchemeGroupVersion.Group, Resource: "packagerevisions"}

func notFound(name string) error { return apierrors.NewNotFound(prGR, name) }

func internal(msg string) error { return apierrors.NewInternalError(errors.New(msg)) }

func testRevision(name string, l porchapi.PackageRevisionLifecycle) *porchapi.PackageRevision {
	return &porchapi.PackageRevision{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", ResourceVersion: "1"},
		Spec: porchapi.PackageRevisionSpec{RepositoryName: "r", PackageName: "p", WorkspaceName: "w", Lifecycle: l,
			Tasks: []porchapi.Task{{Type: porchapi.TaskTypeInit}}},
	}
}

// answers returns a reactor that answers with each of its results in turn,
// then with the last one for ever.
func answers(results ...func() (runtime.Object, error)) clienttesting.ReactionFunc {
	var mu sync.Mutex
	i := 0
	return func(clienttesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		r := results[min(i, len(results)-1)]
		i++
		obj, err := r()
		return true, obj, err
	}
}

func obj(o runtime.Object) func() (runtime.Object, error) {
	return func() (runtime.Object, error) { return o, nil }
}
func fail(err error) func() (runtime.Object, error) {
	return func() (runtime.Object, error) { return nil, err }
}

func TestKindOfSeesGitRacesBeforeNotFound(t *testing.T) {
	for _, msg := range []string{
		"Internal error occurred: failed to close package revision draft: remote not found",
		"Internal error occurred: failed to close package revision draft: ref file is empty",
		"Internal error occurred: reference not found",
	} {
		err := classify("init", "r.p.w", internal(msg))
		if errors.Is(err, ErrNotFound) || !errors.Is(err, ErrInternal) || !isGitRace(err) {
			t.Errorf("%q classified as %v; want a git race (ErrInternal), not ErrNotFound", msg, err)
		}
	}
	if err := classify("get", "x", internal("cannot find package revision x")); !errors.Is(err, ErrNotFound) {
		t.Errorf("a plain not-found 500 is %v, want ErrNotFound", err)
	}
}

func TestReadOutlastsAttemptsOnlyForIdempotentGitRaces(t *testing.T) {
	race := classify("get", "x", internal("ref file is empty"))
	start := time.Now()
	if !readOutlastsAttempts(call{idempotent: true}, race, 7, start) {
		t.Error("an idempotent read in a git race does not outlast its attempts")
	}
	if readOutlastsAttempts(call{guarded: true}, race, 7, start) || readOutlastsAttempts(call{idempotent: true}, race, 1, start) ||
		readOutlastsAttempts(call{idempotent: true}, race, 7, start.Add(-vanishedFor)) ||
		readOutlastsAttempts(call{idempotent: true}, classify("get", "x", internal("merge conflict")), 7, start) {
		t.Error("a write, a first attempt, an expired race or another error outlasts the attempts")
	}
}

func TestRequireObjectAndKind(t *testing.T) {
	if err := requireObject("a", &porchapi.PackageRevision{}); !errors.Is(err, errNoObject) {
		t.Errorf("an empty answer passes requireObject: %v", err)
	}
	if err := requireObject("a", testRevision("a", draft)); err != nil {
		t.Error(err)
	}
	if err := requireKind([]byte(`{"kind":"Status","apiVersion":"v1"}`), "PackageRevisionList"); !errors.Is(err, errNoObject) {
		t.Errorf("a Status passes as a list: %v", err)
	}
	if err := requireKind([]byte(`{"kind":"PackageRevisionList"}`), "PackageRevisionList"); err != nil {
		t.Error(err)
	}
}

func TestAbsorbMomentary404(t *testing.T) {
	s, cs, _ := quirkServer(t)
	cs.PrependReactor("get", "packagerevisions", answers(fail(notFound("r.p.w")), fail(notFound("r.p.w")), obj(testRevision("r.p.w", draft))))
	if _, err := s.getRevision(context.Background(), "get", "ns", "r.p.w"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a revision never seen: %v, want ErrNotFound at once", err)
	}
	s.recent.seen("ns", "r.p.w")
	if _, err := s.getRevision(context.Background(), "get", "ns", "r.p.w"); err != nil {
		t.Fatalf("a recently seen revision briefly not served: %v", err)
	}
}

func TestResendAfterMomentary404(t *testing.T) {
	s, cs, rec := quirkServer(t)
	pr := testRevision("r.p.w", proposed)
	s.recent.seen("ns", pr.Name)
	cs.PrependReactor("update", "packagerevisions", answers(fail(notFound(pr.Name)), obj(pr)))
	cs.PrependReactor("get", "packagerevisions", answers(obj(pr)))
	out, err := s.updateRevision(context.Background(), "propose", pr, false)
	if err != nil || out.Name != pr.Name {
		t.Fatalf("update after a momentary 404: %v", err)
	}
	if n := rec.get("update packagerevisions"); n != 2 {
		t.Fatalf("update sent %d times, want 2", n)
	}
}

func TestDeleteOutlastingMomentary404(t *testing.T) {
	s, cs, rec := quirkServer(t)
	s.recent.seen("ns", "r.p.w")
	cs.PrependReactor("delete", "packagerevisions", answers(fail(notFound("r.p.w")), obj(nil)))
	cs.PrependReactor("get", "packagerevisions", answers(fail(notFound("r.p.w"))))
	if err := s.deleteRevision(context.Background(), "delete", "ns", "r.p.w", "r"); err != nil {
		t.Fatal(err)
	}
	if n := rec.get("delete packagerevisions"); n != 2 {
		t.Fatalf("delete sent %d times, want 2", n)
	}
	// A revision this client never saw is not deleted again.
	s2, cs2, rec2 := quirkServer(t)
	cs2.PrependReactor("delete", "packagerevisions", answers(fail(notFound("r.p.x"))))
	if err := s2.deleteRevision(context.Background(), "delete", "ns", "r.p.x", "r"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting a missing revision: %v, want ErrNotFound", err)
	}
	if n := rec2.get("delete packagerevisions"); n != 1 {
		t.Fatalf("delete of a never-seen revision sent %d times, want 1", n)
	}
}

func TestWaitGoneReportsTheCallersDeadline(t *testing.T) {
	s, cs, _ := quirkServer(t)
	cs.PrependReactor("get", "packagerevisions", answers(obj(testRevision("r.p.w", draft))))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := waitGone(ctx, s, "ns", "r.p.w"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waitGone = %v while Porch still serves the revision, want the context's error", err)
	}
}

func TestWaitGoneTimesOutWhenPorchStillServes(t *testing.T) {
	s, cs, _ := quirkServer(t)
	s.goneWithin = 300 * time.Millisecond // the bound under test, made short
	cs.PrependReactor("get", "packagerevisions", answers(obj(testRevision("r.p.w", draft))))
	err := waitGone(context.Background(), s, "ns", "r.p.w")
	if !errors.Is(err, ErrInternal) || !strings.Contains(err.Error(), "still serves") {
		t.Fatalf("waitGone = %v, want ErrInternal saying Porch still serves the revision", err)
	}
}

func TestResendCreateAfterGitRace(t *testing.T) {
	s, cs, rec := quirkServer(t)
	pr := testRevision("", "")
	cs.PrependReactor("create", "packagerevisions", answers(fail(internal("failed to close package revision draft: remote not found")),
		obj(testRevision("r.p.w", draft))))
	cs.PrependReactor("get", "packagerevisions", answers(fail(notFound("r.p.w"))))
	out, err := s.createRevision(context.Background(), "init", pr)
	if err != nil || out.Name != "r.p.w" {
		t.Fatalf("create after a git race that left nothing: %v", err)
	}
	if n := rec.get("create packagerevisions"); n != 2 {
		t.Fatalf("create sent %d times, want 2", n)
	}
}

func TestFailedCreateRemovesTheDraftItLeft(t *testing.T) {
	s, cs, rec := quirkServer(t)
	pr := testRevision("", "")
	var mu sync.Mutex
	left := true  // Porch left the half-made draft behind
	var id string // the create's own CreateIDAnnotation, which the left draft carries
	cs.PrependReactor("create", "packagerevisions", func(a clienttesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		id = a.(clienttesting.CreateAction).GetObject().(*porchapi.PackageRevision).Annotations[CreateIDAnnotation]
		return true, nil, internal("failed to close package revision draft: ref file is empty")
	})
	cs.PrependReactor("get", "packagerevisions", func(clienttesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		if left {
			pr := testRevision("r.p.w", draft)
			pr.Annotations = map[string]string{CreateIDAnnotation: id}
			return true, pr, nil
		}
		return true, nil, notFound("r.p.w")
	})
	cs.PrependReactor("delete", "packagerevisions", func(clienttesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		left = false
		return true, nil, nil
	})
	_, err := s.createRevision(context.Background(), "init", pr)
	if !errors.Is(err, ErrInternal) {
		t.Fatalf("create = %v, want the git race's ErrInternal", err)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Op != "init" {
		t.Fatalf("error %v does not name the caller's operation", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if left || rec.get("delete packagerevisions") == 0 {
		t.Fatal("a failed create returned while the draft it left is still there")
	}
}

// TestFailedCreateKeepsAnotherCallersDraft: a Draft of the same name that
// does not carry this create's CreateIDAnnotation is another caller's (a
// replica's racing create of the same name): it is kept, and the error
// says the create cannot tell it is its own.
func TestFailedCreateKeepsAnotherCallersDraft(t *testing.T) {
	s, cs, rec := quirkServer(t)
	cs.PrependReactor("create", "packagerevisions", answers(fail(internal("failed to close package revision draft: ref file is empty"))))
	other := testRevision("r.p.w", draft)
	other.Annotations = map[string]string{CreateIDAnnotation: "another-call"}
	cs.PrependReactor("get", "packagerevisions", answers(obj(other)))
	_, err := s.createRevision(context.Background(), "init", testRevision("", ""))
	if !errors.Is(err, ErrInternal) {
		t.Fatalf("create = %v, want ErrInternal", err)
	}
	if n := rec.get("delete packagerevisions"); n != 0 {
		t.Fatalf("another caller's draft was deleted (%d deletes)", n)
	}
}

func TestFailedCreateKeepsSomeoneElsesRevision(t *testing.T) {
	s, cs, rec := quirkServer(t)
	pr := testRevision("", "")
	cs.PrependReactor("create", "packagerevisions", answers(fail(internal("failed to close package revision draft: ref file is empty"))))
	cs.PrependReactor("get", "packagerevisions", answers(obj(testRevision("r.p.w", published))))
	if _, err := s.createRevision(context.Background(), "init", pr); !errors.Is(err, ErrInternal) {
		t.Fatalf("create = %v, want ErrInternal", err)
	}
	if n := rec.get("delete packagerevisions"); n != 0 {
		t.Fatalf("a Published revision of the same name was deleted (%d deletes)", n)
	}
}

func TestReadBackCreate(t *testing.T) {
	s, cs, rec := quirkServer(t)
	cs.PrependReactor("create", "packagerevisions", answers(obj(&porchapi.PackageRevision{})))
	cs.PrependReactor("get", "packagerevisions", answers(obj(testRevision("r.p.w", draft))))
	out, err := s.createRevision(context.Background(), "init", testRevision("", ""))
	if err != nil || out.Name != "r.p.w" {
		t.Fatalf("create answered without the object: %v", err)
	}
	if n := rec.get("create packagerevisions"); n != 1 {
		t.Fatalf("create sent %d times, want once", n)
	}
}

func TestReadBackUpdate(t *testing.T) {
	sent := testRevision("r.p.w", proposed)
	for _, tc := range []struct {
		name     string
		server   porchapi.PackageRevisionLifecycle
		wantErr  error
		wantSent int
	}{
		{"took effect", proposed, nil, 1},
		{"did not take effect", draft, ErrConflict, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, cs, rec := quirkServer(t)
			cs.PrependReactor("update", "packagerevisions", answers(obj(&porchapi.PackageRevision{})))
			cs.PrependReactor("get", "packagerevisions", answers(obj(testRevision("r.p.w", tc.server))))
			_, err := s.updateRevision(context.Background(), "propose", sent, false)
			if !errors.Is(err, tc.wantErr) && (err != nil || tc.wantErr != nil) {
				t.Fatalf("update = %v, want %v", err, tc.wantErr)
			}
			if n := rec.get("update packagerevisions"); n != tc.wantSent {
				t.Fatalf("update sent %d times, want %d", n, tc.wantSent)
			}
		})
	}
}

func TestReadBackPush(t *testing.T) {
	prr := &porchapi.PackageRevisionResources{ObjectMeta: metav1.ObjectMeta{Name: "r.p.w", Namespace: "ns", ResourceVersion: "1"},
		Spec: porchapi.PackageRevisionResourcesSpec{RepositoryName: "r"}}
	for _, tc := range []struct {
		name    string
		serverV string
		wantErr error
	}{{"landed", "2", nil}, {"did not land", "1", ErrConflict}} {
		t.Run(tc.name, func(t *testing.T) {
			s, cs, _ := quirkServer(t)
			now := prr.DeepCopy()
			now.ResourceVersion = tc.serverV
			cs.PrependReactor("update", "packagerevisionresources", answers(obj(&porchapi.PackageRevisionResources{})))
			cs.PrependReactor("get", "packagerevisionresources", answers(obj(now)))
			out, err := s.updateResources(context.Background(), "push", prr)
			if tc.wantErr == nil && (err != nil || out.ResourceVersion != "2") || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("push = %v, %v; want %v", out, err, tc.wantErr)
			}
		})
	}
}

func TestErrorsNameTheCallersOperation(t *testing.T) {
	err := opError("propose", &Error{Op: "get", Name: "x", Kind: ErrNotFound, Code: http.StatusNotFound})
	var pe *Error
	if !errors.As(err, &pe) || pe.Op != "propose" || !errors.Is(err, ErrNotFound) || !strings.HasPrefix(err.Error(), `porch: propose "x"`) {
		t.Fatalf("opError = %v, want the caller's operation", err)
	}
}

func TestDeleteAfterGitRace(t *testing.T) {
	s, cs, rec := quirkServer(t)
	cs.PrependReactor("delete", "packagerevisions", answers(fail(internal("failed to delete package revision: ref file is empty")),
		fail(notFound("r.p.w"))))
	cs.PrependReactor("get", "packagerevisions", answers(fail(notFound("r.p.w"))))
	if err := s.deleteRevision(context.Background(), "delete", "ns", "r.p.w", "r"); err != nil {
		t.Fatalf("a delete answered with a git race, then not found: %v, want success", err)
	}
	if n := rec.get("delete packagerevisions"); n != 2 {
		t.Fatalf("delete sent %d times, want 2", n)
	}
	if err := deleteAfterGitRace(false, &Error{Kind: ErrNotFound}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a delete that met no race and found nothing: %v, want ErrNotFound", err)
	}
}

func TestReadBackUpdateComparesTheMetadataSent(t *testing.T) {
	s, cs, _ := quirkServer(t)
	sent := testRevision("r.p.w", proposed)
	sent.Annotations = map[string]string{"k": "v"}
	cs.PrependReactor("update", "packagerevisions", answers(obj(&porchapi.PackageRevision{})))
	cs.PrependReactor("get", "packagerevisions", answers(obj(testRevision("r.p.w", proposed))))
	if _, err := s.updateRevision(context.Background(), "update", sent, false); !errors.Is(err, ErrConflict) {
		t.Fatalf("update = %v; the server shows the lifecycle but not the annotations sent, want ErrConflict", err)
	}
}

func TestResendAfterMomentary404IsSpaced(t *testing.T) {
	s, cs, rec := quirkServer(t)
	pr := testRevision("r.p.w", proposed)
	s.recent.seen("ns", pr.Name)
	cs.PrependReactor("update", "packagerevisions", answers(fail(notFound(pr.Name))))
	cs.PrependReactor("get", "packagerevisions", answers(obj(pr)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := s.updateRevision(ctx, "propose", pr, false); err == nil {
		t.Fatal("an update answered 404 every time succeeded")
	}
	// One send, then at most one per 200 ms for the second.
	if n := rec.get("update packagerevisions"); n > 7 {
		t.Fatalf("update sent %d times in a second, want the resends spaced", n)
	}
}

func TestResendCreateAfterGitRaceIsBounded(t *testing.T) {
	s, cs, rec := quirkServer(t)
	cs.PrependReactor("create", "packagerevisions", answers(fail(internal("failed to close package revision draft: remote not found"))))
	cs.PrependReactor("get", "packagerevisions", answers(fail(notFound("r.p.w"))))
	if _, err := s.createRevision(context.Background(), "init", testRevision("", "")); !isGitRace(err) {
		t.Fatalf("create = %v, want the git race", err)
	}
	if n := rec.get("create packagerevisions"); n != s.res.backoff.Steps {
		t.Fatalf("create sent %d times, want the backoff's %d steps", n, s.res.backoff.Steps)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.createRevision(ctx, "init", testRevision("", "")); err == nil {
		t.Fatal("create with an ended context succeeded")
	}
}

func TestFailedCreateSaysWhenALeftoverIsUnknown(t *testing.T) {
	s, cs, _ := quirkServer(t)
	cs.PrependReactor("create", "packagerevisions", answers(fail(internal("failed to close package revision draft: disk full"))))
	cs.PrependReactor("get", "packagerevisions", answers(fail(apierrors.NewServiceUnavailable("down"))))
	_, err := s.createRevision(context.Background(), "init", testRevision("", ""))
	if !errors.Is(err, ErrInternal) {
		t.Fatalf("create = %v, want the create's ErrInternal", err)
	}
	if msg := err.Error(); strings.Contains(msg, "could not be removed") || !strings.Contains(msg, "unknown whether") {
		t.Fatalf("no probe answered, yet the error reads %q", msg)
	}
}

// TestRejectThatTookEffectIsNoIllegalMove: a reject answered without the
// object, whose fresh read shows the Draft it led to but metadata changed
// meanwhile, is done, not an illegal reject of a Draft.
func TestRejectThatTookEffectIsNoIllegalMove(t *testing.T) {
	s, cs, rec := quirkServer(t)
	c := &client{srv: s, reader: s, res: s.res, conflictRetries: 3}
	prs := &packageRevisions{c: c, ns: "ns"}
	after := testRevision("r.p.w", draft)
	after.Annotations = map[string]string{"someone": "else"}
	cs.PrependReactor("get", "packagerevisions", answers(obj(testRevision("r.p.w", proposed)), obj(after)))
	cs.PrependReactor("update", "packagerevisions", answers(obj(&porchapi.PackageRevision{})))
	got, err := prs.Reject(context.Background(), "r.p.w")
	if err != nil || got.Spec.Lifecycle != draft {
		t.Fatalf("reject = %v, %v; want the Draft it led to", got, err)
	}
	if n := rec.get("update packagerevisions"); n != 1 {
		t.Fatalf("update sent %d times, want once", n)
	}
}
