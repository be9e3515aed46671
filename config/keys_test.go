package config

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// keyCase sets one key through the environment and through a file; want is
// the key's value afterwards, rendered as Keys renders defaults.
type keyCase struct {
	path     string
	env      string // the variable set, when not the key's own
	envValue string
	yaml     string
	want     string
	envWant  string // when the environment's value renders differently
}

var keyCases = []keyCase{
	{path: "porch.apiUrl", envValue: "https://porch.example:6443", yaml: "https://porch.example:6443", want: "https://porch.example:6443"},
	{path: "porch.timeout", envValue: "45s", yaml: "45s", want: "45s"},
	{path: "porch.retryCount", envValue: "3", yaml: "3", want: "3"},
	{path: "porch.conflictRetries", envValue: "0", yaml: "0", want: "0"},
	{path: "porch.repositoryConcurrency", envValue: "4", yaml: "4", want: "4"},
	{path: "porch.userAgent", envValue: "operator/1.0", yaml: "operator/1.0", want: "operator/1.0"},
	{path: "porch.auth.method", envValue: "oauth2", yaml: "oauth2", want: "oauth2"},
	{path: "porch.auth.kubeconfig", envValue: "/etc/kube/config", yaml: "/etc/kube/config", want: "/etc/kube/config"},
	{path: "porch.auth.context", envValue: "edge", yaml: "edge", want: "edge"},
	{path: "porch.auth.serviceAccount.tokenFile", envValue: "/sa/token", yaml: "/sa/token", want: "/sa/token"},
	{path: "porch.auth.serviceAccount.caFile", envValue: "/sa/ca.crt", yaml: "/sa/ca.crt", want: "/sa/ca.crt"},
	{path: "porch.auth.token", env: "PORCH_BEARER_TOKEN_FILE", envValue: "/run/token", yaml: "{file: /run/token}", want: "file /run/token"},
	{path: "porch.auth.clientId", envValue: "nephoran-intent-operator", yaml: "nephoran-intent-operator", want: "nephoran-intent-operator"},
	{path: "porch.auth.clientSecret", envValue: "env-held-value", yaml: "{secretRef: {namespace: nephio-system, name: oauth, key: client-secret}}",
		want: "secret nephio-system/oauth[client-secret]", envWant: Redacted},
	{path: "porch.auth.tokenUrl", envValue: "https://auth.example/token", yaml: "https://auth.example/token", want: "https://auth.example/token"},
	{path: "porch.auth.scopes", envValue: "porch:read, porch:write", yaml: `["porch:read", "porch:write"]`, want: "porch:read,porch:write"},
	{path: "porch.auth.audience", envValue: "nephio-porch-api", yaml: "nephio-porch-api", want: "nephio-porch-api"},
	{path: "porch.tls.caFile", envValue: "/tls/ca.crt", yaml: "/tls/ca.crt", want: "/tls/ca.crt"},
	{path: "porch.tls.certFile", envValue: "/tls/tls.crt", yaml: "/tls/tls.crt", want: "/tls/tls.crt"},
	{path: "porch.tls.keyFile", envValue: "/tls/tls.key", yaml: "/tls/tls.key", want: "/tls/tls.key"},
	{path: "porch.tls.secretRef", envValue: "nephio-system/porch-tls", yaml: "{namespace: nephio-system, name: porch-tls}", want: "nephio-system/porch-tls"},
	{path: "porch.tls.serverName", envValue: "porch.internal", yaml: "porch.internal", want: "porch.internal"},
	{path: "porch.tls.insecureSkipVerify", envValue: "true", yaml: "true", want: "true"},
	{path: "porch.circuitBreaker.enabled", envValue: "false", yaml: "false", want: "false"},
	{path: "porch.circuitBreaker.threshold", envValue: "10", yaml: "10", want: "10"},
	{path: "porch.circuitBreaker.timeout", envValue: "30s", yaml: "30s", want: "30s"},
	{path: "porch.cache.enabled", envValue: "false", yaml: "false", want: "false"},
	{path: "porch.cache.ttl", envValue: "5m", yaml: "5m", want: "5m0s"},
	{path: "porch.cache.size", envValue: "100", yaml: "100", want: "100"},
	{path: "multicluster.enabled", envValue: "true", yaml: "true", want: "true"},
	{path: "multicluster.healthCheck.interval", envValue: "10s", yaml: "10s", want: "10s"},
	{path: "multicluster.healthCheck.timeout", envValue: "2s", yaml: "2s", want: "2s"},
	{path: "multicluster.healthCheck.concurrency", envValue: "8", yaml: "8", want: "8"},
	{path: "multicluster.propagation.unreachableAfter", envValue: "5", yaml: "5", want: "5"},
	{path: "multicluster.propagation.renderConcurrency", envValue: "4", yaml: "4", want: "4"},
	{path: "multicluster.propagation.saveInterval", envValue: "3s", yaml: "3s", want: "3s"},
	{path: "multicluster.propagation.saveTimeout", envValue: "10s", yaml: "10s", want: "10s"},
	{path: "multicluster.propagation.retention", envValue: "2h", yaml: "2h", want: "2h0m0s"},
	{path: "multicluster.propagation.failuresShown", envValue: "20", yaml: "20", want: "20"},
	{path: "multicluster.propagation.wavesShown", envValue: "30", yaml: "30", want: "30"},
	{path: "multicluster.propagation.eventBuffer", envValue: "64", yaml: "64", want: "64"},
	{path: "multicluster.propagation.preflightProbe", envValue: "false", yaml: "false", want: "false"},
	{path: "multicluster.stateStore.type", envValue: "configmap", yaml: "configmap", want: "configmap"},
	{path: "multicluster.stateStore.namespace", envValue: "nephio-system", yaml: "nephio-system", want: "nephio-system"},
	{path: "krm.executor.sandboxEnabled", envValue: "false", yaml: "false", want: "false"},
	{path: "krm.executor.timeout", envValue: "300s", yaml: "300s", want: "5m0s"},
	{path: "krm.executor.memoSize", envValue: "0", yaml: "0", want: "0"},
	{path: "krm.executor.resources.memoryLimit", envValue: "512Mi", yaml: "512Mi", want: "512Mi"},
	{path: "krm.executor.resources.cpuTimeLimit", envValue: "45s", yaml: "45s", want: "45s"},
	{path: "krm.executor.resources.cpuLimit", envValue: "500m", yaml: "500m", want: "500m"},
	{path: "krm.executor.security.allowedImages", envValue: "gcr.io/kpt-fn/*,nephio.io/krm-functions/*",
		yaml: `["gcr.io/kpt-fn/*", "nephio.io/krm-functions/*"]`, want: "gcr.io/kpt-fn/*,nephio.io/krm-functions/*"},
	{path: "krm.executor.security.allowNetwork", envValue: "true", yaml: "true", want: "true"},
	{path: "krm.executor.security.allowMounts", envValue: "/data/*", yaml: `["/data/*"]`, want: "/data/*"},
	{path: "krm.executor.security.allowExec", envValue: "true", yaml: "true", want: "true"},
	{path: "krm.executor.container.enabled", envValue: "true", yaml: "true", want: "true"},
	{path: "krm.executor.container.engine", envValue: "podman", yaml: "podman", want: "podman"},
	{path: "krm.executor.container.pull", envValue: "always", yaml: "always", want: "always"},
	{path: "blueprint.catalogUrl", envValue: "https://github.com/nephio-project/catalog.git", yaml: "https://github.com/nephio-project/catalog.git",
		want: "https://github.com/nephio-project/catalog.git"},
	{path: "blueprint.repository", envValue: "catalog", yaml: "catalog", want: "catalog"},
	{path: "blueprint.namespace", envValue: "nephio-system", yaml: "nephio-system", want: "nephio-system"},
	{path: "blueprint.branch", envValue: "v2", yaml: "v2", want: "v2"},
	{path: "blueprint.directory", envValue: "blueprints", yaml: "blueprints", want: "blueprints"},
	{path: "blueprint.auth.username", envValue: "git", yaml: "git", want: "git"},
	{path: "blueprint.auth.password", env: "BLUEPRINT_GIT_PASSWORD_FILE", envValue: "/git/pw", yaml: "{file: /git/pw}", want: "file /git/pw"},
	{path: "blueprint.auth.secretName", envValue: "git-auth", yaml: "git-auth", want: "git-auth"},
	{path: "observability.metrics.enabled", envValue: "false", yaml: "false", want: "false"},
	{path: "observability.tracing.enabled", envValue: "false", yaml: "false", want: "false"},
}

