//lint:file-ignore SA1019 kyaml still writes the legacy path, index and id annotations, which must never be applied

package applier

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/apply"
	"sigs.k8s.io/cli-utils/pkg/apply/event"
	"sigs.k8s.io/cli-utils/pkg/common"
	"sigs.k8s.io/cli-utils/pkg/inventory"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/cli-utils/pkg/object"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"

	"github.com/nephoran/porchkit/multicluster"
)

// Defaults of a Backend.
const (
	// DefaultNamespace holds the inventories and revision histories, and
	// is the namespace of namespaced resources that name none.
	DefaultNamespace = "porchkit-system"
	// DefaultHistory is how many revisions of a package a cluster keeps
	// for rollback.
	DefaultHistory = 5
	// DefaultFieldManager is the server-side apply field manager.
	DefaultFieldManager = "porchkit"
	// DefaultPruneTimeout bounds waiting for pruned objects to go.
	DefaultPruneTimeout = time.Minute
	// DefaultReconcileTimeout bounds how long Deliver waits for a group of
	// applied objects to become Current before it applies the objects that
	// depend on them (cli-utils' dependency order); readiness itself is
	// judged by Observe, not by Deliver.
	DefaultReconcileTimeout = 2 * time.Second
)

// Backend delivers revisions by server-side apply (cli-utils) and judges
// them with kstatus. It implements multicluster.Backend and is safe for
// concurrent use.
type Backend struct {
	cfg     Config
	clients clientCache
}

// Config configures a Backend. Zero values take the documented defaults.
type Config struct {
	// Namespace holds the inventories and revision histories, and is the
	// namespace of namespaced resources that name none; it is created
	// when missing ("": DefaultNamespace).
	Namespace string
	// History is how many revisions of a package a cluster keeps for
	// rollback (0: DefaultHistory; at least 2).
	History int
	// FieldManager is the server-side apply field manager ("":
	// DefaultFieldManager).
	FieldManager string
	// PruneTimeout bounds waiting for pruned objects to go (0:
	// DefaultPruneTimeout).
	PruneTimeout time.Duration
	// ReconcileTimeout is how long Deliver waits for each group of applied
	// objects to become Current before it applies the objects that depend
	// on them (0: DefaultReconcileTimeout; negative: it does not wait).
	ReconcileTimeout time.Duration
}

// New returns a Backend.
func New(cfg Config) *Backend {
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if cfg.History == 0 {
		cfg.History = DefaultHistory
	}
	cfg.History = max(2, cfg.History)
	if cfg.FieldManager == "" {
		cfg.FieldManager = DefaultFieldManager
	}
	if cfg.PruneTimeout == 0 {
		cfg.PruneTimeout = DefaultPruneTimeout
	}
	if cfg.ReconcileTimeout == 0 {
		cfg.ReconcileTimeout = DefaultReconcileTimeout
	}
	return &Backend{cfg: cfg}
}

var _ multicluster.Backend = (*Backend)(nil)

func (b *Backend) clientsFor(c *multicluster.Cluster) (*clients, error) {
	cfg, err := multicluster.RESTConfig(c)
	if err != nil {
		return nil, err
	}
	return b.clients.get(c.Name, cfg)
}

func inventoryName(pkg string) string { return "porchkit-inventory-" + pkg }
func historyName(pkg string) string   { return "porchkit-revisions-" + pkg }

func (b *Backend) inventoryInfo(pkg string) inventory.Info {
	cm := &unstructured.Unstructured{}
	cm.SetAPIVersion("v1")
	cm.SetKind("ConfigMap")
	cm.SetName(inventoryName(pkg))
	cm.SetNamespace(b.cfg.Namespace)
	cm.SetLabels(map[string]string{common.InventoryLabel: "porchkit-" + pkg})
	return inventory.WrapInventoryInfoObj(cm)
}

