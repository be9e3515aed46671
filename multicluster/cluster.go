package multicluster

import (
	"time"

	"k8s.io/client-go/rest"
)

// Cluster is a registered workload cluster.
type Cluster struct {
	// Name identifies the cluster; a DNS-1123 label.
	Name string
	// Config reaches the cluster's API server. Either Config or
	// Kubeconfig is needed by backends that talk to the cluster.
	Config *rest.Config
	// Kubeconfig is a kubeconfig file's content, used when Config is nil.
	Kubeconfig []byte
	// Repository is the Porch deployment repository that feeds the
	// cluster (optional; the Porch backend needs it).
	Repository string
	// Labels are matched by label selectors.
	Labels map[string]string
	// Region, Zone and Environment place the cluster.
	Region, Zone, Environment string
	// Capabilities the cluster offers ("sriov", "gpu", "5g-upf", ...).
	Capabilities []string
	// Capacity is what the cluster can still take, by resource name:
	// "cpu" in millicores, "memory" in bytes, "pods" and any other
	// resource as a count. Selector.MinCapacity filters on it.
	Capacity map[string]int64
	// Taints keep clusters out of selections that do not tolerate them.
	Taints []Taint
}

// Taint marks a cluster as unsuitable unless a selection tolerates it.
type Taint struct {
	// Key and Value name the taint, as a label does, e.g. "maintenance"
	// and "true".
	Key, Value string
}

// Toleration lets a selection use clusters with a matching taint: same key,
// and same value unless Value is empty.
type Toleration struct {
	// Key is the tolerated taint's key; Value its value ("": any value).
	Key, Value string
}

func (t Toleration) tolerates(taint Taint) bool {
	return t.Key == taint.Key && (t.Value == "" || t.Value == taint.Value)
}

// HealthState is the outcome of a cluster's last health probe.
type HealthState string

// Health states. HealthUnreachable (the API server did not answer) and
// HealthDegraded (it answered, but not all is well) are kept apart on
// purpose.
const (
	// HealthUnknown: the cluster has not been probed since it was
	// registered.
	HealthUnknown HealthState = "Unknown"
	// HealthHealthy: the API server answered and every node is Ready.
	HealthHealthy HealthState = "Healthy"
	// HealthDegraded: the API server answered, but with an error status,
	// or the cluster has no nodes, or some are not Ready.
	HealthDegraded HealthState = "Degraded"
	// HealthUnreachable: the API server did not answer (in time).
	HealthUnreachable HealthState = "Unreachable"
	// HealthUnauthorized: the API server rejected the credentials
	// (Unauthorized or Forbidden).
	HealthUnauthorized HealthState = "Unauthorized"
)

// Health is what a probe found.
type Health struct {
	// State is the probe's verdict.
	State HealthState
	// Version is the API server's version (git version).
	Version string
	// ReadyNodes and Nodes count the cluster's nodes.
	ReadyNodes, Nodes int
	// Message explains a state other than Healthy.
	Message string
	// Checked is when the probe ran.
	Checked time.Time
}
