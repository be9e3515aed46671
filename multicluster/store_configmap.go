package multicluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// ConfigMapStore keeps rollout records in ConfigMaps of a (management)
// cluster, so that progress survives the propagating process: one
// ConfigMap per rollout for the summary and the waves, and the per-cluster
// states in shards of at most ClustersPerShard clusters, each well under
// the 1 MiB object limit.
type ConfigMapStore struct {
	client    kubernetes.Interface
	namespace string
	// ClustersPerShard bounds the clusters of one shard ConfigMap
	// (default DefaultClustersPerShard).
	ClustersPerShard int
}

// DefaultClustersPerShard keeps a shard near 300 KiB with long messages.
const DefaultClustersPerShard = 2000

// Labels of a ConfigMapStore's ConfigMaps: rolloutLabel marks those of a
// rollout, packageLabel its package, and partLabel "record" the one with
// the summary (not a shard of clusters), so that Unfinished lists them.
const (
	rolloutLabel = "porchkit.io/rollout"
	packageLabel = "porchkit.io/package"
	partLabel    = "porchkit.io/part"
)

// NewConfigMapStore returns a store in namespace (which must exist).
func NewConfigMapStore(client kubernetes.Interface, namespace string) *ConfigMapStore {
	return &ConfigMapStore{client: client, namespace: namespace, ClustersPerShard: DefaultClustersPerShard}
}

func (s *ConfigMapStore) name(id ID, shard int) string {
	if shard < 0 {
		return "porchkit-rollout-" + string(id)
	}
	return fmt.Sprintf("porchkit-rollout-%s-%d", id, shard)
}

// Save implements StateStore.
func (s *ConfigMapStore) Save(ctx context.Context, r *Record) error {
	head := *r
	head.Clusters = nil
	body, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("%w: encoding rollout %s: %w", ErrStore, r.ID, err)
	}
	names := make([]string, 0, len(r.Clusters))
	for n := range r.Clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	per := max(1, s.ClustersPerShard)
	shards := (len(names) + per - 1) / per
	// Shards first, the head last: a reader never finds a head that counts
	// a shard not written yet.
	for i := 0; i < shards; i++ {
		part := map[string]ClusterRecord{}
		for _, n := range names[i*per : min(len(names), (i+1)*per)] {
			part[n] = r.Clusters[n]
		}
		b, err := json.Marshal(part)
		if err != nil {
			return fmt.Errorf("%w: encoding rollout %s shard %d: %w", ErrStore, r.ID, i, err)
		}
		if err := s.put(ctx, r, i, map[string]string{"clusters": string(b)}); err != nil {
			return err
		}
	}
	if err := s.put(ctx, r, -1, map[string]string{"record": string(body), "shards": strconv.Itoa(shards)}); err != nil {
		return err
	}
	return nil
}

func (s *ConfigMapStore) put(ctx context.Context, r *Record, shard int, data map[string]string) error {
	id := r.ID
	cms := s.client.CoreV1().ConfigMaps(s.namespace)
	labels := map[string]string{rolloutLabel: string(id), packageLabel: r.Package, partLabel: "shard"}
	if shard < 0 {
		labels[partLabel] = "record"
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: s.name(id, shard), Namespace: s.namespace,
		Labels: labels}, Data: data}
	_, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("%w: saving rollout %s: %w", ErrStore, id, err)
	}
	return nil
}

// Load implements StateStore.
func (s *ConfigMapStore) Load(ctx context.Context, id ID) (*Record, error) {
	cms := s.client.CoreV1().ConfigMaps(s.namespace)
	cm, err := cms.Get(ctx, s.name(id, -1), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRollout, id)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: loading rollout %s: %w", ErrStore, id, err)
	}
	var r Record
	if err := json.Unmarshal([]byte(cm.Data["record"]), &r); err != nil {
		return nil, fmt.Errorf("%w: decoding rollout %s: %w", ErrStore, id, err)
	}
	shards, err := strconv.Atoi(cm.Data["shards"])
	if err != nil {
		return nil, fmt.Errorf("%w: rollout %s: shard count %q: %w", ErrStore, id, cm.Data["shards"], err)
	}
	r.Clusters = map[string]ClusterRecord{}
	for i := 0; i < shards; i++ {
		part, err := cms.Get(ctx, s.name(id, i), metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%w: loading rollout %s shard %d: %w", ErrStore, id, i, err)
		}
		var m map[string]ClusterRecord
		if err := json.Unmarshal([]byte(part.Data["clusters"]), &m); err != nil {
			return nil, fmt.Errorf("%w: decoding rollout %s shard %d: %w", ErrStore, id, i, err)
		}
		for k, v := range m {
			r.Clusters[k] = v
		}
	}
	return &r, nil
}

// Unfinished implements RecordLister: it lists the summary ConfigMaps of
// pkg's rollouts and loads those not finished.
func (s *ConfigMapStore) Unfinished(ctx context.Context, pkg string) ([]*Record, error) {
	sel := labels.SelectorFromSet(labels.Set{packageLabel: pkg, partLabel: "record"}).String()
	list, err := s.client.CoreV1().ConfigMaps(s.namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("%w: listing rollouts of %s: %w", ErrStore, pkg, err)
	}
	var out []*Record
	for _, cm := range list.Items {
		var head Record
		if err := json.Unmarshal([]byte(cm.Data["record"]), &head); err != nil {
			return nil, fmt.Errorf("%w: decoding %s: %w", ErrStore, cm.Name, err)
		}
		if head.Phase.finished() {
			continue
		}
		r, err := s.Load(ctx, head.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
