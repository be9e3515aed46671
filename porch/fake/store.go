package fake

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/watch"
)

const (
	draft            = porchapi.PackageRevisionLifecycleDraft
	proposed         = porchapi.PackageRevisionLifecycleProposed
	published        = porchapi.PackageRevisionLifecyclePublished
	deletionProposed = porchapi.PackageRevisionLifecycleDeletionProposed
)

// uidNamespace is the UUIDv5 namespace Porch derives revision UIDs in.
var uidNamespace = uuid.MustParse("aac71d91-5c67-456f-8fd2-902ef6da820e")

// store is the fake server's state and Porch's rules over it. One mutex
// serialises every operation, so the fake never interleaves two; Porch's
// per-object "already in progress" 409 is reproduced by claiming a
// per-object key for the configured latency before the operation, without
// holding the mutex. Functions that need s.mu held say so; no function
// releases a lock its caller holds.
type store struct {
	mu       sync.Mutex
	opts     *config
	repos    map[string]*configapi.Repository
	secrets  map[string]*corev1.Secret
	revs     map[string]*revision
	counter  uint64
	watchers map[*watcher]struct{}
	inFlight map[string]bool
}

type revision struct {
	pr        porchapi.PackageRevision
	resources map[string]string
}

func newStore(o *config) *store {
	return &store{
		opts: o, repos: map[string]*configapi.Repository{}, secrets: map[string]*corev1.Secret{},
		revs: map[string]*revision{}, watchers: map[*watcher]struct{}{}, inFlight: map[string]bool{},
	}
}

func key(ns, name string) string { return ns + "/" + name }

// nextVersion returns a new opaque resourceVersion shaped like Porch's (a
// 40-hex git commit SHA).
func (s *store) nextVersion() string {
	s.counter++
	sum := sha1.Sum([]byte(strconv.FormatUint(s.counter, 10)))
	return hex.EncodeToString(sum[:])
}

// claim emulates Porch's non-waiting per-object lock for a write that takes
// the configured latency: once check (run with s.mu held) passes, it marks
// key k in flight, or fails with busy while another write holds k, and
// waits out the latency without holding s.mu. The caller takes s.mu for
// the write itself, after claim, and calls release when done. A request
// whose client gives up during the latency lets k go and fails with ctx's
// error. Called without s.mu held; with no latency it does nothing.
func (s *store) claim(ctx context.Context, k string, busy *apierrors.StatusError, check func() error) (release func(), err error) {
	if s.opts.latency <= 0 {
		return func() {}, nil
	}
	if err := s.mark(k, busy, check); err != nil {
		return nil, err
	}
	release = func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.inFlight, k)
	}
	t := time.NewTimer(s.opts.latency)
	defer t.Stop()
	select {
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	case <-t.C:
	}
	return release, nil
}

// mark runs check and marks k in flight, under s.mu.
func (s *store) mark(k string, busy *apierrors.StatusError, check func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := check(); err != nil {
		return err
	}
	if s.inFlight[k] {
		return busy
	}
	s.inFlight[k] = true
	return nil
}

// ---- views -----------------------------------------------------------------

// view returns what a client reads: a copy with the computed latest label.
func (s *store) view(r *revision) *porchapi.PackageRevision {
	pr := r.pr.DeepCopy()
	pr.TypeMeta = metav1.TypeMeta{APIVersion: porchapi.SchemeGroupVersion.String(), Kind: "PackageRevision"}
	if s.isLatest(r) {
		if pr.Labels == nil {
			pr.Labels = map[string]string{}
		}
		pr.Labels[porchapi.LatestPackageRevisionKey] = porchapi.LatestPackageRevisionValue
	}
	return pr
}

