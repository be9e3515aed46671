package config_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/nephoran/porchkit/config"
	"github.com/nephoran/porchkit/internal/pki"
	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/multicluster/memfleet"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// logBuffer is a logr.Logger that keeps every line.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.buf.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: 10})
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// porchServer starts the in-memory Porch, requiring token when it is not
// empty, and returns its URL.
func porchServer(t *testing.T, token string) string {
	t.Helper()
	b := fake.NewClientBuilder()
	if token != "" {
		b = b.WithBearerToken(token)
	}
	srv, err := b.BuildServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv.Config().Host
}

func secret(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func build(t *testing.T, cfg config.Config, opts config.BuildOptions) *config.Components {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := config.Build(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// listWorks registers a repository through the built client and lists it.
func listWorks(t *testing.T, c *config.Components) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	repos := c.Porch.Repositories("default")
	name := fmt.Sprintf("repo-%d", repoSeq.Add(1))
	if _, err := repos.Register(ctx, name, "https://example.com/"+name+".git"); err != nil {
		t.Fatalf("register: %v", err)
	}
	list, err := repos.List(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, r := range list {
		if r.Name == name {
			return
		}
	}
	t.Fatalf("%s not listed: %v", name, list)
}

var repoSeq atomic.Int64

func TestBuildTokenFromSecretAgainstFakePorch(t *testing.T) {
	const token = "tok-3f9a1c"
	host := porchServer(t, token)
	kube := kubefake.NewClientset(secret("nephio-system", "porch-token", map[string]string{"token": token}))
	cfg := config.Default()
	cfg.Porch.APIURL = host
	cfg.Porch.Auth.Method = config.AuthToken
	cfg.Porch.Auth.Token = config.Secret{SecretRef: &config.SecretRef{Namespace: "nephio-system", Name: "porch-token", Key: "token"}}
	cfg.Porch.RetryCount = 0
	var logs logBuffer
	c := build(t, cfg, config.BuildOptions{Logger: logs.logger(), KubeClient: kube})
	listWorks(t, c)
	if c.Runner == nil || c.Observability == nil || c.Clusters != nil || c.Propagator != nil || c.Blueprint != nil {
		t.Errorf("components %+v", c)
	}
	// The token is what authenticates: another one is refused.
	kube = kubefake.NewClientset(secret("nephio-system", "porch-token", map[string]string{"token": "other"}))
	c = build(t, cfg, config.BuildOptions{KubeClient: kube})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Porch.Repositories("default").List(ctx); err == nil {
		t.Fatal("a wrong token lists repositories")
	}
	if !strings.Contains(logs.String(), "plain HTTP") {
		t.Errorf("no warning about plain HTTP in:\n%s", logs.String())
	}
}

func TestBuildServiceAccount(t *testing.T) {
	const token = "sa-token-81b2"
	host := porchServer(t, token)
	ca, err := pki.NewCA("cluster-ca")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenFile, caFile := filepath.Join(dir, "token"), filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(context.Background(), config.FromEnv(env(map[string]string{
		"PORCH_API_URL":                   host,
		"PORCH_AUTH_METHOD":               "serviceaccount",
		"PORCH_SERVICEACCOUNT_TOKEN_FILE": tokenFile,
		"PORCH_SERVICEACCOUNT_CA_FILE":    caFile,
	})))
	if err != nil {
		t.Fatal(err)
	}
	c := build(t, cfg, config.BuildOptions{})
	listWorks(t, c)
	rc := c.RESTConfig
	if rc.BearerTokenFile != tokenFile || !bytes.Equal(rc.CAData, ca.CertPEM) {
		t.Errorf("rest config: token file %q, CA %d bytes", rc.BearerTokenFile, len(rc.CAData))
	}
	// Without apiUrl the in-cluster address is used, not the environment.
	cfg.Porch.APIURL = ""
	c = build(t, cfg, config.BuildOptions{})
	if c.RESTConfig.Host != config.DefaultInClusterURL {
		t.Errorf("host %q", c.RESTConfig.Host)
	}
	// A token file that is not there is reported with its key.
	cfg.Porch.Auth.ServiceAccount.TokenFile = filepath.Join(dir, "absent")
	_, err = config.Build(context.Background(), cfg, config.BuildOptions{})
	if p := problem(t, validationError(t, err), "porch.auth.serviceAccount.tokenFile"); !errors.Is(p.Kind, config.ErrSecretNotFound) {
		t.Errorf("kind %v", p.Kind)
	}
}

// tokenEndpoint is an OAuth2 token endpoint that issues token to the
// client with id and secret.
func tokenEndpoint(t *testing.T, id, secret, token string) (*httptest.Server, *url.Values) {
	var mu sync.Mutex
	seen := &url.Values{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		*seen = r.PostForm
		mu.Unlock()
		gotID, gotSecret, ok := r.BasicAuth()
		if !ok {
			gotID, gotSecret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if gotID != id || gotSecret != secret || r.PostForm.Get("grant_type") != "client_credentials" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "bearer", "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestBuildOAuth2ClientCredentials(t *testing.T) {
	const clientSecret, token = "oauth-secret-55e1", "oauth-token-c7d0"
	host := porchServer(t, token)
	tokens, seen := tokenEndpoint(t, "nephoran-intent-operator", clientSecret, token)
	file := writeFile(t, "config.yaml", `
porch:
  apiUrl: `+host+`
  auth:
    method: oauth2
    clientId: nephoran-intent-operator
    tokenUrl: `+tokens.URL+`
    scopes: ["porch:read", "porch:write"]
    audience: nephio-porch-api
    clientSecret:
      secretRef: {namespace: nephio-system, name: nephio-porch-oauth2, key: client-secret}
`)
	cfg, err := config.Load(context.Background(), config.FromFile(file))
	if err != nil {
		t.Fatal(err)
	}
	kube := kubefake.NewClientset(secret("nephio-system", "nephio-porch-oauth2", map[string]string{"client-secret": clientSecret}))
	c := build(t, cfg, config.BuildOptions{KubeClient: kube})
	listWorks(t, c)
	if seen.Get("scope") != "porch:read porch:write" || seen.Get("audience") != "nephio-porch-api" {
		t.Errorf("token request %v", *seen)
	}
}

// tlsProxy serves the fake Porch at host over TLS with a certificate of ca,
// requiring a client certificate of ca when mutual.
func tlsProxy(t *testing.T, ca *pki.CA, host string, mutual bool) string {
	t.Helper()
	serving, err := ca.Serving("porch")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(host)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	srv := httptest.NewUnstartedServer(proxy)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if mutual {
		pool := x509.NewCertPool()
		pool.AddCert(ca.Cert)
		srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, pool
	}
	srv.StartTLS()
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

func TestBuildClientCertificates(t *testing.T) {
	ca, err := pki.NewCA("porch-ca")
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Client("porchkit")
	if err != nil {
		t.Fatal(err)
	}
	addr := tlsProxy(t, ca, porchServer(t, ""), true)
	dir := t.TempDir()
	certFile, keyFile, err := client.Write(dir, "client")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("files", func(t *testing.T) {
		cfg, err := config.Load(context.Background(), config.FromEnv(env(map[string]string{
			"PORCH_API_URL": addr, "PORCH_AUTH_METHOD": "certificate",
			"PORCH_TLS_CA_FILE": caFile, "PORCH_TLS_CERT_FILE": certFile, "PORCH_TLS_KEY_FILE": keyFile,
		})))
		if err != nil {
			t.Fatal(err)
		}
		listWorks(t, build(t, cfg, config.BuildOptions{}))
	})
	t.Run("kubernetes.io/tls Secret", func(t *testing.T) {
		kube := kubefake.NewClientset(secret("nephio-system", "nephio-porch-tls", map[string]string{
			"tls.crt": string(client.CertPEM), "tls.key": string(client.KeyPEM), "ca.crt": string(ca.CertPEM)}))
		cfg := config.Default()
		cfg.Porch.APIURL, cfg.Porch.Auth.Method = addr, config.AuthCertificate
		cfg.Porch.TLS.SecretRef = &config.ObjectRef{Namespace: "nephio-system", Name: "nephio-porch-tls"}
		listWorks(t, build(t, cfg, config.BuildOptions{KubeClient: kube}))
	})
	t.Run("without a client certificate the server refuses", func(t *testing.T) {
		tokenFile := writeFile(t, "token", "unused")
		cfg := config.Default()
		cfg.Porch.APIURL, cfg.Porch.Auth.Method = addr, config.AuthToken
		cfg.Porch.Auth.Token = config.Secret{File: tokenFile}
		cfg.Porch.TLS.CAFile = caFile
		cfg.Porch.RetryCount = 0
		c := build(t, cfg, config.BuildOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.Porch.Repositories("default").List(ctx); err == nil {
			t.Fatal("listed without a client certificate")
		}
	})
}

func TestTLSVerificationOnUnlessInsecureWithWarning(t *testing.T) {
	ca, err := pki.NewCA("unknown-ca")
	if err != nil {
		t.Fatal(err)
	}
	addr := tlsProxy(t, ca, porchServer(t, "t0k"), false)
	cfg := config.Default()
	cfg.Porch.APIURL, cfg.Porch.Auth.Method = addr, config.AuthToken
	cfg.Porch.Auth.Token = config.SecretValue("t0k")
	cfg.Porch.RetryCount = 0

	var logs logBuffer
	c := build(t, cfg, config.BuildOptions{Logger: logs.logger()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.Porch.Repositories("default").List(ctx)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a server of an unknown CA was trusted: %v", err)
	}
	if strings.Contains(logs.String(), "WARNING") {
		t.Errorf("a warning with verification on:\n%s", logs.String())
	}

	cfg.Porch.TLS.InsecureSkipVerify = true
	c = build(t, cfg, config.BuildOptions{Logger: logs.logger()})
	listWorks(t, c)
	if !strings.Contains(logs.String(), "WARNING: TLS verification") || !strings.Contains(logs.String(), addr) {
		t.Errorf("no warning for insecureSkipVerify in:\n%s", logs.String())
	}
}

func TestBuildKubeconfigContext(t *testing.T) {
	// client-go sends a kubeconfig's credentials over TLS only.
	ca, err := pki.NewCA("cluster-ca")
	if err != nil {
		t.Fatal(err)
	}
	host := tlsProxy(t, ca, porchServer(t, "right-token"), false)
	caFile := writeFile(t, "ca.crt", string(ca.CertPEM))
	kubeconfig := writeFile(t, "kubeconfig", `
apiVersion: v1
kind: Config
clusters:
- name: porch
  cluster: {server: `+host+`, certificate-authority: `+caFile+`}
users:
- name: wrong
  user: {token: wrong-token}
- name: right
  user: {token: right-token}
contexts:
- name: a
  context: {cluster: porch, user: wrong}
- name: b
  context: {cluster: porch, user: right}
current-context: a
`)
	cfg := config.Default()
	cfg.Porch.Auth.Method, cfg.Porch.Auth.Kubeconfig, cfg.Porch.Auth.Context = config.AuthKubeconfig, kubeconfig, "b"
	listWorks(t, build(t, cfg, config.BuildOptions{}))

	cfg.Porch.Auth.Context = "absent"
	_, err = config.Build(context.Background(), cfg, config.BuildOptions{})
	problem(t, validationError(t, err), "porch.auth.context")

	cfg.Porch.Auth.Kubeconfig, cfg.Porch.Auth.Context = filepath.Join(t.TempDir(), "absent"), ""
	_, err = config.Build(context.Background(), cfg, config.BuildOptions{})
	if !errors.Is(err, config.ErrSourceNotFound) {
		t.Errorf("missing kubeconfig: %v", err)
	}
}

func TestBuildMalformedCertificates(t *testing.T) {
	ca, err := pki.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	one, _ := ca.Client("one")
	two, _ := ca.Client("two")
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := file("garbage.pem", []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"))
	text := file("text.pem", []byte("hello"))
	certOne, keyTwo := file("one.crt", one.CertPEM), file("two.key", two.KeyPEM)
	kubeconfig := file("kubeconfig", []byte(`
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: bm90IGEgY2VydA==}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`))
	kube := kubefake.NewClientset(secret("ns", "bad-tls", map[string]string{"tls.crt": "junk", "tls.key": string(one.KeyPEM)}))
	base := func() config.Config {
		c := config.Default()
		c.Porch.APIURL, c.Porch.Auth.Method, c.Porch.Auth.Token = "https://127.0.0.1:6443", config.AuthToken, config.SecretValue("t")
		return c
	}
	cases := []struct {
		name string
		edit func(*config.Config)
		path string
	}{
		{"CA that is not a certificate", func(c *config.Config) { c.Porch.TLS.CAFile = garbage }, "porch.tls.caFile"},
		{"CA that is not PEM", func(c *config.Config) { c.Porch.TLS.CAFile = text }, "porch.tls.caFile"},
		{"certificate that is not PEM", func(c *config.Config) { c.Porch.TLS.CertFile, c.Porch.TLS.KeyFile = text, keyTwo }, "porch.tls.certFile"},
		{"key of another certificate", func(c *config.Config) { c.Porch.TLS.CertFile, c.Porch.TLS.KeyFile = certOne, keyTwo }, "porch.tls.certFile"},
		{"TLS Secret with a bad certificate", func(c *config.Config) {
			c.Porch.TLS.SecretRef = &config.ObjectRef{Namespace: "ns", Name: "bad-tls"}
		}, "porch.tls.secretRef"},
		{"kubeconfig with a bad CA", func(c *config.Config) {
			c.Porch.APIURL, c.Porch.Auth.Method, c.Porch.Auth.Kubeconfig = "", config.AuthKubeconfig, kubeconfig
		}, "porch.auth.kubeconfig"},
		{"service account CA", func(c *config.Config) {
			c.Porch.Auth.Method = config.AuthServiceAccount
			c.Porch.Auth.ServiceAccount = config.ServiceAccountConfig{TokenFile: text, CAFile: garbage}
		}, "porch.auth.serviceAccount.caFile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.edit(&cfg)
			c, err := config.Build(context.Background(), cfg, config.BuildOptions{KubeClient: kube})
			if c != nil {
				t.Error("components built")
			}
			ve := validationError(t, err)
			p := problem(t, ve, tc.path)
			if !errors.Is(p.Kind, config.ErrCertificate) || !errors.Is(err, config.ErrCertificate) {
				t.Errorf("kind %v", p.Kind)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("PEM content in the error: %v", err)
			}
		})
	}
}

func TestBuildMissingSecret(t *testing.T) {
	kube := kubefake.NewClientset(secret("nephio-system", "present", map[string]string{"other": "x"}))
	ref := func(name, key string) config.Secret {
		return config.Secret{SecretRef: &config.SecretRef{Namespace: "nephio-system", Name: name, Key: key}}
	}
	cases := []struct {
		name     string
		token    config.Secret
		kube     bool
		path     string
		notFound bool
	}{
		{"no such Secret", ref("absent", "token"), true, "porch.auth.token.secretRef", true},
		{"no such key", ref("present", "token"), true, "porch.auth.token.secretRef.key", false},
		{"no such file", config.Secret{File: "/nonexistent/token"}, true, "porch.auth.token.file", false},
		{"no client to read Secrets", ref("present", "token"), false, "porch.auth.token.secretRef", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Porch.APIURL, cfg.Porch.Auth.Method, cfg.Porch.Auth.Token = "https://porch.example", config.AuthToken, tc.token
			opts := config.BuildOptions{}
			if tc.kube {
				opts.KubeClient = kube
			}
			c, err := config.Build(context.Background(), cfg, opts)
			if c != nil {
				t.Error("components built")
			}
			p := problem(t, validationError(t, err), tc.path)
			if !errors.Is(p.Kind, config.ErrSecretNotFound) || !errors.Is(err, config.ErrSecretNotFound) {
				t.Errorf("kind %v", p.Kind)
			}
			if apierrors.IsNotFound(err) != tc.notFound {
				t.Errorf("IsNotFound = %v: %v", !tc.notFound, err)
			}
		})
	}
}

// Every problem of a Build is reported together, and nothing is made.
func TestBuildNothingHalfConfigured(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := config.Default()
	cfg.Porch.APIURL, cfg.Porch.Auth.Method = "https://porch.example", config.AuthToken
	cfg.Porch.Auth.Token = config.Secret{SecretRef: &config.SecretRef{Namespace: "ns", Name: "absent", Key: "token"}}
	cfg.Porch.TLS.CAFile = writeFile(t, "ca.crt", "not a CA")
	cfg.Blueprint.CatalogURL = "https://example.com/catalog.git"
	cfg.Blueprint.Auth.Username, cfg.Blueprint.Auth.Password = "git", config.Secret{File: "/nonexistent/password"}
	c, err := config.Build(context.Background(), cfg, config.BuildOptions{KubeClient: kubefake.NewClientset(), Registerer: reg})
	if c != nil {
		t.Fatal("components built")
	}
	ve := validationError(t, err)
	for _, path := range []string{"porch.auth.token.secretRef", "porch.tls.caFile", "blueprint.auth.password.file"} {
		problem(t, ve, path)
	}
	if families, _ := reg.Gather(); len(families) != 0 {
		t.Errorf("metrics registered by a failed Build: %d families", len(families))
	}

	// Options the configuration needs from the caller.
	cfg = config.Default()
	cfg.Multicluster.Enabled = true
	cfg.Multicluster.StateStore = config.StateStoreConfig{Type: config.StoreConfigMap, Namespace: "nephio-system"}
	_, err = config.Build(context.Background(), cfg, config.BuildOptions{})
	ve = validationError(t, err)
	problem(t, ve, "multicluster.enabled")
	problem(t, ve, "multicluster.stateStore.type")

	// An invalid Config is refused before anything is read.
	cfg = config.Default()
	cfg.Porch.CircuitBreaker.Threshold = -1
	_, err = config.Build(context.Background(), cfg, config.BuildOptions{})
	problem(t, validationError(t, err), "porch.circuitBreaker.threshold")
}

func TestBuildMulticluster(t *testing.T) {
	host := porchServer(t, "t")
	fleet := memfleet.New(memfleet.Config{})
	cfg := config.Default()
	cfg.Porch.APIURL, cfg.Porch.Auth.Method, cfg.Porch.Auth.Token = host, config.AuthToken, config.SecretValue("t")
	cfg.Multicluster.Enabled = true
	cfg.Multicluster.StateStore = config.StateStoreConfig{Type: config.StoreConfigMap, Namespace: "nephio-system"}
	reg := prometheus.NewRegistry()
	c := build(t, cfg, config.BuildOptions{Backend: fleet, Prober: fleet, KubeClient: kubefake.NewClientset(), Registerer: reg})
	if c.Clusters == nil || c.Propagator == nil {
		t.Fatalf("components %+v", c)
	}
	ctx := context.Background()
	for _, cl := range fleet.AddClusters("edge", 2, 1) {
		if err := c.Clusters.Register(ctx, cl); err != nil {
			t.Fatal(err)
		}
	}
	health := c.Clusters.ProbeAll(ctx)
	if len(health) != 2 || health["edge-0000"].State != "Healthy" {
		t.Errorf("health %+v", health)
	}
	// The porch client is instrumented into the caller's registry.
	listWorks(t, c)
	families, err := reg.Gather()
	if err != nil || len(families) == 0 {
		t.Errorf("no metrics in the caller's registry: %v", err)
	}
}

func TestBuildMetricsDisabled(t *testing.T) {
	host := porchServer(t, "t")
	cfg := config.Default()
	cfg.Porch.APIURL, cfg.Porch.Auth.Method, cfg.Porch.Auth.Token = host, config.AuthToken, config.SecretValue("t")
	cfg.Observability.Metrics.Enabled = false
	reg := prometheus.NewRegistry()
	listWorks(t, build(t, cfg, config.BuildOptions{Registerer: reg}))
	if families, _ := reg.Gather(); len(families) != 0 {
		t.Errorf("metrics registered with observability.metrics.enabled false: %d families", len(families))
	}
}

func TestBuildRunnerPolicy(t *testing.T) {
	host := porchServer(t, "t")
	cfg, err := config.Load(context.Background(), config.FromEnv(env(map[string]string{
		"PORCH_API_URL": host, "PORCH_AUTH_METHOD": "token", "PORCH_BEARER_TOKEN": "t",
		"KRM_EXECUTOR_ALLOWED_IMAGES": "gcr.io/kpt-fn/set-namespace",
		"KRM_EXECUTOR_MEMORY_LIMIT":   "256Mi",
	})))
	if err != nil {
		t.Fatal(err)
	}
	c := build(t, cfg, config.BuildOptions{})
	ctx := context.Background()
	in := &framework.ResourceList{}
	_, err = c.Runner.Execute(ctx, krm.Function{Image: "gcr.io/kpt-fn/set-labels:v0.2"}, in)
	if !errors.Is(err, krm.ErrNotAllowed) {
		t.Errorf("an image outside allowedImages: %v", err)
	}
	_, err = c.Runner.Execute(ctx, krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4", Needs: krm.Capabilities{Memory: 512 << 20}}, in)
	var ce *krm.CapabilityError
	if !errors.As(err, &ce) || ce.Capability != "memory" {
		t.Errorf("a function asking more than memoryLimit: %v", err)
	}
}

func TestBlueprintCatalogResolved(t *testing.T) {
	const password = "git-pw-90e4"
	host := porchServer(t, "t")
	cfg := config.Default()
	cfg.Porch.APIURL, cfg.Porch.Auth.Method, cfg.Porch.Auth.Token = host, config.AuthToken, config.SecretValue("t")
	cfg.Blueprint.CatalogURL, cfg.Blueprint.Repository, cfg.Blueprint.Directory = "https://example.com/catalog.git", "catalog", "blueprints"
	cfg.Blueprint.Auth.Username = "git"
	cfg.Blueprint.Auth.Password = config.Secret{SecretRef: &config.SecretRef{Namespace: "default", Name: "git", Key: "password"}}
	kube := kubefake.NewClientset(secret("default", "git", map[string]string{"password": password}))
	c := build(t, cfg, config.BuildOptions{KubeClient: kube})
	b := c.Blueprint
	if b == nil || b.Namespace != "default" || b.Repository != "catalog" {
		t.Fatalf("blueprint %v", b)
	}
	ctx := context.Background()
	if _, err := c.Porch.Repositories(b.Namespace).Register(ctx, b.Repository, b.URL, b.RegisterOptions()...); err != nil {
		t.Fatal(err)
	}
	repo, err := c.Porch.Repositories(b.Namespace).Get(ctx, b.Repository)
	if err != nil {
		t.Fatal(err)
	}
	if repo.Spec.Git == nil || repo.Spec.Git.Directory != "blueprints" || repo.Spec.Git.SecretRef.Name == "" {
		t.Fatalf("repository %+v", repo.Spec)
	}
	s, err := kube.CoreV1().Secrets("default").Get(ctx, "git", metav1.GetOptions{})
	if err != nil || string(s.Data["password"]) != password {
		t.Fatalf("secret %v", err)
	}
	// The catalog reads the registered repository's published blueprints.
	prs := c.Porch.PackageRevisions(b.Namespace)
	draft, err := prs.Init(ctx, b.Repository, "amf", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := porch.NewLifecycleManager(prs, porch.LifecycleOptions{}).Promote(ctx, draft.Name, porchapi.PackageRevisionLifecyclePublished); err != nil {
		t.Fatal(err)
	}
	if c.Catalog == nil {
		t.Fatal("no catalog built")
	}
	c.Catalog.Refresh()
	cand, err := c.Catalog.Resolve(ctx, "amf", "^1")
	if err != nil {
		t.Fatalf("resolving the published blueprint: %v", err)
	}
	if cand.Version.String() != "1.0.0" {
		t.Fatalf("resolved %+v", cand)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := sprintf(format, b); strings.Contains(out, password) {
			t.Errorf("%s shows the password: %s", format, out)
		}
	}
}

func sprintf(format string, v any) string { return fmt.Sprintf(format, v) }
