package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/go-logr/logr"
	"golang.org/x/oauth2/clientcredentials"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// credentials are what the porch section resolves to: the rest.Config and,
// for oauth2, the client-credentials flow.
type credentials struct {
	rest   *rest.Config
	oauth2 *clientcredentials.Config
}

// restConfig builds the rest.Config of the auth method and the TLS
// settings, reading every file and Secret they name and parsing every
// certificate, key and CA, so that nothing fails later.
func restConfig(ctx context.Context, p PorchConfig, secrets corev1client.SecretsGetter, log logr.Logger) (credentials, problems) {
	var ps problems
	var cr credentials
	a := p.Auth
	cfg := &rest.Config{Host: p.APIURL}
	switch a.Method {
	case AuthKubeconfig:
		cfg = kubeconfig(&ps, a, p.APIURL)
	case AuthServiceAccount:
		if cfg.Host == "" {
			cfg.Host = DefaultInClusterURL
		}
		token, err := os.ReadFile(a.ServiceAccount.TokenFile)
		if err != nil {
			ps.add(Problem{Path: "porch.auth.serviceAccount.tokenFile", Value: a.ServiceAccount.TokenFile,
				Rule: "a readable token file", Kind: ErrSecretNotFound, Err: err})
		}
		// The file is named too, so that client-go re-reads the rotated token.
		cfg.BearerToken, cfg.BearerTokenFile = string(token), a.ServiceAccount.TokenFile
		if p.TLS.CAFile == "" && p.TLS.SecretRef == nil && !p.TLS.InsecureSkipVerify {
			cfg.CAData = readCA(&ps, "porch.auth.serviceAccount.caFile", a.ServiceAccount.CAFile)
		}
	case AuthToken:
		token, prob := a.Token.resolve(ctx, secrets, "porch.auth.token")
		if prob != nil {
			ps.add(*prob)
		}
		cfg.BearerToken = string(token)
	case AuthOAuth2:
		secret, prob := a.ClientSecret.resolve(ctx, secrets, "porch.auth.clientSecret")
		if prob != nil {
			ps.add(*prob)
		}
		cr.oauth2 = &clientcredentials.Config{ClientID: a.ClientID, ClientSecret: string(secret), TokenURL: a.TokenURL, Scopes: a.Scopes}
		if a.Audience != "" {
			cr.oauth2.EndpointParams = url.Values{"audience": {a.Audience}}
		}
	}
	if cfg == nil {
		return cr, ps
	}
	applyTLS(ctx, &ps, cfg, p.TLS, secrets)
	if p.TLS.InsecureSkipVerify {
		log.Info("WARNING: TLS verification of the Porch API server is off (porch.tls.insecureSkipVerify); anyone on the network path can impersonate it", "host", cfg.Host)
	} else if u, err := url.Parse(cfg.Host); err == nil && u.Scheme == "http" {
		log.Info("WARNING: the Porch API server is reached over plain HTTP; requests and credentials are not encrypted", "host", cfg.Host)
	}
	cfg.Timeout = p.Timeout.Duration
	if len(ps) == 0 {
		// Parse whatever the kubeconfig embedded, as the transport will.
		if _, err := rest.TLSConfigFor(cfg); err != nil {
			key := "porch.tls"
			if a.Method == AuthKubeconfig {
				key = "porch.auth.kubeconfig"
			}
			ps.add(Problem{Path: key, Rule: "certificates, keys and CAs that parse", Kind: ErrCertificate, Err: err})
		}
	}
	cr.rest = cfg
	return cr, ps
}

// kubeconfig loads the kubeconfig file and context; apiURL, when set,
// replaces its server.
func kubeconfig(ps *problems, a AuthConfig, apiURL string) *rest.Config {
	raw, err := clientcmd.LoadFromFile(a.Kubeconfig)
	if err != nil {
		kind := ErrInvalidValue
		if errors.Is(err, os.ErrNotExist) {
			kind = ErrSourceNotFound
		}
		ps.add(Problem{Path: "porch.auth.kubeconfig", Value: a.Kubeconfig, Rule: "a readable kubeconfig file", Kind: kind, Err: err})
		return nil
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: a.Context}
	if apiURL != "" {
		overrides.ClusterInfo.Server = apiURL
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, a.Context, overrides, nil).ClientConfig()
	if err != nil {
		key, value := "porch.auth.kubeconfig", a.Kubeconfig
		if a.Context != "" {
			key, value = "porch.auth.context", a.Context
		}
		ps.add(Problem{Path: key, Value: value, Rule: "a kubeconfig context with a cluster and a user", Kind: ErrInvalidValue, Err: err})
		return nil
	}
	return cfg
}

