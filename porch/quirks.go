package porch

// Porch v1.5.3's quirks, and what the client does about each. Every
// workaround is one function here, called from the server layer (server.go)
// or from resilience, never from a verb, so that when Porch fixes one,
// one function changes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
)

// kindOf maps Porch's answers to the client's error kinds. Porch's status
// codes are not what client-go expects: a stale resourceVersion is a 500
// "the object has been modified", workspace uniqueness is a 500, lifecycle
// violations are 422s, and almost everything from its engine is a 500
// whose message says what happened. Git races are recognised before the
// generic rules, because their messages contain words ("not found") that
// would otherwise make them look like statements about the object.
func kindOf(code int32, reason, msg string) error {
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(msg, x) {
				return true
			}
		}
		return false
	}
	switch code {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return ErrUnavailable
	case http.StatusConflict:
		switch {
		case has("already in progress"):
			return ErrBusy
		case reason == "AlreadyExists" || has("already exists"):
			return ErrAlreadyExists
		default:
			return ErrConflict
		}
	case http.StatusUnprocessableEntity:
		switch {
		case has("spec can only update package with lifecycle"):
			return ErrImmutable
		case has("can be only updated to", "can only be updated to", "cannot approve package", "value for approval can be only", "can be only created as Draft"):
			return ErrInvalidTransition
		default:
			return ErrInvalid
		}
	case http.StatusBadRequest:
		if has("must be proposed for deletion") {
			return ErrImmutable
		}
		return ErrInvalid
	}
	if code == http.StatusRequestTimeout || (code >= 500 && code != http.StatusInternalServerError) {
		return ErrUnavailable
	}
	// HTTP 500: Porch raises almost everything from its engine as 500.
	switch {
	case has(gitRaceMessages...):
		return ErrInternal
	case has("the object has been modified"):
		return ErrConflict
	case has("workspaceNames must be unique", "already exists"):
		return ErrAlreadyExists
	case has("rendering package in kpt function pipeline", "fn.render"):
		return ErrRenderFailed
	case has("package must be Draft", "cannot update a package revision with lifecycle value"):
		return ErrImmutable
	case has("not implemented"):
		return ErrUnsupported
	case has("error cloning git repository", "fetch of remote repository failed", "cannot determine repository origin"):
		// Porch's own git access failed (under load, a branch or the
		// upstream's remote can look missing for a moment): not a statement
		// about the object.
		return ErrInternal
	case has("cannot find package revision", "not found"):
		return ErrNotFound
	case has("resourceVersion must be specified", "must contain Kptfile", "resource name invalid", "task list must",
		"source revision must", "must be published", "invalid", "Invalid"):
		return ErrInvalid
	case has("exceeded", "timeout", "connection refused", "i/o timeout", "etcdserver"):
		return ErrUnavailable
	}
	return ErrInternal
}

// gitRaceMessages are the texts of Porch's internal errors from git races
// and git transport failures under load (its background sync rewriting refs
// while a request uses them), which a repeat can get past. Porch rolls the
// request back before answering.
var gitRaceMessages = []string{
	"ref file is empty", "reference has changed concurrently", "reference not found", "remote not found",
	"object not found", "failed to push", "non-fast-forward", "connection reset", "unexpected EOF", "broken pipe",
	// Porch's word for a push its compare-and-swap refused: nothing was pushed.
	"Remote ref is conflicting with required remote ref",
}

// isGitRace reports an internal error from one of Porch's git races, as
// opposed to deterministic failures (a merge conflict, a bad task).
func isGitRace(err error) bool {
	var pe *Error
	if !errors.As(err, &pe) || !errors.Is(pe.Kind, ErrInternal) {
		return false
	}
	for _, s := range gitRaceMessages {
		if strings.Contains(pe.Message, s) {
			return true
		}
	}
	return false
}

// readOutlastsAttempts lets an idempotent read that meets a git race go on
// past the backoff's attempts, for up to vanishedFor: under load Porch's
// race ("ref file is empty" while its sync rewrites refs) can last longer
// than the attempts.
func readOutlastsAttempts(cl call, err error, attempt int, start time.Time) bool {
	return attempt > 1 && cl.idempotent && isGitRace(err) && time.Since(start) < vanishedFor
}