func (s *store) resourcesView(r *revision) *porchapi.PackageRevisionResources {
	res := map[string]string{}
	for k, v := range r.resources {
		res[k] = v
	}
	return &porchapi.PackageRevisionResources{
		TypeMeta: metav1.TypeMeta{APIVersion: porchapi.SchemeGroupVersion.String(), Kind: "PackageRevisionResources"},
		ObjectMeta: metav1.ObjectMeta{
			Name: r.pr.Name, Namespace: r.pr.Namespace, UID: r.pr.UID, ResourceVersion: r.pr.ResourceVersion,
			CreationTimestamp: r.pr.CreationTimestamp,
		},
		Spec: porchapi.PackageRevisionResourcesSpec{
			PackageName: r.pr.Spec.PackageName, WorkspaceName: r.pr.Spec.WorkspaceName,
			Revision: r.pr.Spec.Revision, RepositoryName: r.pr.Spec.RepositoryName, Resources: res,
		},
	}
}

func isPublished(l porchapi.PackageRevisionLifecycle) bool {
	return l == published || l == deletionProposed
}

// isLatest: the highest published revision per repository and package LEAF
// name (Porch's rule; packages x/app and y/app compete).
func (s *store) isLatest(r *revision) bool {
	if !isPublished(r.pr.Spec.Lifecycle) || r.pr.Spec.Revision <= 0 {
		return false
	}
	leaf := path.Base(r.pr.Spec.PackageName)
	for _, o := range s.revs {
		if o.pr.Namespace == r.pr.Namespace && o.pr.Spec.RepositoryName == r.pr.Spec.RepositoryName &&
			path.Base(o.pr.Spec.PackageName) == leaf && isPublished(o.pr.Spec.Lifecycle) && o.pr.Spec.Revision > r.pr.Spec.Revision {
			return false
		}
	}
	return true
}

// ---- package revisions -----------------------------------------------------

func (s *store) getRevision(ns, name string) (*revision, error) {
	r, ok := s.revs[key(ns, name)]
	if !ok {
		if _, ok := s.repos[key(ns, strings.SplitN(name, ".", 2)[0])]; !ok {
			return nil, apierrors.NewNotFound(grRepositories, strings.SplitN(name, ".", 2)[0])
		}
		return nil, apierrors.NewNotFound(grPackageRevisions, name)
	}
	return r, nil
}

// createRevision creates a draft. Called without s.mu held.
func (s *store) createRevision(ctx context.Context, ns string, in *porchapi.PackageRevision) (*porchapi.PackageRevision, error) {
	spec := in.Spec
	check := func() error { _, _, err := s.checkCreate(ns, &spec); return err }
	release, err := s.claim(ctx, "create/"+ns+"/"+spec.RepositoryName+"/"+spec.PackageName+"/"+spec.WorkspaceName,
		busyError(grPackageRevisions, "(new creation)", fmt.Sprintf(`to create package revision with details namespace=%q, repository=%q, package=%q,workspace=%q`,
			ns, spec.RepositoryName, spec.PackageName, spec.WorkspaceName)), check)
	if err != nil {
		return nil, err
	}
	defer release()
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, name, err := s.checkCreate(ns, &spec)
	if err != nil {
		return nil, err
	}
	for _, o := range s.revs {
		if o.pr.Namespace == ns && o.pr.Spec.RepositoryName == spec.RepositoryName && o.pr.Spec.PackageName == spec.PackageName &&
			o.pr.Spec.WorkspaceName == spec.WorkspaceName {
			return nil, internalError("package revision workspaceNames must be unique; package revision with name %s in repo %s with workspaceName %s already exists",
				spec.PackageName, spec.RepositoryName, spec.WorkspaceName)
		}
	}
	task := porchapi.Task{Type: porchapi.TaskTypeInit, Init: &porchapi.PackageInitTaskSpec{Description: spec.PackageName + " description"}}
	if len(spec.Tasks) == 1 {
		task = *spec.Tasks[0].DeepCopy()
	}
	resources, upstreamLock, err := s.runTask(ctx, ns, repo, &spec, task)
	if err != nil {
		return nil, err
	}
	resources, _, err = s.render(ctx, resources)
	if err != nil {
		return nil, err
	}
	r := &revision{resources: resources}
	r.pr = porchapi.PackageRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, UID: revisionUID(ns, name), ResourceVersion: s.nextVersion(),
			CreationTimestamp: metav1.Now(), Labels: in.Labels, Annotations: in.Annotations,
			Finalizers: in.Finalizers, OwnerReferences: in.OwnerReferences,
		},
		Spec: porchapi.PackageRevisionSpec{
			PackageName: spec.PackageName, RepositoryName: spec.RepositoryName, WorkspaceName: spec.WorkspaceName,
			Lifecycle: draft, Tasks: []porchapi.Task{task}, ReadinessGates: spec.ReadinessGates, Parent: spec.Parent,
		},
		Status: porchapi.PackageRevisionStatus{UpstreamLock: upstreamLock, Deployment: repo.Spec.Deployment},
	}
	s.revs[key(ns, name)] = r
	out := s.view(r)
	s.emit(ns, watch.Added, out)
	return out.DeepCopy(), nil
}

