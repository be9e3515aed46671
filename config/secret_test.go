package config_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	kubefake "k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/porchkit/config"
)

// renderings prints v every way a program might.
func renderings(v any) []string {
	out := []string{}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out = append(out, fmt.Sprintf(f, v))
	}
	if s, ok := v.(fmt.Stringer); ok {
		out = append(out, s.String())
	}
	if b, err := json.Marshal(v); err == nil {
		out = append(out, string(b))
	} else {
		out = append(out, "json: "+err.Error())
	}
	if b, err := yaml.Marshal(v); err == nil {
		out = append(out, string(b))
	} else {
		out = append(out, "yaml: "+err.Error())
	}
	return out
}

func TestSecretRedactsItself(t *testing.T) {
	const value = "s3cr3t-value-4b1d"
	s := config.SecretValue(value)
	cfg := config.Default()
	cfg.Porch.Auth.ClientSecret = s
	cfg.Porch.Auth.Token = config.SecretValue(value + "-token")
	cfg.Blueprint.Auth.Password = config.SecretValue(value + "-git")
	wrapped := struct {
		Name   string
		Secret config.Secret
		Config config.Config
	}{"x", s, cfg}
	for _, v := range []any{s, &s, cfg, &cfg, wrapped, []config.Secret{s}, map[string]config.Secret{"k": s}} {
		for _, out := range renderings(v) {
			if strings.Contains(out, value) {
				t.Errorf("%T rendered with the secret: %s", v, out)
			}
		}
	}
	if !strings.Contains(cfg.String(), config.Redacted) {
		t.Errorf("String does not mark the redaction:\n%s", cfg)
	}
	// A reference says where the value is, which is not secret.
	ref := config.Secret{SecretRef: &config.SecretRef{Namespace: "ns", Name: "n", Key: "k"}}
	if got := fmt.Sprint(ref); got != "secret ns/n[k]" {
		t.Errorf("reference renders %q", got)
	}
}

// The String of a Config is YAML that loads back to the same Config
// (secrets held in memory excepted: they are not written).
func TestStringRoundTrips(t *testing.T) {
	in := config.Default()
	in.Porch.Timeout = config.D(45 * time.Second)
	in.KRM.Executor.Resources.MemoryLimit = config.Q("512Mi")
	in.KRM.Executor.Security.AllowedImages = []string{"gcr.io/kpt-fn/*"}
	in.Porch.Auth.ClientSecret = config.Secret{File: "/var/run/secret"}
	out, err := config.Load(context.Background(), config.FromYAML("string", []byte(in.String())))
	if err != nil {
		t.Fatalf("%v\n%s", err, in)
	}
	if out.String() != in.String() {
		t.Errorf("round trip:\n%s\nwant\n%s", out, in)
	}
}

// A full run, successful and failing, logs and returns nothing that holds
// a secret value.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	const (
		clientSecret = "client-secret-0d5c9e"
		accessToken  = "access-token-71f2aa"
		gitPassword  = "git-password-e83b07"
		bearerToken  = "bearer-token-2c66d1"
	)
	secrets := []string{clientSecret, accessToken, gitPassword, bearerToken}
	var logs logBuffer
	var captured []string
	capture := func(err error) {
		if err != nil {
			captured = append(captured, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	host := porchServer(t, accessToken)
	tokens, _ := tokenEndpoint(t, "operator", clientSecret, accessToken)
	file := writeFile(t, "config.yaml", `
porch:
  apiUrl: `+host+`
  auth:
    method: oauth2
    clientId: operator
    tokenUrl: `+tokens.URL+`
blueprint:
  catalogUrl: https://example.com/catalog.git
  auth:
    username: git
`)
	environment := map[string]string{"PORCH_CLIENT_SECRET": clientSecret, "BLUEPRINT_GIT_PASSWORD": gitPassword}
	cfg, err := config.Load(ctx, config.FromFile(file), config.FromEnv(env(environment)))
	if err != nil {
		t.Fatal(err)
	}
	log := logs.logger()
	log.Info("loaded", "config", cfg, "pointer", &cfg, "clientSecret", cfg.Porch.Auth.ClientSecret)
	c, err := config.Build(ctx, cfg, config.BuildOptions{Logger: log, KubeClient: kubefake.NewClientset()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	listWorks(t, c)
	b := c.Blueprint
	_, err = c.Porch.Repositories(b.Namespace).Register(ctx, b.Repository, b.URL, b.RegisterOptions()...)
	capture(err)
	log.Info("built", "components", c, "blueprint", b, "rest", c.RESTConfig)
	captured = append(captured, renderings(cfg)...)
	captured = append(captured, fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", c.RESTConfig), fmt.Sprintf("%+v", b))

	// Failing runs: a bearer token given twice, a token endpoint that
	// refuses the client, invalid values beside secrets.
	_, err = config.Load(ctx, config.FromEnv(env(map[string]string{
		"PORCH_BEARER_TOKEN": bearerToken, "PORCH_BEARER_TOKEN_FILE": "/x", "PORCH_AUTH_METHOD": "token",
	})))
	capture(err)
	_, err = config.Load(ctx, config.FromYAML("inline.yaml", []byte("porch:\n  auth:\n    token: "+bearerToken+"\n    clientSecret:\n      value: "+clientSecret+"\n")))
	capture(err)
	refused := cfg
	refused.Porch.Auth.ClientSecret = config.SecretValue(clientSecret + "-wrong")
	refused.Porch.RetryCount = 0
	c2, err := config.Build(ctx, refused, config.BuildOptions{Logger: log})
	capture(err)
	if err == nil {
		_, err = c2.Porch.Repositories("default").List(ctx)
		if err == nil {
			t.Error("a refused client listed")
		}
		capture(err)
		c2.Close()
	}
	bad := cfg
	bad.Porch.Timeout = config.Duration{}
	bad.Porch.CircuitBreaker.Threshold = 0
	bad.Porch.Auth.Token = config.SecretValue(bearerToken)
	bad.Porch.TLS.CAFile = writeFile(t, "ca.crt", bearerToken)
	_, err = config.Build(ctx, bad, config.BuildOptions{Logger: log})
	capture(err)
	bad.Porch.CircuitBreaker.Threshold = 5
	_, err = config.Build(ctx, bad, config.BuildOptions{Logger: log})
	capture(err)

	if len(captured) < 10 || !strings.Contains(logs.String(), "porchkit components built") {
		t.Fatalf("the run captured too little: %d errors, logs:\n%s", len(captured), logs.String())
	}
	all := logs.String() + strings.Join(captured, "\n")
	for _, s := range secrets {
		if strings.Contains(all, s) {
			i := strings.Index(all, s)
			t.Errorf("secret %s appears: ...%s...", s, all[max(0, i-200):min(len(all), i+50)])
		}
	}
}
