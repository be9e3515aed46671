package config_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/config"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func validationError(t *testing.T, err error) *config.ValidationError {
	t.Helper()
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is no *ValidationError", err, err)
	}
	if !errors.Is(err, config.ErrInvalid) {
		t.Errorf("error %v does not wrap ErrInvalid", err)
	}
	return ve
}

// problem finds the problem at path or fails.
func problem(t *testing.T, ve *config.ValidationError, path string) config.Problem {
	t.Helper()
	for _, p := range ve.Problems {
		if p.Path == path {
			return p
		}
	}
	t.Fatalf("no problem at %s in:\n%v", path, ve)
	return config.Problem{}
}

func TestPrecedenceEnvOverFileOverDefaults(t *testing.T) {
	file := writeFile(t, "config.yaml", `
porch:
  apiUrl: https://file.example:6443
  timeout: 10s
  retryCount: 2
multicluster:
  healthCheck:
    interval: 20s
`)
	c, err := config.Load(context.Background(), config.FromFile(file), config.FromEnv(env(map[string]string{
		"PORCH_API_TIMEOUT":     "45s",
		"PORCH_API_RETRY_COUNT": "7",
	})))
	if err != nil {
		t.Fatal(err)
	}
	if c.Porch.APIURL != "https://file.example:6443" { // file only
		t.Errorf("apiUrl %q", c.Porch.APIURL)
	}
	if c.Porch.Timeout.Duration != 45*time.Second || c.Porch.RetryCount != 7 { // env over file
		t.Errorf("timeout %v, retryCount %d: the environment should win", c.Porch.Timeout, c.Porch.RetryCount)
	}
	if c.Multicluster.HealthCheck.Interval.Duration != 20*time.Second { // file over default
		t.Errorf("interval %v", c.Multicluster.HealthCheck.Interval)
	}
	if c.Porch.CircuitBreaker.Threshold != config.Default().Porch.CircuitBreaker.Threshold { // default
		t.Errorf("threshold %d", c.Porch.CircuitBreaker.Threshold)
	}
	// A later file wins over an earlier one, key by key.
	second := writeFile(t, "override.yaml", "porch:\n  retryCount: 1\n")
	c, err = config.Load(context.Background(), config.FromFile(file), config.FromFile(second))
	if err != nil {
		t.Fatal(err)
	}
	if c.Porch.RetryCount != 1 || c.Porch.Timeout.Duration != 10*time.Second {
		t.Errorf("retryCount %d timeout %v", c.Porch.RetryCount, c.Porch.Timeout)
	}
}