// checkCreate validates a new draft's spec as Porch does before it creates
// anything, and returns its repository and name. Called with s.mu held.
func (s *store) checkCreate(ns string, spec *porchapi.PackageRevisionSpec) (*configapi.Repository, string, error) {
	if spec.RepositoryName == "" {
		return nil, "", apierrors.NewBadRequest("spec.repositoryName is required")
	}
	repo, ok := s.repos[key(ns, spec.RepositoryName)]
	if !ok {
		return nil, "", apierrors.NewNotFound(grRepositories, spec.RepositoryName)
	}
	if spec.Lifecycle != "" && spec.Lifecycle != draft {
		return nil, "", invalidError("spec.lifecycle", string(spec.Lifecycle), "value can be only created as Draft")
	}
	if errs := validation.IsDNS1123Label(spec.WorkspaceName); len(errs) > 0 {
		return nil, "", invalidError("spec.workspaceName", spec.WorkspaceName, strings.Join(errs, "; "))
	}
	for _, seg := range strings.Split(spec.PackageName, "/") {
		if errs := validation.IsDNS1123Label(seg); len(errs) > 0 {
			return nil, "", invalidError("spec.packageName", spec.PackageName, strings.Join(errs, "; "))
		}
	}
	if len(spec.Tasks) > 1 {
		return nil, "", internalError("task list must not contain more than one task")
	}
	name := spec.RepositoryName + "." + strings.ReplaceAll(spec.PackageName, "/", ".") + "." + spec.WorkspaceName
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return nil, "", internalError("failed to create packagerevision: package revision kubernetes resource name invalid: %s", strings.Join(errs, "; "))
	}
	return repo, name, nil
}

func revisionUID(ns, name string) types.UID {
	return types.UID(uuid.NewSHA1(uidNamespace, []byte("packagerevision:porch.kpt.dev/v1alpha1/"+strings.ToLower(ns)+"/"+strings.ToLower(name))).String())
}

// claimRevision claims a revision's per-object key, as Porch does for every
// write to a revision (what names the lock in the 409). Called without s.mu
// held.
func (s *store) claimRevision(ctx context.Context, ns, name string, gr schema.GroupResource, what string) (release func(), err error) {
	return s.claim(ctx, "obj/"+ns+"/"+name, busyError(gr, name, fmt.Sprintf("%s %q", what, ns+"/"+name)), func() error {
		_, err := s.getRevision(ns, name)
		return err
	})
}

// lockRevision claims a revision (claimRevision), then takes s.mu and
// looks the revision up again; unlock releases both. Called without s.mu
// held.
func (s *store) lockRevision(ctx context.Context, ns, name string, gr schema.GroupResource, what string) (r *revision, unlock func(), err error) {
	release, err := s.claimRevision(ctx, ns, name, gr, what)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	unlock = func() {
		s.mu.Unlock()
		release()
	}
	if r, err = s.getRevision(ns, name); err != nil {
		unlock()
		return nil, nil, err
	}
	return r, unlock, nil
}

