package multicluster

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio/filters"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Annotations porchkit puts on every delivered resource; gates compare
// them with the revision being rolled out, never trusting older status.
const (
	// PackageAnnotation names the package a resource belongs to.
	PackageAnnotation = "porchkit.io/package"
	// RevisionAnnotation is the per-cluster revision ID a resource was
	// delivered with.
	RevisionAnnotation = "porchkit.io/revision"
)

// Package is what is propagated: a named, versioned set of resources
// (the content of a published Porch package revision, for instance).
type Package struct {
	// Name is the package's name, e.g. "upf"; a DNS-1123 label.
	Name string
	// Revision names this version, e.g. "v3".
	Revision string
	// Resources are the package's resources before per-cluster
	// customisation.
	Resources []*yaml.RNode
}

// Revision is a package customised for one cluster (or the same for
// every cluster, without a Customizer): the unit backends deliver and roll
// back to. It is not modified once made.
type Revision struct {
	// Package is the package's name.
	Package string
	// ID is the package revision and a hash of the customised content
	// ("v3-1a2b3c4d5e"); equal IDs mean equal content.
	ID string
	// Resources carry PackageAnnotation and RevisionAnnotation.
	Resources []*yaml.RNode
}

// NewRevision stamps customised resources with the package and a content
// ID derived from pkgRevision and the resources: their values, tags and
// structure, not their comments or quoting styles.
func NewRevision(pkg, pkgRevision string, resources []*yaml.RNode) (*Revision, error) {
	h := sha256.New()
	nh := &nodeHasher{h: h}
	out := make([]*yaml.RNode, 0, len(resources))
	for _, r := range resources {
		c := r.Copy()
		_ = c.PipeE(yaml.ClearAnnotation(RevisionAnnotation))
		if len(c.GetAnnotations()) == 0 { // an emptied map is no content
			_ = c.PipeE(yaml.Lookup(yaml.MetadataField), yaml.FieldClearer{Name: yaml.AnnotationsField})
		}
		nh.node(c.YNode(), 0)
		h.Write([]byte{0})
		out = append(out, c)
	}
	id := pkgRevision + "-" + hex.EncodeToString(h.Sum(nil))[:10]
	for _, c := range out {
		if err := c.PipeE(yaml.SetAnnotation(PackageAnnotation, pkg)); err != nil {
			return nil, err
		}
		if err := c.PipeE(yaml.SetAnnotation(RevisionAnnotation, id)); err != nil {
			return nil, err
		}
	}
	return &Revision{Package: pkg, ID: id, Resources: out}, nil
}

// maxHashDepth bounds the nesting nodeHasher follows (aliases included), so
// that a cyclic alias cannot loop.
const maxHashDepth = 512

// nodeHasher writes a node tree's kind, tag, value and children to a
// hash, each length prefixed so that no two trees write the same bytes.
// Walking the tree costs a fraction of encoding it as YAML, which
// dominated rendering for thousands of clusters.
type nodeHasher struct {
	h   hash.Hash
	buf [binary.MaxVarintLen64]byte
}

func (nh *nodeHasher) put(s string) {
	nh.h.Write(nh.buf[:binary.PutUvarint(nh.buf[:], uint64(len(s)))])
	nh.h.Write([]byte(s))
}

// node hashes n. A scalar without an explicit tag is hashed as quoted or
// plain (its YAML type follows from that and its value), so that resolving
// its type is not needed.
func (nh *nodeHasher) node(n *yaml.Node, depth int) {
	if n == nil || depth > maxHashDepth {
		nh.h.Write([]byte{0xff})
		return
	}
	nh.h.Write([]byte{byte(n.Kind)})
	if n.Kind == yaml.AliasNode {
		nh.node(n.Alias, depth+1)
		return
	}
	tag := n.Tag
	if tag == "" && n.Kind == yaml.ScalarNode {
		tag = "plain"
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			tag = "!!str"
		}
	}
	nh.put(tag)
	nh.put(n.Value)
	nh.h.Write(nh.buf[:binary.PutUvarint(nh.buf[:], uint64(len(n.Content)))])
	for _, c := range n.Content {
		nh.node(c, depth+1)
	}
}

// DeliveryState is how far a cluster is with a revision.
type DeliveryState string

