package kubeplane

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nephoran/porchkit/internal/pki"
)

// Admin is the user name of the stack's administrator (group system:masters).
const Admin = "porchkit-admin"

// frontProxyClient is the common name the API servers accept for
// aggregation requests (request-header authentication).
const frontProxyClient = "front-proxy-client"

// Credentials are the certificates, keys and tokens of one stack, written to
// files that the servers read.
type Credentials struct {
	// CA signs every certificate; CAFile is its PEM file.
	CA     *pki.CA
	CAFile string
	// ServingCert/ServingKey are the servers' TLS files (127.0.0.1, localhost).
	ServingCert, ServingKey string
	// AdminToken is a bearer token of user Admin in group system:masters.
	AdminToken string
	// AdminClient is a client certificate of user Admin in system:masters.
	AdminClient *pki.KeyPair
	// TokenFile is the static token file (--token-auth-file).
	TokenFile string
	// ProxyCert/ProxyKey authenticate kube-apiserver to aggregated servers.
	ProxyCert, ProxyKey string
	// SAKey/SAPub sign and verify service-account tokens.
	SAKey, SAPub string
}

// NewCredentials creates a stack's credentials in dir. The serving
// certificate is valid for 127.0.0.1, localhost and the extra DNS names (for
// example the in-cluster name of an aggregated API's Service).
func NewCredentials(dir string, dnsNames ...string) (*Credentials, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("kubeplane: %w", err)
	}
	ca, err := pki.NewCA("porchkit-test-ca")
	if err != nil {
		return nil, err
	}
	c := &Credentials{CA: ca, CAFile: filepath.Join(dir, "ca.crt")}
	if err := os.WriteFile(c.CAFile, ca.CertPEM, 0o644); err != nil {
		return nil, fmt.Errorf("kubeplane: %w", err)
	}
	serving, err := ca.Serving("porchkit-test-server", dnsNames...)
	if err != nil {
		return nil, err
	}
	if c.ServingCert, c.ServingKey, err = serving.Write(dir, "serving"); err != nil {
		return nil, err
	}
	if c.AdminClient, err = ca.Client(Admin, "system:masters"); err != nil {
		return nil, err
	}
	proxy, err := ca.Client(frontProxyClient)
	if err != nil {
		return nil, err
	}
	if c.ProxyCert, c.ProxyKey, err = proxy.Write(dir, "front-proxy-client"); err != nil {
		return nil, err
	}
	priv, pub, err := pki.ServiceAccountKey()
	if err != nil {
		return nil, err
	}
	c.SAKey, c.SAPub = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(c.SAKey, priv, 0o600); err != nil {
		return nil, fmt.Errorf("kubeplane: %w", err)
	}
	if err := os.WriteFile(c.SAPub, pub, 0o644); err != nil {
		return nil, fmt.Errorf("kubeplane: %w", err)
	}
	token := make([]byte, 24)
	if _, err := rand.Read(token); err != nil {
		return nil, fmt.Errorf("kubeplane: %w", err)
	}
	c.AdminToken = hex.EncodeToString(token)
	c.TokenFile = filepath.Join(dir, "tokens.csv")
	line := fmt.Sprintf("%s,%s,%s,\"system:masters\"\n", c.AdminToken, Admin, Admin)
	if err := os.WriteFile(c.TokenFile, []byte(line), 0o600); err != nil {
		return nil, fmt.Errorf("kubeplane: %w", err)
	}
	return c, nil
}