func TestEveryInvalidValueReportedAtOnce(t *testing.T) {
	file := writeFile(t, "config.yaml", `
porch:
  apiUrl: "ftp://porch"
  timeout: thirty seconds
  retryCount: -1
  auth:
    method: ldap
  circuitBreaker:
    threshold: 0
  cache:
    ttl: 5
multicluster:
  healthCheck:
    interval: -10s
  stateStore:
    type: etcd
krm:
  executor:
    timeout: 300
    resources:
      memoryLimit: 512MB!
      cpuLimit: "-1"
    security:
      allowedImages: ["gcr.io/kpt-fn/[*"]
    container:
      pull: sometimes
blueprint:
  catalogUrl: "://nowhere"
  namespace: Not_A_Namespace
`)
	_, err := config.Load(context.Background(), config.FromFile(file),
		config.FromEnv(env(map[string]string{"MULTICLUSTER_HEALTH_CHECK_TIMEOUT": "soon"})))
	ve := validationError(t, err)
	want := map[string]string{ // path -> value reported
		"porch.apiUrl":                           "ftp://porch",
		"porch.timeout":                          "thirty seconds",
		"porch.retryCount":                       "-1",
		"porch.auth.method":                      "ldap",
		"porch.circuitBreaker.threshold":         "0",
		"porch.cache.ttl":                        "5",
		"multicluster.healthCheck.interval":      "-10s",
		"multicluster.healthCheck.timeout":       "soon",
		"multicluster.stateStore.type":           "etcd",
		"krm.executor.timeout":                   "300",
		"krm.executor.resources.memoryLimit":     "512MB!",
		"krm.executor.resources.cpuLimit":        "-1",
		"krm.executor.security.allowedImages[0]": "gcr.io/kpt-fn/[*",
		"krm.executor.container.pull":            "sometimes",
		"blueprint.catalogUrl":                   "://nowhere",
		"blueprint.namespace":                    "Not_A_Namespace",
	}
	for path, value := range want {
		p := problem(t, ve, path)
		if p.Value != value {
			t.Errorf("%s: value %q, want %q", path, p.Value, value)
		}
		if p.Rule == "" || !errors.Is(p.Kind, config.ErrInvalidValue) {
			t.Errorf("%s: rule %q kind %v", path, p.Rule, p.Kind)
		}
		wantSource := file
		if path == "multicluster.healthCheck.timeout" {
			wantSource = "environment"
		}
		if p.Source != wantSource {
			t.Errorf("%s: source %q, want %q", path, p.Source, wantSource)
		}
	}
	if len(ve.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(ve.Problems), len(want), ve)
	}
	if p := problem(t, ve, "multicluster.healthCheck.timeout"); p.Env != "MULTICLUSTER_HEALTH_CHECK_TIMEOUT" {
		t.Errorf("env %q", p.Env)
	}
	if !strings.Contains(err.Error(), `porch.timeout = "thirty seconds": invalid value: a duration`) {
		t.Errorf("message does not name key, value and rule:\n%v", err)
	}
}

func TestRulesBetweenKeys(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		path string
	}{
		{"oauth2 needs a client id", "porch: {apiUrl: 'https://p', auth: {method: oauth2, tokenUrl: 'https://t', clientSecret: {file: /s}}}", "porch.auth.clientId"},
		{"oauth2 needs a client secret", "porch: {apiUrl: 'https://p', auth: {method: oauth2, clientId: c, tokenUrl: 'https://t'}}", "porch.auth.clientSecret"},
		{"oauth2 needs a token URL", "porch: {apiUrl: 'https://p', auth: {method: oauth2, clientId: c, clientSecret: {file: /s}}}", "porch.auth.tokenUrl"},
		{"token needs the API URL", "porch: {auth: {method: token, token: {file: /t}}}", "porch.apiUrl"},
		{"token needs a token", "porch: {apiUrl: 'https://p', auth: {method: token}}", "porch.auth.token"},
		{"kubeconfig needs its file", "porch: {auth: {method: kubeconfig}}", "porch.auth.kubeconfig"},
		{"certificate needs a certificate", "porch: {apiUrl: 'https://p', auth: {method: certificate}}", "porch.tls.certFile"},
		{"cert without key", "porch: {tls: {certFile: /c}}", "porch.tls.keyFile"},
		{"insecure with a CA", "porch: {tls: {insecureSkipVerify: true, caFile: /ca}}", "porch.tls.insecureSkipVerify"},
		{"secret from two sources", "porch: {auth: {token: {file: /t, secretRef: {namespace: a, name: b, key: c}}}}", "porch.auth.token"},
		{"secret ref without key", "porch: {auth: {token: {secretRef: {namespace: a, name: b}}}}", "porch.auth.token.secretRef.key"},
		{"configmap store needs a namespace", "multicluster: {stateStore: {type: configmap}}", "multicluster.stateStore.namespace"},
		{"sandbox cannot be off", "krm: {executor: {sandboxEnabled: false}}", "krm.executor.sandboxEnabled"},
		{"username without password", "blueprint: {auth: {username: git}}", "blueprint.auth.username"},
		{"password and secret name", "blueprint: {auth: {username: git, password: {file: /p}, secretName: s}}", "blueprint.auth.secretName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(context.Background(), config.FromYAML("case.yaml", []byte(tc.yaml)))
			ve := validationError(t, err)
			problem(t, ve, tc.path)
			if len(ve.Problems) != 1 {
				t.Errorf("want one problem:\n%v", ve)
			}
		})
	}
}