// Deliver implements multicluster.Backend: it applies the revision's
// resources, prunes those of the package that the revision no longer has,
// and records the revision in the cluster's history. It returns without
// waiting for readiness.
func (b *Backend) Deliver(ctx context.Context, c *multicluster.Cluster, rev *multicluster.Revision) error {
	cl, err := b.clientsFor(c)
	if err != nil {
		return err
	}
	if err := b.ensureNamespace(ctx, cl); err != nil {
		return classify(c.Name, err)
	}
	objs, err := b.objects(cl, rev)
	if err != nil {
		return classify(c.Name, err)
	}
	inv, err := inventory.ClusterClientFactory{StatusPolicy: inventory.StatusPolicyNone}.NewClient(cl.factory)
	if err != nil {
		return classify(c.Name, err)
	}
	a, err := apply.NewApplierBuilder().WithFactory(cl.factory).WithInventoryClient(inv).Build()
	if err != nil {
		return classify(c.Name, err)
	}
	events := a.Run(ctx, b.inventoryInfo(rev.Package), objs, apply.ApplierOptions{
		ServerSideOptions: common.ServerSideOptions{ServerSideApply: true, ForceConflicts: true, FieldManager: b.cfg.FieldManager},
		InventoryPolicy:   inventory.PolicyAdoptIfNoInventory,
		PruneTimeout:      b.cfg.PruneTimeout,
		ReconcileTimeout:  max(time.Nanosecond, b.cfg.ReconcileTimeout), // 0 would wait forever
	})
	if err := firstError(events); err != nil {
		cl.mapper.Reset()
		cl.mu.Lock()
		cl.namespace = false // check it again next time
		cl.mu.Unlock()
		return classify(c.Name, fmt.Errorf("applying %s: %w", rev.ID, err))
	}
	return classify(c.Name, b.record(ctx, cl, rev))
}