// values renders every key of c.
func values(c *Config) map[string]string {
	out := map[string]string{}
	walk(reflect.ValueOf(c).Elem(), "", func(path, _ string, v reflect.Value) { out[path] = text(v) })
	return out
}

func TestKeyCasesCoverEveryKey(t *testing.T) {
	covered := map[string]bool{}
	for _, kc := range keyCases {
		covered[kc.path] = true
	}
	for _, k := range Keys() {
		if !covered[k.Path] {
			t.Errorf("key %s (%s) has no case in keyCases", k.Path, k.Env)
		}
		delete(covered, k.Path)
	}
	for p := range covered {
		t.Errorf("keyCases has %s, which is no key", p)
	}
}

func TestEveryKeyFromEnv(t *testing.T) {
	envOf := map[string]string{}
	for _, k := range Keys() {
		envOf[k.Path] = k.Env
	}
	for _, kc := range keyCases {
		t.Run(kc.path, func(t *testing.T) {
			name := kc.env
			if name == "" {
				name = envOf[kc.path]
			}
			lookup := func(k string) (string, bool) {
				if k == name {
					return kc.envValue, true
				}
				return "", false
			}
			c := Default()
			ps, err := FromEnv(lookup).apply(context.Background(), &c, origins{})
			if err != nil || len(ps) > 0 {
				t.Fatalf("%s=%s: %v %v", name, kc.envValue, err, ps)
			}
			want := kc.want
			if kc.envWant != "" {
				want = kc.envWant
			}
			assertOnlyKeyChanged(t, &c, kc.path, want)
		})
	}
}

