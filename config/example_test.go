package config_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nephoran/porchkit/config"
)

// Load a config.yaml and let the environment override it; the OAuth2
// client secret comes from the environment and is never printed.
func Example() {
	dir, err := os.MkdirTemp("", "porchkit-config")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "config.yaml")
	err = os.WriteFile(file, []byte(`
porch:
  apiUrl: https://nephio-porch-api:8080
  timeout: 30s
  retryCount: 3
  auth:
    method: oauth2
    clientId: nephoran-intent-operator
    tokenUrl: https://auth.nephio.io/oauth/token
    scopes: ["porch:read", "porch:write"]
krm:
  executor:
    timeout: 300s
    resources:
      memoryLimit: 512Mi
`), 0o600)
	if err != nil {
		fmt.Println(err)
		return
	}
	environment := map[string]string{
		"PORCH_API_TIMEOUT":   "45s",
		"PORCH_CLIENT_SECRET": "do-not-print-me",
	}
	lookup := func(name string) (string, bool) { v, ok := environment[name]; return v, ok }

	cfg, err := config.Load(context.Background(), config.FromFile(file), config.FromEnv(lookup))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("timeout:", cfg.Porch.Timeout)
	fmt.Println("retries:", cfg.Porch.RetryCount)
	fmt.Println("auth:", cfg.Porch.Auth.Method, cfg.Porch.Auth.Scopes)
	fmt.Println("client secret:", cfg.Porch.Auth.ClientSecret)
	fmt.Println("function memory cap:", cfg.KRM.Executor.Resources.MemoryLimit.Value())
	fmt.Println("breaker threshold (default):", cfg.Porch.CircuitBreaker.Threshold)
	// Output:
	// timeout: 45s
	// retries: 3
	// auth: oauth2 [porch:read porch:write]
	// client secret: [redacted]
	// function memory cap: 536870912
	// breaker threshold (default): 5
}

// Every problem of a configuration is reported at once, each with its key,
// value and rule.
func ExampleValidationError() {
	_, err := config.Load(context.Background(), config.FromYAML("config.yaml", []byte(`
porch:
  timeout: soon
  auth:
    method: ldap
  circuitBreaker:
    treshold: 10
krm:
  executor:
    resources:
      memoryLimit: 512MB!
`)))
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	fmt.Println(errors.Is(err, config.ErrInvalid), errors.Is(err, config.ErrUnknownKey))
	// Output:
	// porch.circuitBreaker.treshold: unknown key: no such key [config.yaml]
	// porch.timeout = "soon": invalid value: a duration such as 30s, 5m or 1h30m [config.yaml]
	// porch.auth.method = "ldap": invalid value: one of kubeconfig, serviceaccount, token, certificate, oauth2 [config.yaml]
	// krm.executor.resources.memoryLimit = "512MB!": invalid value: a quantity such as 512Mi, 1Gi or 500m [config.yaml]
	// true true
}

// Keys lists every key with its environment variable and default, for an
// operator's --help or documentation.
func ExampleKeys() {
	for _, k := range config.Keys()[:3] {
		fmt.Printf("%s %s %q\n", k.Path, k.Env, k.Default)
	}
	// Output:
	// porch.apiUrl PORCH_API_URL ""
	// porch.timeout PORCH_API_TIMEOUT ""
	// porch.retryCount PORCH_API_RETRY_COUNT "5"
}