// updateRevision is a plain PUT or a patch: propose, reject-to-draft of a
// DeletionProposed, propose-delete, metadata. input makes the new object
// from the current one. Called without s.mu held.
func (s *store) updateRevision(ctx context.Context, ns, name string, input func(current *porchapi.PackageRevision) (*porchapi.PackageRevision, error)) (*porchapi.PackageRevision, error) {
	r, unlock, err := s.lockRevision(ctx, ns, name, grPackageRevisions, "on package revision")
	if err != nil {
		return nil, err
	}
	defer unlock()
	in, err := input(s.view(r))
	if err != nil {
		return nil, err
	}
	if in.ResourceVersion == "" {
		return nil, internalError("resourceVersion must be specified for an update")
	}
	old := r.pr.Spec.Lifecycle
	to := in.Spec.Lifecycle
	if to == "" {
		to = draft
	}
	switch old {
	case draft, proposed:
		if to != draft && to != proposed {
			return nil, invalidError("spec.lifecycle", string(old), "value can be only updated to Draft,Proposed")
		}
	case published, deletionProposed:
		if to != published && to != deletionProposed {
			return nil, invalidError("spec.lifecycle", string(old), "value can be only updated to Published,DeletionProposed")
		}
		a, b := r.pr.Spec.DeepCopy(), in.Spec.DeepCopy()
		a.Lifecycle, b.Lifecycle = "", ""
		if !equality.Semantic.DeepEqual(a, b) {
			return nil, invalidError("spec", fmt.Sprintf("%+v", in.Spec), "spec can only update package with lifecycle value one of Draft,Proposed")
		}
	}
	if in.ResourceVersion != r.pr.ResourceVersion {
		return nil, staleError(grPackageRevisions, name)
	}
	if old == draft {
		// Porch re-renders and commits on every Draft update.
		resources, _, err := s.render(ctx, r.resources)
		if err != nil {
			return nil, err
		}
		r.resources = resources
		if len(in.Spec.ReadinessGates) > 0 {
			r.pr.Spec.ReadinessGates = in.Spec.ReadinessGates
		}
		if len(in.Status.Conditions) > 0 {
			r.pr.Status.Conditions = in.Status.Conditions
		}
		r.pr.ResourceVersion = s.nextVersion()
	}
	s.applyMetadata(r, in)
	r.pr.Spec.Lifecycle = to
	return s.finishUpdate(ns, r, old)
}

func (s *store) applyMetadata(r *revision, in *porchapi.PackageRevision) {
	labels := map[string]string{}
	for k, v := range in.Labels {
		if k != porchapi.LatestPackageRevisionKey || !s.isLatest(r) {
			labels[k] = v
		}
	}
	if len(labels) == 0 {
		labels = nil
	}
	r.pr.Labels, r.pr.Annotations = labels, in.Annotations
	r.pr.Finalizers, r.pr.OwnerReferences = in.Finalizers, in.OwnerReferences
}

// finishUpdate emits Porch's event pattern and performs a pending delete
// once the last finalizer is gone.
func (s *store) finishUpdate(ns string, r *revision, old porchapi.PackageRevisionLifecycle) (*porchapi.PackageRevision, error) {
	out := s.view(r)
	if r.pr.DeletionTimestamp != nil && len(r.pr.Finalizers) == 0 {
		delete(s.revs, key(ns, r.pr.Name))
		s.emit(ns, watch.Deleted, out)
		return out.DeepCopy(), nil
	}
	if old == draft || old == proposed {
		s.emit(ns, watch.Added, out)
	}
	s.emit(ns, watch.Modified, out)
	return out.DeepCopy(), nil
}

// approve is a PUT on /approval. Called without s.mu held.
func (s *store) approve(ctx context.Context, ns, name string, in *porchapi.PackageRevision) (*porchapi.PackageRevision, error) {
	r, unlock, err := s.lockRevision(ctx, ns, name, grPackageRevisions, "on package revision")
	if err != nil {
		return nil, err
	}
	defer unlock()
	old, to := r.pr.Spec.Lifecycle, in.Spec.Lifecycle
	switch old {
	case draft:
		return nil, invalidError("spec.lifecycle", string(to), "cannot approve package with Draft lifecycle value; only Proposed packages can be approved")
	case proposed:
		if to != published && to != draft {
			return nil, invalidError("spec.lifecycle", string(to), "value for approval can be only one of Draft,Published")
		}
	case published:
		if to != deletionProposed {
			return nil, invalidError("spec.lifecycle", string(to), "package with Published lifecycle value can only be updated to 'ProposeDeletion'")
		}
	case deletionProposed:
		if to != published {
			return nil, invalidError("spec.lifecycle", string(to), "package with DeletionProposed lifecycle value can only be updated to 'Published'")
		}
	}
	if in.ResourceVersion != "" && in.ResourceVersion != r.pr.ResourceVersion {
		return nil, staleError(grPackageRevisions, name)
	}
	s.applyMetadata(r, in)
	r.pr.Spec.Lifecycle = to
	if old == proposed && to == published {
		s.publish(ns, r)
	}
	return s.finishUpdate(ns, r, old)
}