// Delivery states.
const (
	// DeliveryProgressing: delivered, not yet Available.
	DeliveryProgressing DeliveryState = "Progressing"
	// DeliveryAvailable: every resource of this exact revision is current
	// (kstatus Current: observedGeneration caught up, workloads ready).
	DeliveryAvailable DeliveryState = "Available"
	// DeliveryFailed: the revision cannot become Available.
	DeliveryFailed DeliveryState = "Failed"
)

// Observation is what Backend.Observe saw.
type Observation struct {
	// State is how far the revision has got on the cluster.
	State DeliveryState
	// Message says why, in the backend's or the cluster's words (e.g.
	// which resource is not yet current).
	Message string
}

// Backend delivers revisions to clusters. A Revision may be shared by
// several clusters (one rendered without a Customizer serves them all):
// a Backend must not modify it. Implementations: the direct
// applier (server-side apply with an inventory), the Porch backend
// (GitOps through deployment repositories), and memfleet's in-memory
// clusters. Errors that mean the cluster could not be reached wrap
// ErrUnreachable; rejected credentials wrap ErrUnauthorized.
type Backend interface {
	// Deliver makes rev the cluster's desired state for rev.Package; it
	// returns once the change is accepted, not when it is Available.
	Deliver(ctx context.Context, c *Cluster, rev *Revision) error
	// Observe reports the cluster's progress with exactly rev: resources
	// still at another revision are Progressing.
	Observe(ctx context.Context, c *Cluster, rev *Revision) (Observation, error)
	// Current returns the revision of pkg the cluster runs (nil when it
	// has none).
	Current(ctx context.Context, c *Cluster, pkg string) (*Revision, error)
	// Get returns an earlier revision of pkg on the cluster by ID, for
	// rolling back after a restart (ErrUnknownRevision when the backend
	// no longer has it).
	Get(ctx context.Context, c *Cluster, pkg, id string) (*Revision, error)
	// Remove deletes pkg from the cluster.
	Remove(ctx context.Context, c *Cluster, pkg string) error
}

// Customizer renders a package for one cluster.
type Customizer interface {
	// Customize returns pkg's resources as they are to be delivered to c.
	// It is called concurrently for several clusters with the same pkg,
	// which it must not modify.
	Customize(ctx context.Context, c *Cluster, pkg *Package) ([]*yaml.RNode, error)
}

// CustomizerFunc is a Customizer written as a func.
type CustomizerFunc func(ctx context.Context, c *Cluster, pkg *Package) ([]*yaml.RNode, error)

// Customize implements Customizer.
func (f CustomizerFunc) Customize(ctx context.Context, c *Cluster, pkg *Package) ([]*yaml.RNode, error) {
	return f(ctx, c, pkg)
}

// render customises pkg for c and stamps the revision. Every backend
// delivers what render returns, so that local-config resources are
// dropped here, in one place, after customisation: the customizer still
// sees them (KRM functions read the Kptfile and the package context).
func render(ctx context.Context, cust Customizer, c *Cluster, pkg *Package) (*Revision, error) {
	resources := pkg.Resources
	if cust != nil {
		var err error
		if resources, err = cust.Customize(ctx, c, pkg); err != nil {
			return nil, &ClusterError{Cluster: c.Name, Err: fmt.Errorf("%w: %w", ErrRenderFailed, err)}
		}
	}
	rev, err := NewRevision(pkg.Name, pkg.Revision, deliverable(resources))
	if err != nil {
		return nil, &ClusterError{Cluster: c.Name, Err: fmt.Errorf("%w: %w", ErrRenderFailed, err)}
	}
	return rev, nil
}

// deliverable drops the resources that are never applied to a cluster:
// those annotated config.kubernetes.io/local-config with any value but
// "false" (as kpt reads it), and the Kptfile, whatever its annotations.
func deliverable(resources []*yaml.RNode) []*yaml.RNode {
	out := make([]*yaml.RNode, 0, len(resources))
	for _, r := range resources {
		if IsLocalConfig(r) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// IsLocalConfig reports whether a resource is local configuration that no
// backend delivers: annotated config.kubernetes.io/local-config with any
// value but "false" (the package-context ConfigMap, for instance), or a
// Kptfile (kind Kptfile of a kpt.dev API group).
func IsLocalConfig(r *yaml.RNode) bool {
	if v, ok := r.GetAnnotations()[filters.LocalConfigAnnotation]; ok && v != "false" {
		return true
	}
	return r.GetKind() == "Kptfile" && strings.HasPrefix(r.GetApiVersion(), "kpt.dev/")
}