// applyTLS adds the CA, client certificate and server name of t to cfg.
func applyTLS(ctx context.Context, ps *problems, cfg *rest.Config, t TLSConfig, secrets corev1client.SecretsGetter) {
	tc := &cfg.TLSClientConfig
	if t.CAFile != "" {
		tc.CAData, tc.CAFile = readCA(ps, "porch.tls.caFile", t.CAFile), ""
	}
	if t.CertFile != "" && t.KeyFile != "" {
		cert, errCert := os.ReadFile(t.CertFile)
		key, errKey := os.ReadFile(t.KeyFile)
		switch {
		case errCert != nil:
			ps.add(Problem{Path: "porch.tls.certFile", Value: t.CertFile, Rule: "a readable PEM file", Kind: ErrCertificate, Err: errCert})
		case errKey != nil:
			ps.add(Problem{Path: "porch.tls.keyFile", Value: t.KeyFile, Rule: "a readable PEM file", Kind: ErrCertificate, Err: errKey})
		default:
			if _, err := tls.X509KeyPair(cert, key); err != nil {
				ps.add(Problem{Path: "porch.tls.certFile", Value: t.CertFile, Rule: "a PEM certificate and the PEM key of porch.tls.keyFile that match", Kind: ErrCertificate, Err: err})
			}
			tc.CertData, tc.KeyData, tc.CertFile, tc.KeyFile = cert, key, "", ""
		}
	}
	if r := t.SecretRef; r != nil {
		tlsSecret(ctx, ps, tc, *r, secrets)
	}
	if t.ServerName != "" {
		tc.ServerName = t.ServerName
	}
	if t.InsecureSkipVerify {
		// client-go refuses a CA together with insecure.
		cfg.Insecure, tc.CAData, tc.CAFile = true, nil, ""
	}
}

// tlsSecret reads a kubernetes.io/tls Secret's tls.crt, tls.key and
// (optional) ca.crt.
func tlsSecret(ctx context.Context, ps *problems, tc *rest.TLSClientConfig, r ObjectRef, secrets corev1client.SecretsGetter) {
	data, prob := secretData(ctx, secrets, "porch.tls.secretRef", r.Namespace, r.Name)
	if prob != nil {
		ps.add(*prob)
		return
	}
	ref := r.Namespace + "/" + r.Name
	cert, key := data["tls.crt"], data["tls.key"]
	if len(cert) == 0 || len(key) == 0 {
		ps.add(Problem{Path: "porch.tls.secretRef", Value: ref, Rule: "a Secret with tls.crt and tls.key", Kind: ErrSecretNotFound})
		return
	}
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		ps.add(Problem{Path: "porch.tls.secretRef", Value: ref, Rule: "tls.crt and tls.key: a PEM certificate and its PEM key", Kind: ErrCertificate, Err: err})
		return
	}
	tc.CertData, tc.KeyData, tc.CertFile, tc.KeyFile = cert, key, "", ""
	if ca, ok := data["ca.crt"]; ok {
		if err := parseCerts(ca); err != nil {
			ps.add(Problem{Path: "porch.tls.secretRef", Value: ref, Rule: "ca.crt: PEM certificates", Kind: ErrCertificate, Err: err})
			return
		}
		tc.CAData, tc.CAFile = ca, ""
	}
}

// readCA reads and parses a PEM CA bundle.
func readCA(ps *problems, key, file string) []byte {
	b, err := os.ReadFile(file)
	if err == nil {
		err = parseCerts(b)
	}
	if err != nil {
		ps.add(Problem{Path: key, Value: file, Rule: "a readable file of PEM certificates", Kind: ErrCertificate, Err: err})
		return nil
	}
	return b
}

// parseCerts checks that b holds PEM certificates and nothing else.
func parseCerts(b []byte) error {
	n := 0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("a PEM block of type %s", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return errors.New("no PEM certificate")
	}
	return nil
}