// publish numbers the revision and moves the branch placeholder.
func (s *store) publish(ns string, r *revision) {
	max := 0
	for _, o := range s.revs {
		if o.pr.Namespace == ns && o.pr.Spec.RepositoryName == r.pr.Spec.RepositoryName && o.pr.Spec.PackageName == r.pr.Spec.PackageName &&
			isPublished(o.pr.Spec.Lifecycle) && o.pr.Spec.Revision > max {
			max = o.pr.Spec.Revision
		}
	}
	r.pr.Spec.Revision = max + 1
	r.pr.ResourceVersion = s.nextVersion()
	r.pr.Status.PublishedAt = metav1.Now()
	repo := s.repos[key(ns, r.pr.Spec.RepositoryName)]
	branch := "main"
	if repo != nil && repo.Spec.Git != nil && repo.Spec.Git.Branch != "" {
		branch = repo.Spec.Git.Branch
	}
	phName := r.pr.Spec.RepositoryName + "." + strings.ReplaceAll(r.pr.Spec.PackageName, "/", ".") + "." + branch
	ph, ok := s.revs[key(ns, phName)]
	if !ok {
		ph = &revision{}
		ph.pr.ObjectMeta = metav1.ObjectMeta{Name: phName, Namespace: ns, UID: revisionUID(ns, phName), CreationTimestamp: metav1.Now()}
		s.revs[key(ns, phName)] = ph
	}
	ph.resources = copyResources(r.resources)
	ph.pr.ResourceVersion = r.pr.ResourceVersion
	ph.pr.Spec = porchapi.PackageRevisionSpec{
		PackageName: r.pr.Spec.PackageName, RepositoryName: r.pr.Spec.RepositoryName, WorkspaceName: branch,
		Revision: -1, Lifecycle: published, Tasks: r.pr.Spec.Tasks,
	}
	ph.pr.Status = *r.pr.Status.DeepCopy()
}

func copyResources(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// deleteRevision deletes a revision, or marks it for deletion while it has
// finalizers. Called without s.mu held.
func (s *store) deleteRevision(ctx context.Context, ns, name string) (*porchapi.PackageRevision, error) {
	r, unlock, err := s.lockRevision(ctx, ns, name, grPackageRevisions, "on package revision")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if r.pr.Spec.Lifecycle == published && s.opts.deletionProtection {
		return nil, webhookDenied(name)
	}
	if len(r.pr.Finalizers) > 0 {
		if r.pr.DeletionTimestamp == nil {
			now := metav1.Now()
			r.pr.DeletionTimestamp = &now
		}
		out := s.view(r)
		s.emit(ns, watch.Modified, out)
		return out.DeepCopy(), nil
	}
	out := s.view(r)
	delete(s.revs, key(ns, name))
	s.emit(ns, watch.Deleted, out)
	return out.DeepCopy(), nil
}

// revisionFilter is Porch's field selector over package revisions.
type revisionFilter struct {
	name, namespace, repository, workspace, leaf string
	lifecycle                                    porchapi.PackageRevisionLifecycle
	revision                                     int
	hasRevision                                  bool
	labels                                       labels.Selector
}

func parseSelectors(fieldSel, labelSel string) (*revisionFilter, error) {
	f := &revisionFilter{labels: labels.Everything()}
	if labelSel != "" {
		sel, err := labels.Parse(labelSel)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		f.labels = sel
	}
	if fieldSel == "" {
		return f, nil
	}
	sel, err := fields.ParseSelector(fieldSel)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	for _, req := range sel.Requirements() {
		if req.Operator != "=" && req.Operator != "==" {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("unsupported fieldSelector operator %q for field %q", req.Operator, req.Field))
		}
		if req.Value == "" {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("unsupported fieldSelector value %q for field %q with operator %q", req.Value, req.Field, req.Operator))
		}
		switch req.Field {
		case "metadata.name":
			f.name = req.Value
		case "metadata.namespace":
			f.namespace = req.Value
		case "spec.repository":
			f.repository = req.Value
		case "spec.workspaceName":
			f.workspace = req.Value
		case "spec.packageName":
			f.leaf = req.Value
		case "spec.revision":
			n, err := strconv.Atoi(strings.TrimPrefix(req.Value, "v"))
			if err != nil {
				n = -1
			}
			f.revision, f.hasRevision = n, n != 0
		case "spec.lifecycle":
			l := porchapi.PackageRevisionLifecycle(req.Value)
			if l != draft && l != proposed && l != published && l != deletionProposed {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("unsupported fieldSelector value %q for field %q", req.Value, req.Field))
			}
			f.lifecycle = l
		default:
			return nil, apierrors.NewBadRequest(fmt.Sprintf("unknown fieldSelector field %q", req.Field))
		}
	}
	return f, nil
}