func TestEveryKeyFromFile(t *testing.T) {
	for _, kc := range keyCases {
		t.Run(kc.path, func(t *testing.T) {
			var leaf any
			if err := yaml.Unmarshal([]byte(kc.yaml), &leaf); err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(kc.path, ".")
			var doc any = leaf
			for i := len(parts) - 1; i >= 0; i-- {
				doc = map[string]any{parts[i]: doc}
			}
			data, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			c := Default()
			set := origins{}
			ps, err := FromYAML("test.yaml", data).apply(context.Background(), &c, set)
			if err != nil || len(ps) > 0 {
				t.Fatalf("%s: %v %v", data, err, ps)
			}
			assertOnlyKeyChanged(t, &c, kc.path, kc.want)
			if o, ok := set.lookup(kc.path); !ok || o.Source != "test.yaml" {
				t.Errorf("origin of %s = %+v, %v; want test.yaml", kc.path, o, ok)
			}
		})
	}
}

func assertOnlyKeyChanged(t *testing.T, c *Config, path, want string) {
	t.Helper()
	d := Default()
	defaults, got := values(&d), values(c)
	if got[path] != want {
		t.Errorf("%s = %q, want %q", path, got[path], want)
	}
	if got[path] == defaults[path] {
		t.Errorf("%s: the case's value %q is the default; pick another", path, want)
	}
	for k, v := range got {
		if k != path && v != defaults[k] {
			t.Errorf("%s changed too: %q, default %q", k, v, defaults[k])
		}
	}
}
