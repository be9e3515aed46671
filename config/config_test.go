package config

import (
	"reflect"
	"testing"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/porch"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

// The defaults map onto options equal to the components' own defaults.
func TestDefaultsEqualComponentDefaults(t *testing.T) {
	d := Default()

	po := porchOptions(d.Porch)
	if !reflect.DeepEqual(po.Retry.Backoff, porch.DefaultRetryBackoff) {
		t.Errorf("retry backoff %+v, porch's %+v", po.Retry.Backoff, porch.DefaultRetryBackoff)
	}
	if po.Retry.ConflictRetries != porch.DefaultConflictRetries || po.Retry.Disabled {
		t.Errorf("conflict retries %d (disabled %v), porch's %d", po.Retry.ConflictRetries, po.Retry.Disabled, porch.DefaultConflictRetries)
	}
	if po.RepositoryConcurrency != porch.DefaultRepositoryConcurrency {
		t.Errorf("repository concurrency %d, porch's %d", po.RepositoryConcurrency, porch.DefaultRepositoryConcurrency)
	}
	if po.Cache != (porch.CacheOptions{Size: porch.DefaultCacheSize, TTL: porch.DefaultCacheTTL}) {
		t.Errorf("cache %+v", po.Cache)
	}
	if po.CircuitBreaker.Disabled || po.CircuitBreaker.Settings.Timeout != porch.DefaultBreakerOpenFor {
		t.Errorf("breaker %+v", po.CircuitBreaker)
	}
	if po.CircuitBreaker.Failures != porch.DefaultBreakerFailures || po.CircuitBreaker.Settings.ReadyToTrip != nil {
		t.Errorf("the breaker trips after %d failures, want porch.DefaultBreakerFailures (%d)", po.CircuitBreaker.Failures, porch.DefaultBreakerFailures)
	}
	if po.InsecureSkipTLSVerify || po.UserAgent != "porchkit" {
		t.Errorf("insecure %v, user agent %q", po.InsecureSkipTLSVerify, po.UserAgent)
	}

	// krm: the zero Policy, the default memo, no exec.
	rc := runnerConfig(d.KRM.Executor)
	if !reflect.DeepEqual(rc.Policy, krm.Policy{}) {
		t.Errorf("policy %+v, want the zero krm.Policy", rc.Policy)
	}
	if rc.MemoSize != krm.DefaultMemoSize || rc.AllowExec {
		t.Errorf("memo %d, allow exec %v", rc.MemoSize, rc.AllowExec)
	}
	// ContainerConfig's documented default: 0 CPUs means 1, pull missing.
	if cc := containerConfig(d.KRM.Executor); cc.CPUs != 1 || cc.Pull != "missing" || cc.Engine != "" {
		t.Errorf("container %+v", cc)
	}

	mc := managerConfig(d.Multicluster)
	if mc.ProbeInterval != multicluster.DefaultProbeInterval || mc.ProbeConcurrency != multicluster.DefaultProbeConcurrency {
		t.Errorf("manager %+v", mc)
	}
	if p, ok := mc.Prober.(*multicluster.KubeProber); !ok || p.Timeout != multicluster.DefaultProbeTimeout {
		t.Errorf("prober %#v", mc.Prober)
	}
	want := multicluster.PropagatorConfig{
		FailuresShown: multicluster.DefaultFailuresShown, WavesShown: multicluster.DefaultWavesShown,
		UnreachableAfter: multicluster.DefaultUnreachableAfter, SaveInterval: multicluster.DefaultSaveInterval,
		SaveTimeout: multicluster.DefaultSaveTimeout, RenderConcurrency: multicluster.DefaultRenderConcurrency,
		EventBuffer: multicluster.DefaultEventBuffer, Retention: multicluster.DefaultRetention,
	}
	if got := propagatorConfig(d.Multicluster); !reflect.DeepEqual(got, want) {
		t.Errorf("propagator %+v, want %+v", got, want)
	}
}

// A configuration's 0 means none where the options read 0 as the default.
func TestZeroMeansNone(t *testing.T) {
	c := Default()
	c.Porch.RetryCount, c.Porch.ConflictRetries, c.Porch.RepositoryConcurrency = 0, 0, 0
	c.KRM.Executor.MemoSize = 0
	po := porchOptions(c.Porch)
	if po.Retry.Backoff.Steps != 1 || po.Retry.ConflictRetries >= 0 || po.RepositoryConcurrency >= 0 {
		t.Errorf("retry %+v, repository concurrency %d", po.Retry, po.RepositoryConcurrency)
	}
	if rc := runnerConfig(c.KRM.Executor); rc.MemoSize >= 0 {
		t.Errorf("memo size %d, want negative (off)", rc.MemoSize)
	}
	c.KRM.Executor.Resources.MemoryLimit = Q("256Mi")
	c.KRM.Executor.Timeout = D(300e9)
	c.KRM.Executor.Resources.CPULimit = Q("500m")
	if rc := runnerConfig(c.KRM.Executor); rc.Policy.MaxMemory != 256<<20 || rc.Policy.MaxWallTime != 300e9 || rc.Policy.Defaults.Memory != 256<<20 || rc.Policy.Defaults.WallTime != 300e9 {
		t.Errorf("policy %+v", rc.Policy)
	}
	if cc := containerConfig(c.KRM.Executor); cc.CPUs != 0.5 {
		t.Errorf("cpus %v", cc.CPUs)
	}
}