func (f *revisionFilter) matches(pr *porchapi.PackageRevision) bool {
	switch {
	case f.name != "" && pr.Name != f.name,
		f.namespace != "" && pr.Namespace != f.namespace,
		f.repository != "" && pr.Spec.RepositoryName != f.repository,
		f.workspace != "" && pr.Spec.WorkspaceName != f.workspace,
		f.leaf != "" && path.Base(pr.Spec.PackageName) != f.leaf,
		f.lifecycle != "" && pr.Spec.Lifecycle != f.lifecycle,
		f.hasRevision && pr.Spec.Revision != f.revision,
		!f.labels.Matches(labels.Set(pr.Labels)):
		return false
	}
	return true
}

func (s *store) listRevisions(ns string, f *revisionFilter) []*revision {
	var out []*revision
	for _, r := range s.revs {
		if r.pr.Namespace != ns {
			continue
		}
		if _, ok := s.repos[key(ns, r.pr.Spec.RepositoryName)]; !ok {
			continue
		}
		if ready, _ := repositoryReady(s.repos[key(ns, r.pr.Spec.RepositoryName)]); !ready {
			continue
		}
		if f.matches(s.view(r)) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pr.Name < out[j].pr.Name })
	return out
}

// ---- resources -------------------------------------------------------------

// updateResources replaces a draft's files and renders them. Called
// without s.mu held.
func (s *store) updateResources(ctx context.Context, ns, name string, in *porchapi.PackageRevisionResources) (*porchapi.PackageRevisionResources, error) {
	r, unlock, err := s.lockRevision(ctx, ns, name, grResources, "on package revision resources")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if in.ResourceVersion == "" {
		return nil, internalError("resourceVersion must be specified for an update")
	}
	if r.pr.Spec.Lifecycle != draft {
		return nil, internalError("cannot update a package revision with lifecycle value %q; package must be Draft", r.pr.Spec.Lifecycle)
	}
	if in.ResourceVersion != r.pr.ResourceVersion {
		return nil, staleError(grResources, name)
	}
	if _, ok := in.Spec.Resources["Kptfile"]; !ok {
		return nil, internalError("package must contain Kptfile at root: file does not exist")
	}
	resources, status, err := s.render(ctx, copyResources(in.Spec.Resources))
	if err != nil {
		return nil, err
	}
	r.resources = resources
	r.pr.ResourceVersion = s.nextVersion()
	s.emit(ns, watch.Added, s.view(r))
	out := s.resourcesView(r)
	if status != nil {
		out.Status.RenderStatus = *status
	}
	return out, nil
}