// errNoObject marks a success answer that does not carry the object asked
// for. client-go decodes a 200 whose body is another kind (a bare Status)
// into an empty object and no error, and Porch gives such answers under
// load. Reads are repeated; a write is never sent twice, but read back.
var errNoObject = errors.New("the server's success answer did not carry the object")

// requireObject checks that a success answer is the object named name.
func requireObject(name string, got metav1.Object) error {
	if got.GetName() == name {
		return nil
	}
	return fmt.Errorf("%w (asked for %q, got %q)", errNoObject, name, got.GetName())
}

// requireKind checks the kind of a JSON answer; other encodings are not
// checked.
func requireKind(body []byte, kind string) error {
	var tm metav1.TypeMeta
	if json.Unmarshal(body, &tm) != nil || tm.Kind == kind {
		return nil
	}
	return fmt.Errorf("%w (asked for a %s, got a %q)", errNoObject, kind, tm.Kind)
}

const (
	// recentFor is how long a revision counts as recently seen.
	recentFor = time.Minute
	// vanishedFor bounds how long the client waits out a recently seen
	// revision that Porch briefly does not serve, and a git race on a read.
	vanishedFor = 10 * time.Second
	// deleteVisibleWithin bounds how long a delete waits for Porch to stop
	// serving the deleted revision.
	deleteVisibleWithin = 10 * time.Second
	// rollbackVisibleWithin bounds how long a failed create waits for
	// Porch's rollback before removing what the create left.
	rollbackVisibleWithin = 3 * time.Second
)

// recentRevisions remembers, by namespace/name, the revisions this client
// saw or wrote lately and those it deleted, for the momentary-404 quirk.
type recentRevisions struct {
	mu        sync.Mutex
	seenAt    map[string]time.Time
	deletedAt map[string]time.Time
}

func newRecentRevisions() *recentRevisions {
	return &recentRevisions{seenAt: map[string]time.Time{}, deletedAt: map[string]time.Time{}}
}

// seen notes that a revision exists (or was just written) now.
func (r *recentRevisions) seen(namespace, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stamp(r.seenAt, namespace+"/"+name)
}

// forget notes that this client is deleting a revision.
func (r *recentRevisions) forget(namespace, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.seenAt, namespace+"/"+name)
}

// deletedNow notes that this client deleted a revision now.
func (r *recentRevisions) deletedNow(namespace, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stamp(r.deletedAt, namespace+"/"+name)
}

// wasDeleted reports whether this client deleted the revision within
// recentFor.
func (r *recentRevisions) wasDeleted(namespace, name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.deletedAt[namespace+"/"+name]
	return ok && time.Since(t) < recentFor
}

// wasRecent reports whether the revision was seen within recentFor.
func (r *recentRevisions) wasRecent(namespace, name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.seenAt[namespace+"/"+name]
	return ok && time.Since(t) < recentFor
}

// stamp records key with the time now, first dropping stamps older than
// recentFor once m grows large. The caller holds the lock.
func stamp(m map[string]time.Time, key string) {
	if len(m) > 10000 {
		for k, t := range m {
			if time.Since(t) > recentFor {
				delete(m, k)
			}
		}
	}
	m[key] = time.Now()
}

// absorbMomentary404 repeats read while it answers ErrNotFound for a
// revision this client saw within recentFor, for up to vanishedFor:
// Porch's background repository sync can stop serving a draft for a moment
// after a write. A revision this client is deleting is not waited for, and
// a real NotFound is reported after the wait.
func absorbMomentary404[T any](ctx context.Context, s *server, namespace, name string, read func(context.Context) (T, error)) (T, error) {
	v, err := read(ctx)
	if errors.Is(err, ErrNotFound) && s.recent.wasRecent(namespace, name) {
		_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, vanishedFor, false, func(context.Context) (bool, error) {
			if !s.recent.wasRecent(namespace, name) {
				return true, nil
			}
			s.log.V(1).Info("revision briefly not served by Porch; reading again", "name", name)
			v, err = read(ctx)
			return !errors.Is(err, ErrNotFound), nil
		})
		if errors.Is(err, ErrNotFound) && ctx.Err() != nil {
			return v, ctx.Err() // the caller gave up waiting: no statement about the revision
		}
	}
	if err == nil {
		s.recent.seen(namespace, name)
	}
	return v, err
}