func TestUnknownKeysAndWrongTypesAllReported(t *testing.T) {
	_, err := config.Load(context.Background(), config.FromYAML("seed.yaml", []byte(`
porch:
  apiUrl: https://nephio-porch-api:8080
  retrycount: 3
  retryCount: three
  auth:
    method: oauth2
    clientId: [a, b]
    clientSecret: hunter2-inline
    secretName: nephio-porch-auth
multicluster:
  enabled: "yes"
  maxClusters: 100
krm:
  executor:
    security:
      allowedImages: ["ok/*", 7]
    resources:
      memoryLimit: {size: 1}
observability:
  metrics:
    port: 8080
`)))
	ve := validationError(t, err)
	for path, kind := range map[string]error{
		"porch.retrycount":                       config.ErrUnknownKey,
		"porch.retryCount":                       config.ErrWrongType,
		"porch.auth.clientId":                    config.ErrWrongType,
		"porch.auth.clientSecret":                config.ErrWrongType,
		"porch.auth.secretName":                  config.ErrUnknownKey,
		"multicluster.enabled":                   config.ErrWrongType,
		"multicluster.maxClusters":               config.ErrUnknownKey,
		"krm.executor.security.allowedImages[1]": config.ErrWrongType,
		"krm.executor.resources.memoryLimit":     config.ErrWrongType,
		"observability.metrics.port":             config.ErrUnknownKey,
	} {
		p := problem(t, ve, path)
		if p.Kind != kind {
			t.Errorf("%s: kind %v, want %v", path, p.Kind, kind)
		}
		if p.Source != "seed.yaml" {
			t.Errorf("%s: source %q", path, p.Source)
		}
	}
	if !errors.Is(err, config.ErrUnknownKey) || !errors.Is(err, config.ErrWrongType) {
		t.Error("errors.Is does not find the kinds")
	}
	// The seed's keys porchkit has no option for say what to do instead.
	if p := problem(t, ve, "multicluster.maxClusters"); !strings.Contains(p.Rule, "seed") {
		t.Errorf("rule %q", p.Rule)
	}
	// A secret given inline in a file is refused and not echoed.
	if p := problem(t, ve, "porch.auth.clientSecret"); p.Value != config.Redacted || strings.Contains(err.Error(), "hunter2-inline") {
		t.Errorf("the inline secret shows: %q\n%v", p.Value, err)
	}
	// The wrong values stay out; the right ones are still validated (the
	// oauth2 method misses its token URL).
	problem(t, ve, "porch.auth.tokenUrl")
}

func TestWrongTypesFromEnv(t *testing.T) {
	_, err := config.Load(context.Background(), config.FromEnv(env(map[string]string{
		"PORCH_API_RETRY_COUNT":     "three",
		"CIRCUIT_BREAKER_ENABLED":   "maybe",
		"PORCH_TLS_SECRET":          "just-a-name",
		"PORCH_BEARER_TOKEN":        "from-env",
		"PORCH_BEARER_TOKEN_FILE":   "/also/a/file",
		"KRM_EXECUTOR_MEMORY_LIMIT": "lots",
		"REQUEST_CACHE_TTL":         "0s",
		"PORCH_CLIENT_SECRET":       "",
	})))
	ve := validationError(t, err)
	for path, env := range map[string]string{
		"porch.retryCount":                   "PORCH_API_RETRY_COUNT",
		"porch.circuitBreaker.enabled":       "CIRCUIT_BREAKER_ENABLED",
		"porch.tls.secretRef":                "PORCH_TLS_SECRET",
		"porch.auth.token":                   "PORCH_BEARER_TOKEN",
		"krm.executor.resources.memoryLimit": "KRM_EXECUTOR_MEMORY_LIMIT",
		"porch.cache.ttl":                    "REQUEST_CACHE_TTL",
		"porch.auth.clientSecret":            "PORCH_CLIENT_SECRET",
	} {
		p := problem(t, ve, path)
		if p.Env != env || p.Source != "environment" {
			t.Errorf("%s: env %q source %q", path, p.Env, p.Source)
		}
	}
	if strings.Contains(err.Error(), "from-env") {
		t.Errorf("the secret value shows:\n%v", err)
	}
}

