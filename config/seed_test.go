package config_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/porchkit/config"
)

// The layout of the seed's configuration guide: every key porchkit has an
// option for loads; those it has none for are each reported, with what to
// do instead, rather than ignored.
const seedConfig = `
porch:
  apiUrl: "https://nephio-porch-api:8080"
  timeout: "30s"
  retryCount: 3
  auth:
    method: "oauth2"
    clientId: "nephoran-intent-operator"
    scopes: ["porch:read", "porch:write"]
multicluster:
  enabled: true
  maxClusters: 100
  syncInterval: "30s"
  healthCheck:
    interval: "10s"
    timeout: "5s"
  propagation:
    strategies:
      - name: "sequential"
        parallelism: 1
krm:
  executor:
    sandboxEnabled: true
    timeout: "300s"
    resources:
      memoryLimit: "512Mi"
      cpuLimit: "500m"
    security:
      allowedImages:
        - "gcr.io/kpt-fn/*"
        - "nephio.io/krm-functions/*"
blueprint:
  catalogUrl: "https://catalog.nephio.io/blueprints"
  cacheTtl: "1h"
  validation:
    enabled: true
observability:
  metrics:
    enabled: true
    port: 8080
    path: "/metrics"
  tracing:
    enabled: true
    jaegerEndpoint: "http://jaeger:14268/api/traces"
  logging:
    level: "info"
`

func TestSeedConfig(t *testing.T) {
	_, err := config.Load(context.Background(), config.FromYAML("seed", []byte(seedConfig)))
	ve := validationError(t, err)
	unsupported := []string{
		"multicluster.maxClusters", "multicluster.syncInterval", "multicluster.propagation.strategies",
		"blueprint.cacheTtl", "blueprint.validation", "observability.metrics.port", "observability.metrics.path",
		"observability.tracing.jaegerEndpoint", "observability.logging",
	}
	for _, path := range unsupported {
		p := problem(t, ve, path)
		if p.Kind != config.ErrUnknownKey || !strings.Contains(p.Rule, "seed") {
			t.Errorf("%s: %v", path, p)
		}
	}
	// Beside those, the oauth2 method misses what the seed keeps in a
	// Secret: the client secret and token URL.
	rest := 0
	for _, p := range ve.Problems {
		if !errors.Is(p.Kind, config.ErrUnknownKey) {
			rest++
			if p.Path != "porch.auth.clientSecret" && p.Path != "porch.auth.tokenUrl" {
				t.Errorf("unexpected problem %v", p)
			}
		}
	}
	if len(ve.Problems) != len(unsupported)+rest || rest != 2 {
		t.Errorf("problems:\n%v", ve)
	}

	// With those keys removed and the Secret named, the seed's file loads
	// and maps onto the options.
	var kept []string
	skip := -1
	for _, line := range strings.Split(seedConfig, "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if skip >= 0 && indent > skip {
			continue
		}
		skip = -1
		key, _, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch key {
		case "maxClusters", "syncInterval", "strategies", "cacheTtl", "validation", "port", "path", "jaegerEndpoint", "logging":
			skip = indent
			continue
		}
		kept = append(kept, line)
	}
	cfg, err := config.Load(context.Background(), config.FromYAML("seed", []byte(strings.Join(kept, "\n"))),
		config.FromEnv(env(map[string]string{"PORCH_CLIENT_SECRET_FILE": "/var/run/secrets/oauth2/client-secret", "PORCH_TOKEN_URL": "https://auth.nephio.io/oauth/token"})))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Porch.RetryCount != 3 || cfg.Multicluster.HealthCheck.Interval.Duration != 10*time.Second ||
		cfg.KRM.Executor.Timeout.Duration != 300*time.Second || cfg.KRM.Executor.Resources.MemoryLimit.Value() != 512<<20 ||
		cfg.KRM.Executor.Resources.CPULimit.Float() != 0.5 || len(cfg.KRM.Executor.Security.AllowedImages) != 2 ||
		cfg.Blueprint.CatalogURL != "https://catalog.nephio.io/blueprints" {
		t.Errorf("seed config:\n%s", cfg)
	}
}