// resendAfterMomentary404 sends a guarded write again when Porch answered
// 404 for a revision this client saw lately, once Porch serves the revision
// again (for up to vanishedFor). The write carries its resourceVersion or
// lifecycle precondition, so a repeat cannot apply twice.
func resendAfterMomentary404(ctx context.Context, s *server, namespace, name string, send func() error) error {
	err := send()
	if !errors.Is(err, ErrNotFound) || !s.recent.wasRecent(namespace, name) {
		return err
	}
	// Spaced like the read's wait: a write that keeps answering 404 while
	// the read finds the revision is not sent back to back.
	_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, vanishedFor, false, func(context.Context) (bool, error) {
		if !s.recent.wasRecent(namespace, name) {
			return true, nil
		}
		if _, gerr := s.probeRevision(ctx, "", namespace, name); gerr != nil {
			return !errors.Is(gerr, ErrNotFound), nil // still not served: wait on; another failure: stop
		}
		s.log.V(1).Info("revision briefly not served by Porch; writing again", "name", name)
		err = send()
		return !errors.Is(err, ErrNotFound), nil
	})
	if errors.Is(err, ErrNotFound) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// deleteOutlastingMomentary404 sends a delete, and sends it again while
// Porch answers 404 for a revision this client saw lately, for up to
// vanishedFor, unless another call of this client deleted it meanwhile.
// Deleting a missing revision changes nothing, so repeating is safe.
func deleteOutlastingMomentary404(ctx context.Context, s *server, namespace, name string, del func() error) error {
	recent := s.recent.wasRecent(namespace, name)
	s.recent.forget(namespace, name)
	err := del()
	if !errors.Is(err, ErrNotFound) || !recent {
		return err
	}
	_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, vanishedFor, false, func(context.Context) (bool, error) {
		if s.recent.wasDeleted(namespace, name) {
			return true, nil
		}
		s.log.V(1).Info("revision briefly not served by Porch; deleting again", "name", name)
		err = del()
		return !errors.Is(err, ErrNotFound), nil
	})
	if errors.Is(err, ErrNotFound) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// deleteAfterGitRace judges a delete that Porch answered with a git race