func TestNotYAML(t *testing.T) {
	for name, content := range map[string]string{
		"broken":   "porch: [unclosed\n  : :",
		"control":  "porch:\x00\x01",
		"scalar":   "just some words",
		"list":     "- porch\n- krm\n",
		"dup keys": "porch: {}\nporch: {}\n",
	} {
		t.Run(name, func(t *testing.T) {
			file := writeFile(t, "config.yaml", content)
			_, err := config.Load(context.Background(), config.FromFile(file))
			var se *config.SourceError
			if !errors.As(err, &se) || !errors.Is(err, config.ErrNotYAML) {
				t.Fatalf("error %v, want a *SourceError wrapping ErrNotYAML", err)
			}
			if se.Source != file || !strings.Contains(err.Error(), file) {
				t.Errorf("source %q, error %v: the file is not named", se.Source, err)
			}
		})
	}
	if c, err := config.Load(context.Background(), config.FromYAML("empty", nil)); err != nil || c.Porch.RetryCount != config.Default().Porch.RetryCount {
		t.Errorf("an empty document: %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := config.Load(context.Background(), config.FromFile(filepath.Join(t.TempDir(), "absent.yaml")))
	var se *config.SourceError
	if !errors.As(err, &se) || !errors.Is(err, config.ErrSourceNotFound) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error %v", err)
	}
}

func configMap(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

func TestFromConfigMap(t *testing.T) {
	kube := kubefake.NewClientset(
		configMap("nephio-system", "porchkit", map[string]string{config.ConfigMapKey: "porch:\n  apiUrl: https://porch.example\n  timeout: 30s\n"}),
		configMap("nephio-system", "other", map[string]string{"settings.yaml": "porch: {}"}),
		configMap("nephio-system", "bad", map[string]string{config.ConfigMapKey: "porch:\n  timeout: never\n"}),
	)
	ctx := context.Background()
	c, err := config.Load(ctx, config.FromConfigMap(kube.CoreV1(), "nephio-system", "porchkit"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Porch.APIURL != "https://porch.example" || c.Porch.Timeout.Duration != 30*time.Second {
		t.Errorf("porch %+v", c.Porch)
	}

	_, err = config.Load(ctx, config.FromConfigMap(kube.CoreV1(), "nephio-system", "absent"))
	var se *config.SourceError
	if !errors.As(err, &se) || !errors.Is(err, config.ErrSourceNotFound) || !apierrors.IsNotFound(err) {
		t.Fatalf("absent ConfigMap: %v", err)
	}
	if se.Source != "configmap nephio-system/absent" {
		t.Errorf("source %q", se.Source)
	}

	_, err = config.Load(ctx, config.FromConfigMap(kube.CoreV1(), "nephio-system", "other"))
	if !errors.Is(err, config.ErrSourceNotFound) || !strings.Contains(err.Error(), config.ConfigMapKey) {
		t.Errorf("ConfigMap without the key: %v", err)
	}

	_, err = config.Load(ctx, config.FromConfigMap(kube.CoreV1(), "nephio-system", "bad"))
	if p := problem(t, validationError(t, err), "porch.timeout"); p.Source != "configmap nephio-system/bad" {
		t.Errorf("source %q", p.Source)
	}
}

func TestUnreachableConfigMap(t *testing.T) {
	// A port nothing listens on: connection refused.
	kube, err := kubernetes.NewForConfig(&rest.Config{Host: "http://127.0.0.1:1", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = config.Load(ctx, config.FromConfigMap(kube.CoreV1(), "nephio-system", "porchkit"))
	var se *config.SourceError
	if !errors.As(err, &se) || se.Source != "configmap nephio-system/porchkit" {
		t.Fatalf("error %v", err)
	}
	if errors.Is(err, config.ErrSourceNotFound) || apierrors.IsNotFound(err) {
		t.Errorf("an unreachable ConfigMap reads as not found: %v", err)
	}
	if !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("error %v", err)
	}
}