// firstError drains the applier's events and returns the first error.
func firstError(events <-chan event.Event) error {
	var errs []error
	for e := range events {
		var err error
		switch e.Type {
		case event.ErrorType:
			err = e.ErrorEvent.Err
		case event.ApplyType:
			if e.ApplyEvent.Error != nil {
				err = fmt.Errorf("%s: %w", e.ApplyEvent.Identifier, e.ApplyEvent.Error)
			}
		case event.PruneType:
			if e.PruneEvent.Error != nil {
				err = fmt.Errorf("pruning %s: %w", e.PruneEvent.Identifier, e.PruneEvent.Error)
			}
		case event.DeleteType:
			if e.DeleteEvent.Error != nil {
				err = fmt.Errorf("deleting %s: %w", e.DeleteEvent.Identifier, e.DeleteEvent.Error)
			}
		case event.ValidationType:
			if e.ValidationEvent.Error != nil {
				err = e.ValidationEvent.Error
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// objects converts the revision's resources, giving namespaced ones
// without a namespace the backend's.
func (b *Backend) objects(cl *clients, rev *multicluster.Revision) (object.UnstructuredSet, error) {
	out := make(object.UnstructuredSet, 0, len(rev.Resources))
	for _, n := range rev.Resources {
		data, err := n.MarshalJSON()
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, err
		}
		for _, a := range bookkeeping {
			anns := u.GetAnnotations()
			if _, ok := anns[a]; ok {
				delete(anns, a)
				u.SetAnnotations(anns)
			}
		}
		if u.GetNamespace() == "" {
			gvk := u.GroupVersionKind()
			mapping, err := cl.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", gvk.Kind, u.GetName(), err)
			}
			if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
				u.SetNamespace(b.cfg.Namespace)
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// bookkeeping are kpt's and kio's annotations, never applied.
var bookkeeping = []string{string(kioutil.PathAnnotation), string(kioutil.IndexAnnotation), string(kioutil.LegacyPathAnnotation),
	string(kioutil.LegacyIndexAnnotation), string(kioutil.IdAnnotation), string(kioutil.LegacyIdAnnotation)}

func (b *Backend) ensureNamespace(ctx context.Context, cl *clients) error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.namespace {
		return nil
	}
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(b.cfg.Namespace)
	data, err := ns.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = cl.dynamic.Resource(corev1.SchemeGroupVersion.WithResource("namespaces")).Patch(ctx, b.cfg.Namespace,
		types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: b.cfg.FieldManager})
	cl.namespace = err == nil
	return err
}

var configMaps = corev1.SchemeGroupVersion.WithResource("configmaps")

// history is a package's revision history ConfigMap: data "current" and
// "order" (oldest first, comma-separated), and one key per revision.
func (b *Backend) history(ctx context.Context, cl *clients, pkg string) (*unstructured.Unstructured, error) {
	cm, err := cl.dynamic.Resource(configMaps).Namespace(b.cfg.Namespace).Get(ctx, historyName(pkg), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return cm, err
}

func revisionKey(id string) string { return "rev." + id }

// record makes rev the current revision in the cluster's history.
func (b *Backend) record(ctx context.Context, cl *clients, rev *multicluster.Revision) error {
	var sb strings.Builder
	for i, n := range rev.Resources {
		if i > 0 {
			sb.WriteString("---\n")
		}
		sb.WriteString(n.MustString())
	}
	cm, err := b.history(ctx, cl, rev.Package)
	if err != nil {
		return err
	}
	data := map[string]string{}
	if cm != nil {
		data, _, _ = unstructured.NestedStringMap(cm.Object, "data")
	}
	var order []string
	if data["order"] != "" {
		order = strings.Split(data["order"], ",")
	}
	order = slices.DeleteFunc(order, func(id string) bool { return id == rev.ID })
	order = append(order, rev.ID)
	for len(order) > b.cfg.History {
		delete(data, revisionKey(order[0]))
		order = order[1:]
	}
	data["order"] = strings.Join(order, ",")
	data["current"] = rev.ID
	data[revisionKey(rev.ID)] = sb.String()
	out := &unstructured.Unstructured{Object: map[string]any{}}
	out.SetAPIVersion("v1")
	out.SetKind("ConfigMap")
	out.SetName(historyName(rev.Package))
	out.SetNamespace(b.cfg.Namespace)
	out.SetLabels(map[string]string{multicluster.PackageAnnotation: rev.Package})
	if err := unstructured.SetNestedStringMap(out.Object, data, "data"); err != nil {
		return err
	}
	body, err := out.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	_, err = cl.dynamic.Resource(configMaps).Namespace(b.cfg.Namespace).Patch(ctx, historyName(rev.Package), types.ApplyPatchType,
		body, metav1.PatchOptions{FieldManager: b.cfg.FieldManager, Force: &force})
	return err
}

func parseRevision(pkg, id, text string) (*multicluster.Revision, error) {
	nodes, err := kio.FromBytes([]byte(text))
	if err != nil {
		return nil, err
	}
	return &multicluster.Revision{Package: pkg, ID: id, Resources: nodes}, nil
}

// Current implements multicluster.Backend.
func (b *Backend) Current(ctx context.Context, c *multicluster.Cluster, pkg string) (*multicluster.Revision, error) {
	cl, err := b.clientsFor(c)
	if err != nil {
		return nil, err
	}
	cm, err := b.history(ctx, cl, pkg)
	if err != nil || cm == nil {
		return nil, classify(c.Name, err)
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	id := data["current"]
	if id == "" {
		return nil, nil
	}
	return parseRevision(pkg, id, data[revisionKey(id)])
}

// Get implements multicluster.Backend.
func (b *Backend) Get(ctx context.Context, c *multicluster.Cluster, pkg, id string) (*multicluster.Revision, error) {
	cl, err := b.clientsFor(c)
	if err != nil {
		return nil, err
	}
	cm, err := b.history(ctx, cl, pkg)
	if err != nil {
		return nil, classify(c.Name, err)
	}
	if cm != nil {
		data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
		if text, ok := data[revisionKey(id)]; ok {
			return parseRevision(pkg, id, text)
		}
	}
	return nil, fmt.Errorf("%w: %s %s on %s", multicluster.ErrUnknownRevision, pkg, id, c.Name)
}

// Observe implements multicluster.Backend: every object of the revision
// must exist, carry the revision's annotation, and be Current by kstatus
// (which also requires status.observedGeneration to have caught up).
func (b *Backend) Observe(ctx context.Context, c *multicluster.Cluster, rev *multicluster.Revision) (multicluster.Observation, error) {
	cl, err := b.clientsFor(c)
	if err != nil {
		return multicluster.Observation{}, err
	}
	objs, err := b.objects(cl, rev)
	if err != nil {
		return multicluster.Observation{}, classify(c.Name, err)
	}
	var waiting []string
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		mapping, err := cl.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return multicluster.Observation{}, classify(c.Name, err)
		}
		var ri interface {
			Get(context.Context, string, metav1.GetOptions, ...string) (*unstructured.Unstructured, error)
		} = cl.dynamic.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = cl.dynamic.Resource(mapping.Resource).Namespace(u.GetNamespace())
		}
		live, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			waiting = append(waiting, fmt.Sprintf("%s %s not found", gvk.Kind, u.GetName()))
			continue
		}
		if err != nil {
			return multicluster.Observation{}, classify(c.Name, err)
		}
		if got := live.GetAnnotations()[multicluster.RevisionAnnotation]; got != rev.ID {
			waiting = append(waiting, fmt.Sprintf("%s %s is at revision %q", gvk.Kind, u.GetName(), got))
			continue
		}
		res, err := status.Compute(live)
		if err != nil {
			return multicluster.Observation{}, err
		}
		switch res.Status {
		case status.CurrentStatus:
		case status.FailedStatus:
			return multicluster.Observation{State: multicluster.DeliveryFailed, Message: fmt.Sprintf("%s %s: %s", gvk.Kind, u.GetName(), res.Message)}, nil
		default:
			waiting = append(waiting, fmt.Sprintf("%s %s %s: %s", gvk.Kind, u.GetName(), res.Status, res.Message))
		}
	}
	if len(waiting) > 0 {
		return multicluster.Observation{State: multicluster.DeliveryProgressing, Message: strings.Join(waiting, "; ")}, nil
	}
	return multicluster.Observation{State: multicluster.DeliveryAvailable, Message: fmt.Sprintf("%d objects of %s Current", len(objs), rev.ID)}, nil
}

// Remove implements multicluster.Backend: it deletes every object in the
// package's inventory, the inventory, and the history.
func (b *Backend) Remove(ctx context.Context, c *multicluster.Cluster, pkg string) error {
	cl, err := b.clientsFor(c)
	if err != nil {
		return err
	}
	inv, err := inventory.ClusterClientFactory{StatusPolicy: inventory.StatusPolicyNone}.NewClient(cl.factory)
	if err != nil {
		return classify(c.Name, err)
	}
	d, err := apply.NewDestroyerBuilder().WithFactory(cl.factory).WithInventoryClient(inv).Build()
	if err != nil {
		return classify(c.Name, err)
	}
	if err := firstError(d.Run(ctx, b.inventoryInfo(pkg), apply.DestroyerOptions{InventoryPolicy: inventory.PolicyAdoptIfNoInventory, DeleteTimeout: b.cfg.PruneTimeout})); err != nil {
		return classify(c.Name, fmt.Errorf("removing %s: %w", pkg, err))
	}
	err = cl.dynamic.Resource(configMaps).Namespace(b.cfg.Namespace).Delete(ctx, historyName(pkg), metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		err = nil
	}
	return classify(c.Name, err)
}

// classify wraps errors that mean the cluster did not answer with
// multicluster.ErrUnreachable, and rejected credentials with
// multicluster.ErrUnauthorized.
func classify(cluster string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case apierrors.IsUnauthorized(err), apierrors.IsForbidden(err):
		return &multicluster.ClusterError{Cluster: cluster, Err: fmt.Errorf("%w: %w", multicluster.ErrUnauthorized, err)}
	case unreachable(err):
		return &multicluster.ClusterError{Cluster: cluster, Err: fmt.Errorf("%w: %w", multicluster.ErrUnreachable, err)}
	}
	return &multicluster.ClusterError{Cluster: cluster, Err: err}
}

func unreachable(err error) bool {
	var ue *url.Error
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.As(err, &oe):
		return true
	case errors.As(err, &ue), errors.As(err, &ne) && ne.Timeout():
		return true
	}
	// Discovery and the RESTMapper flatten transport errors into text.
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "no route to host") ||
		strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "connection reset")
}