// and that was then sent again: Porch can answer the race after the
// revision was already deleted, so a NotFound for the repeat means the
// revision is gone, which is what the delete asked for. A repeated delete
// carries no precondition: Porch derives UIDs from names, so a UID cannot
// tell a revision re-created under the same name within the retry window
// (seconds), and a resourceVersion would refuse the delete after any push.
func deleteAfterGitRace(raced bool, err error) error {
	if raced && errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// waitGone returns once Porch no longer serves a deleted revision, or holds
// it only for its finalizers: its background sync can race a delete and
// serve the revision again for a moment. It fails with ErrInternal when
// Porch still serves the revision after s.goneWithin (deleteVisibleWithin
// in a client New made), and with the
// context's error when ctx ends first. An answer that tells nothing (the
// server unavailable) does not hold the caller up.
func waitGone(ctx context.Context, s *server, namespace, name string) error {
	defer s.invalidate(namespace, name)
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, s.goneWithin, true, func(context.Context) (bool, error) {
		pr, err := s.probeRevision(ctx, "", namespace, name)
		switch {
		case errors.Is(err, ErrNotFound):
			return true, nil
		case ctx.Err() != nil:
			return false, ctx.Err()
		case err != nil:
			return true, nil // cannot tell
		case pr.DeletionTimestamp != nil:
			return true, nil
		}
		s.log.V(1).Info("deleted revision still served; waiting", "name", name)
		return false, nil
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return newError("delete", name, ErrInternal, "Porch still serves the revision %v after deleting it", s.goneWithin)
}

// resendCreateAfterGitRace sends a create again after a git race, which
// Porch answers after rolling the draft back: names are deterministic, so
// once the revision provably does not exist (or what the failed create left
// is removed, see clearLeftover), sending the create again is safe.
func resendCreateAfterGitRace(ctx context.Context, s *server, op string, pr *porchapi.PackageRevision, name string,
	send func() (*porchapi.PackageRevision, error)) (*porchapi.PackageRevision, error) {
	var out *porchapi.PackageRevision
	var err error
	sent := 0
	werr := wait.ExponentialBackoffWithContext(ctx, s.res.backoff, func(context.Context) (bool, error) {
		if sent > 0 {
			s.log.V(1).Info("create failed inside Porch and left nothing; sending it again", "name", name, "error", err.Error())
		}
		sent++
		out, err = send()
		if !isGitRace(err) {
			return true, nil
		}
		out = nil
		if cerr := clearLeftover(ctx, s, op, pr, name); cerr != nil {
			err = leftBehind(err, name, cerr)
			return false, cerr
		}
		return false, nil
	})
	if sent == 0 {
		return nil, werr
	}
	return out, err
}

// readBackCreate reads back a create whose success answer did not carry
// the revision (waiting out Porch's momentary 404 after a write).
func readBackCreate(ctx context.Context, s *server, op, namespace, name string, err error) (*porchapi.PackageRevision, error) {
	s.recent.seen(namespace, name)
	s.invalidate(namespace, name)
	got, gerr := s.getRevision(ctx, op, namespace, name)
	switch {
	case gerr == nil:
		return got, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	return nil, &Error{Op: op, Name: name, Kind: ErrInternal, Err: errors.Join(err, gerr),
		Message: fmt.Sprintf("the create's answer did not carry the revision and reading it back failed (%v); it may exist", gerr)}
}

// settleFailedCreate makes a failed create leave the repository as it was.
// Porch rolls a failed create back, but the half-made draft can stay
// visible for a moment, and after some failures ("failed to close package
// revision draft") it stays: the client waits for the rollback and then
// removes a draft the create left (clearLeftover). Failures that provably
// made nothing (busy, invalid, the name taken, never sent, git races
// already settled by resendCreateAfterGitRace) are returned as they are; an
// unavailable server is probed too, since a lost answer proves nothing.
func settleFailedCreate(ctx context.Context, s *server, op string, pr *porchapi.PackageRevision, name string, err error) error {
	switch {
	case errors.Is(err, ErrAlreadyExists) || errors.Is(err, ErrBusy) || errors.Is(err, ErrInvalid) || isGitRace(err),
		errors.Is(err, ErrCircuitOpen) || errors.Is(err, syscall.ECONNREFUSED): // never reached the server
		return err
	case ctx.Err() != nil:
		// Nothing can be probed once the caller gave up: say so.
		return leftBehind(err, name, fmt.Errorf("%w: %v", errLeftoverUnknown, ctx.Err()))
	}
	if cerr := clearLeftover(ctx, s, op, pr, name); cerr != nil {
		return leftBehind(err, name, cerr)
	}
	return err
}

// leftBehind adds to a failed create's error what clearLeftover found: that
// the draft it left could not be removed, or that whether it left one is
// unknown. A revision that is not the create's own is no leftover.
func leftBehind(err error, name string, cerr error) error {
	if errors.Is(cerr, errNotOurs) {
		return err
	}
	pe, ok := err.(*Error)
	if !ok {
		return fmt.Errorf("%w (and about draft %q: %v)", err, name, cerr)
	}
	cp := *pe
	switch {
	case errors.Is(cerr, errLeftoverUnknown):
		cp.Message = fmt.Sprintf("%s (and it is unknown whether Porch left draft %q behind: %v)", pe.Message, name, cerr)
	case errors.Is(cerr, errUnclaimed):
		cp.Message = fmt.Sprintf("%s (and %q: %v)", pe.Message, name, cerr)
	default:
		cp.Message = fmt.Sprintf("%s (and Porch left draft %q behind, which could not be removed: %v)", pe.Message, name, cerr)
	}
	return &cp
}

// errNotOurs says that a revision with a failed create's name is not what
// that create would have made.
var errNotOurs = errors.New("the revision is not what the failed create would have made")

// errUnclaimed says that a Draft with a failed create's name is served but
// does not carry the create's CreateIDAnnotation: another caller's, most
// likely, so it is kept.
var errUnclaimed = errors.New("a draft of that name is served that this call cannot claim as its own; it is kept")

// errLeftoverUnknown says that no probe for a failed create's leftover
// answered (or the context ended first): nothing was seen, so whether a
// draft was left is not known.
var errLeftoverUnknown = errors.New("could not tell whether a draft was left")

// clearLeftover waits up to rollbackVisibleWithin for Porch to stop serving
// the revision a failed create named, and then deletes a Draft the create
// left (same name, and no task or the create's own kind of task). It
// returns nil once nothing of that name is served, errNotOurs for someone
// else's revision, and errLeftoverUnknown when no probe answered before
// the probes failed or ctx ended (nothing was seen, so nothing is known).
func clearLeftover(ctx context.Context, s *server, op string, pr *porchapi.PackageRevision, name string) error {
	var left *porchapi.PackageRevision
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, rollbackVisibleWithin, true, func(context.Context) (bool, error) {
		got, err := s.probeRevision(ctx, "", pr.Namespace, name)
		switch {
		case errors.Is(err, ErrNotFound):
			left = nil
			return true, nil
		case err != nil:
			return false, err
		}
		left = got
		return false, nil
	})
	if err == nil && left == nil {
		return nil
	}
	if left == nil {
		return fmt.Errorf("%w: %v", errLeftoverUnknown, err)
	}
	if !leftBy(left, pr) {
		if lifecycleOrDraft(left.Spec.Lifecycle) == draft {
			return errUnclaimed
		}
		return errNotOurs
	}
	s.log.Info("a failed create left a draft in Porch; removing it", "name", name)
	derr := s.res.do(ctx, call{op: operation("delete", kindPackageRevision, pr.Namespace, name), repository: pr.Spec.RepositoryName, idempotent: true},
		func(ctx context.Context) error {
			return s.porch.PorchV1alpha1().PackageRevisions(pr.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
		})
	s.invalidate(pr.Namespace, name)
	s.recent.forget(pr.Namespace, name)
	if derr != nil && !errors.Is(derr, ErrNotFound) {
		return derr
	}
	return waitGone(ctx, s, pr.Namespace, name)
}

// CreateIDAnnotation is set, with a value unique to the call, on every
// revision the client creates. Names are deterministic, so it is how a
// failed create tells the draft it left from the same-named draft another
// caller (another replica) created meanwhile: only its own is removed.
const CreateIDAnnotation = "porchkit.io/create-id"

// markCreate gives a create its unique CreateIDAnnotation.
func markCreate(pr *porchapi.PackageRevision) {
	if pr.Annotations == nil {
		pr.Annotations = map[string]string{}
	}
	pr.Annotations[CreateIDAnnotation] = uuid.NewString()
}

// leftBy reports whether left is what the failed create of pr left: a
// Draft of the same package and workspace that carries the create's own
// CreateIDAnnotation.
func leftBy(left, pr *porchapi.PackageRevision) bool {
	return lifecycleOrDraft(left.Spec.Lifecycle) == draft && left.Spec.RepositoryName == pr.Spec.RepositoryName &&
		left.Spec.PackageName == pr.Spec.PackageName && left.Spec.WorkspaceName == pr.Spec.WorkspaceName &&
		left.Annotations[CreateIDAnnotation] != "" && left.Annotations[CreateIDAnnotation] == pr.Annotations[CreateIDAnnotation]
}

// readBackUpdate reads back an update whose success answer did not carry
// the revision. When the fresh revision shows the update (tookEffect), it
// is the answer; otherwise the update did not land and the caller gets
// ErrConflict, so that read-modify-write loops read again and decide again.
func readBackUpdate(ctx context.Context, s *server, op string, sent *porchapi.PackageRevision, err error) (*porchapi.PackageRevision, error) {
	now, gerr := s.getRevision(ctx, op, sent.Namespace, sent.Name)
	switch {
	case gerr == nil && tookEffect(now, sent):
		return now, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case gerr != nil:
		return nil, gerr // the read-back itself failed: nothing is known of the update
	}
	return nil, &Error{Op: op, Name: sent.Name, Kind: ErrConflict, Err: err,
		Message: "the server's answer did not carry the revision, and a fresh read does not show the change; read it again"}
}

// tookEffect reports whether the server's revision shows an update that
// was sent: the lifecycle and the metadata (sameMetadata) it carried. One
// rule serves every update: a lifecycle move (propose, approve, reject from
// Proposed or DeletionProposed, propose-delete) sends the revision it read
// with only the lifecycle changed, and Porch's move changes none of the
// compared metadata; UpdateMetadata sends the lifecycle it read with new
// metadata. A revision changed by someone else since counts as not taken
// effect, and the caller reads again.
func tookEffect(server, sent *porchapi.PackageRevision) bool {
	return lifecycleOrDraft(server.Spec.Lifecycle) == lifecycleOrDraft(sent.Spec.Lifecycle) && sameMetadata(server, sent)
}

// sameMetadata reports whether the server's revision shows the metadata
// that was sent: labels (but the computed latest-revision label),
// annotations, finalizers, owners, readiness gates and conditions.
func sameMetadata(server, sent *porchapi.PackageRevision) bool {
	withoutLatest := func(l map[string]string) map[string]string {
		out := maps.Clone(l)
		delete(out, porchapi.LatestPackageRevisionKey)
		return out
	}
	return equality.Semantic.DeepEqual(withoutLatest(server.Labels), withoutLatest(sent.Labels)) &&
		equality.Semantic.DeepEqual(server.Annotations, sent.Annotations) &&
		equality.Semantic.DeepEqual(server.Finalizers, sent.Finalizers) &&
		equality.Semantic.DeepEqual(server.OwnerReferences, sent.OwnerReferences) &&
		equality.Semantic.DeepEqual(server.Spec.ReadinessGates, sent.Spec.ReadinessGates) &&
		equality.Semantic.DeepEqual(server.Status.Conditions, sent.Status.Conditions)
}

// readBackPush reads back a push whose success answer did not carry the
// resources. The push was guarded by prr's resourceVersion and sent from
// the repository's write slot, so a new resourceVersion on the server means
// it landed (its render status is lost; Porch may have rendered the files,
// so they are not compared). Otherwise the caller gets ErrConflict.
func readBackPush(ctx context.Context, s *server, op string, prr *porchapi.PackageRevisionResources, err error) (*porchapi.PackageRevisionResources, error) {
	now, perr := s.getResources(ctx, op, prr.Namespace, prr.Name)
	switch {
	case perr == nil && now.ResourceVersion != prr.ResourceVersion:
		return now, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case perr != nil:
		return nil, perr // the read-back itself failed: nothing is known of the push
	}
	return nil, &Error{Op: op, Name: prr.Name, Kind: ErrConflict, Err: err,
		Message: "the server's answer did not carry the resources, and a fresh read shows the old version; pull again"}
}

// porchFieldSelector is what Porch can filter o on: everything it matches
// exactly, plus the package's leaf name, which narrows but may over-match
// (Porch's spec.packageName selector compares the leaf name only, and
// spec.revision=0 means any revision, so revision 0 is not sent). The
// answer is then filtered exactly (exactly).
func porchFieldSelector(o ListOptions) string {
	var sel []fields.Selector
	if o.Repository != "" {
		sel = append(sel, fields.OneTermEqualSelector("spec.repository", o.Repository))
	}
	if o.Package != "" {
		sel = append(sel, fields.OneTermEqualSelector("spec.packageName", path.Base(o.Package)))
	}
	if o.Workspace != "" {
		sel = append(sel, fields.OneTermEqualSelector("spec.workspaceName", o.Workspace))
	}
	if o.Lifecycle != "" {
		sel = append(sel, fields.OneTermEqualSelector("spec.lifecycle", string(o.Lifecycle)))
	}
	if o.Revision != nil && *o.Revision != 0 {
		sel = append(sel, fields.OneTermEqualSelector("spec.revision", strconv.Itoa(*o.Revision)))
	}
	if len(sel) == 0 {
		return ""
	}
	return fields.AndSelectors(sel...).String()
}

// exactly filters a list Porch answered for porchFieldSelector(o) to what
// o selects (ListOptions.filter): Porch's selectors over-match, and its
// latest-revision label is per package leaf name, not per package path.
func exactly(o ListOptions, items []porchapi.PackageRevision) []porchapi.PackageRevision {
	return o.filter(items)
}

// watchTranslator turns the events of Porch's watch into what a watch that
// keeps to its options delivers. Porch applies selectors only to a watch's
// first burst of events, sends ADDED again for an object it already sent,
// and never says that an object stopped matching; its latest-revision
// label is per package leaf name. The translator applies the options to
// every event, turns a repeated ADDED into MODIFIED, reports an object
// that stops matching as DELETED and, for LatestOnly, keeps the latest
// revision per repository and full package path from the events it has
// seen (the watch starts with ADDED for every current revision): when the
// latest of a package changes, the old one leaves (DELETED) and the new one
// enters (ADDED).
type watchTranslator struct {
	opts ListOptions
	// sent holds the objects the watch has delivered and not deleted, by
	// name.
	sent map[string]*porchapi.PackageRevision
	// candidates holds, for LatestOnly, the published revisions matching
	// the options, by package key and name.
	candidates map[string]map[string]*porchapi.PackageRevision
}

func newWatchTranslator(o ListOptions) *watchTranslator {
	return &watchTranslator{opts: o, sent: map[string]*porchapi.PackageRevision{}, candidates: map[string]map[string]*porchapi.PackageRevision{}}
}

// translate returns the events to deliver for one event of Porch's watch.
func (t *watchTranslator) translate(ev watch.Event) []watch.Event {
	pr, ok := ev.Object.(*porchapi.PackageRevision)
	if !ok {
		if ev.Type == watch.Error {
			return []watch.Event{ev}
		}
		return nil
	}
	present := ev.Type == watch.Added || ev.Type == watch.Modified
	if ev.Type != watch.Deleted && !present {
		return nil
	}
	if !t.opts.LatestOnly {
		return t.set(pr, present && t.opts.Matches(pr), nil)
	}
	key := pr.Spec.RepositoryName + "\x00" + pr.Spec.PackageName
	revs := t.candidates[key]
	if present && t.opts.Matches(pr) && IsPublished(pr) && pr.Spec.Revision > 0 {
		if revs == nil {
			revs = map[string]*porchapi.PackageRevision{}
			t.candidates[key] = revs
		}
		revs[pr.Name] = pr
	} else {
		delete(revs, pr.Name)
		if len(revs) == 0 {
			delete(t.candidates, key)
		}
	}
	var latest *porchapi.PackageRevision
	for _, c := range revs {
		if latest == nil || c.Spec.Revision > latest.Spec.Revision || c.Spec.Revision == latest.Spec.Revision && c.Name < latest.Name {
			latest = c
		}
	}
	var out []watch.Event
	// The package's revisions other than the latest leave the watch first.
	for name, old := range t.sent {
		if name != pr.Name && old.Spec.RepositoryName == pr.Spec.RepositoryName && old.Spec.PackageName == pr.Spec.PackageName &&
			(latest == nil || latest.Name != name) {
			delete(t.sent, name)
			out = append(out, watch.Event{Type: watch.Deleted, Object: old})
		}
	}
	out = t.set(pr, latest != nil && latest.Name == pr.Name, out)
	if latest != nil && latest.Name != pr.Name && t.sent[latest.Name] == nil {
		t.sent[latest.Name] = latest
		out = append(out, watch.Event{Type: watch.Added, Object: latest})
	}
	return out
}

// set appends the event that makes pr delivered (matches) or not, if any.
func (t *watchTranslator) set(pr *porchapi.PackageRevision, matches bool, out []watch.Event) []watch.Event {
	_, sent := t.sent[pr.Name]
	switch {
	case matches && sent:
		t.sent[pr.Name] = pr
		return append(out, watch.Event{Type: watch.Modified, Object: pr})
	case matches:
		t.sent[pr.Name] = pr
		return append(out, watch.Event{Type: watch.Added, Object: pr})
	case sent:
		delete(t.sent, pr.Name)
		return append(out, watch.Event{Type: watch.Deleted, Object: pr})
	}
	return out
}

// refreshWait bounds how long Refresh waits for a repository to be Ready.
const refreshWait = 15 * time.Second

// readyAfterRefresh waits up to refreshWait for a refreshed repository to
// be Ready. Porch writes the Ready condition only when it changes, so a
// Ready=False condition from before the refresh can stand after a re-read
// that succeeded, and no condition says when the re-read is done: the wait
// is bounded, and a repository still not Ready after it fails with
// ErrNotReady and Porch's message.
func readyAfterRefresh(ctx context.Context, op, name string, get func(context.Context) (*configapi.Repository, error)) error {
	var last *configapi.Repository
	var lastErr error
	werr := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, refreshWait, true, func(ctx context.Context) (bool, error) {
		repo, err := get(ctx)
		if err != nil {
			lastErr = err
			return false, nilIfRetryable(err)
		}
		last, lastErr = repo, nil
		ok, _ := Ready(repo)
		return ok, nil
	})
	switch {
	case werr == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err() // the caller's deadline, not the wait's
	case lastErr != nil && !IsRetryable(lastErr):
		return opError(op, lastErr) // the read failed for good: not a statement about readiness
	case last != nil:
		_, msg := Ready(last)
		return &Error{Op: op, Name: name, Kind: ErrNotReady, Message: msg, Err: werr}
	case lastErr != nil:
		return &Error{Op: op, Name: name, Kind: ErrUnavailable, Message: "the repository could not be read within " + refreshWait.String(), Err: lastErr}
	}
	return &Error{Op: op, Name: name, Kind: ErrUnavailable, Err: werr}
}