// render runs the configured renderer with the request's context, as Porch
// renders after every change. A failure saves nothing.
func (s *store) render(ctx context.Context, resources map[string]string) (map[string]string, *porchapi.RenderStatus, error) {
	if s.opts.renderer == nil {
		return resources, nil, nil
	}
	out, status, err := s.opts.renderer.Render(ctx, resources)
	if err != nil {
		return nil, nil, internalError("\nError occurred rendering package in kpt function pipeline.\nPackage has NOT been pushed to remote.\nPlease fix package locally (modify until 'kpt fn render' succeeds) and retry.\nDetails:\nfn.render: %v", err)
	}
	return out, status, nil
}

// ---- repositories ----------------------------------------------------------

func repositoryReady(repo *configapi.Repository) (bool, string) {
	c := meta.FindStatusCondition(repo.Status.Conditions, configapi.RepositoryReady)
	if c == nil {
		return false, ""
	}
	return c.Status == metav1.ConditionTrue, c.Message
}

func (s *store) createRepository(ns string, in *configapi.Repository) (*configapi.Repository, error) {
	if errs := validation.IsDNS1123Label(in.Name); len(errs) > 0 {
		return nil, invalidError("metadata.name", in.Name, strings.Join(errs, "; "))
	}
	if _, ok := s.repos[key(ns, in.Name)]; ok {
		return nil, apierrors.NewAlreadyExists(grRepositories, in.Name)
	}
	repo := in.DeepCopy()
	repo.Namespace, repo.UID, repo.Generation = ns, types.UID(uuid.NewString()), 1
	repo.ResourceVersion, repo.CreationTimestamp = s.nextVersion(), metav1.Now()
	if repo.Spec.Git != nil && repo.Spec.Git.Branch == "" {
		repo.Spec.Git.Branch = "main"
	}
	created := repo.DeepCopy()
	msg := s.repositoryError(repo)
	cond := metav1.Condition{Type: configapi.RepositoryReady, Status: metav1.ConditionTrue, Reason: configapi.ReasonReady,
		Message: "Repository Ready", ObservedGeneration: 1, LastTransitionTime: metav1.Now()}
	if msg != "" {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, configapi.ReasonError, msg
	}
	meta.SetStatusCondition(&repo.Status.Conditions, cond)
	s.repos[key(ns, in.Name)] = repo
	return created, nil
}

func (s *store) setRepositoryReady(ns, name string, ready bool, msg string) error {
	repo, ok := s.repos[key(ns, name)]
	if !ok {
		return apierrors.NewNotFound(grRepositories, name)
	}
	cond := metav1.Condition{Type: configapi.RepositoryReady, Status: metav1.ConditionTrue, Reason: configapi.ReasonReady,
		Message: "Repository Ready", ObservedGeneration: repo.Generation, LastTransitionTime: metav1.Now()}
	if !ready {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, configapi.ReasonError, msg
	}
	meta.SetStatusCondition(&repo.Status.Conditions, cond)
	repo.ResourceVersion = s.nextVersion()
	return nil
}

func (s *store) deleteRepository(ns, name string) error {
	if _, ok := s.repos[key(ns, name)]; !ok {
		return apierrors.NewNotFound(grRepositories, name)
	}
	delete(s.repos, key(ns, name))
	for k, r := range s.revs {
		if r.pr.Namespace == ns && r.pr.Spec.RepositoryName == name {
			out := s.view(r)
			delete(s.revs, k)
			s.emit(ns, watch.Deleted, out)
		}
	}
	return nil
}

// repositoryError is the Ready=False message Porch would report for repo,
// or "" when it would open.
func (s *store) repositoryError(repo *configapi.Repository) string {
	if s.opts.gitAuth.Username != "" && repo.Spec.Git != nil {
		sec, ok := s.secrets[key(repo.Namespace, repo.Spec.Git.SecretRef.Name)]
		if !ok || string(sec.Data["username"]) != s.opts.gitAuth.Username || string(sec.Data["password"]) != s.opts.gitAuth.Password {
			return "failed to open repository: authentication required"
		}
	}
	if s.opts.repositoryCheck == nil {
		return ""
	}
	return s.opts.repositoryCheck(repo)
}
