package kubeplane

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/nephoran/porchkit/internal/process"
)

// APIServerSpec configures a kube-apiserver.
type APIServerSpec struct {
	// Name distinguishes the process in logs, e.g. "kube-apiserver".
	Name string
	// Path is the kube-apiserver binary.
	Path string
	// Dir holds the server's log and certificates.
	Dir string
	// EtcdURL is etcd's client URL; EtcdPrefix (optional) separates several
	// API servers sharing one etcd.
	EtcdURL, EtcdPrefix string
	// Credentials are the stack's certificates and tokens.
	Credentials *Credentials
	// ExtraArgs are appended to the server's flags, for example
	// --audit-policy-file and --audit-log-path; a later flag overrides an
	// earlier one of the same name.
	ExtraArgs []string
}

// APIServer is a running kube-apiserver.
type APIServer struct {
	spec APIServerSpec
	port int
	proc *process.Process
	// Host is the server's URL, https://127.0.0.1:<port>.
	Host string
}

// StartAPIServer starts a kube-apiserver on a free port and waits until its
// /readyz answers.
func StartAPIServer(ctx context.Context, spec APIServerSpec) (*APIServer, error) {
	ports, err := process.FreePorts(1)
	if err != nil {
		return nil, err
	}
	a := &APIServer{spec: spec, port: ports[0], Host: "https://127.0.0.1:" + strconv.Itoa(ports[0])}
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *APIServer) args() []string {
	c := a.spec.Credentials
	args := []string{
		"--etcd-servers=" + a.spec.EtcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(a.port),
		"--cert-dir=" + filepath.Join(a.spec.Dir, "certs"),
		"--tls-cert-file=" + c.ServingCert,
		"--tls-private-key-file=" + c.ServingKey,
		"--client-ca-file=" + c.CAFile,
		"--token-auth-file=" + c.TokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://localhost",
		"--service-account-key-file=" + c.SAPub,
		"--service-account-signing-key-file=" + c.SAKey,
		"--service-cluster-ip-range=10.96.0.0/24",
		"--disable-admission-plugins=ServiceAccount",
		// Aggregation: kube-apiserver proxies aggregated APIs (porch.kpt.dev)
		// with the front-proxy client certificate and request headers.
		"--requestheader-client-ca-file=" + c.CAFile,
		"--requestheader-allowed-names=" + frontProxyClient,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + c.ProxyCert,
		"--proxy-client-key-file=" + c.ProxyKey,
		"--profiling=false",
		"--v=1",
	}
	if a.spec.EtcdPrefix != "" {
		args = append(args, "--etcd-prefix="+a.spec.EtcdPrefix)
	}
	return append(args, a.spec.ExtraArgs...)
}

// Start starts (or restarts, after Stop) the server on its port and waits
// until it is ready.
func (a *APIServer) Start(ctx context.Context) error {
	if a.proc != nil && a.proc.Running() {
		return fmt.Errorf("kubeplane: %s is already running", a.spec.Name)
	}
	p, err := process.Start(process.Spec{Name: a.spec.Name, Path: a.spec.Path, Dir: a.spec.Dir, Args: a.args()})
	if err != nil {
		return err
	}
	a.proc = p
	if err := WaitHTTPReady(ctx, p, a.RESTConfig(), "/readyz"); err != nil {
		_ = p.Stop(5 * time.Second)
		return err
	}
	return nil
}

// Stop stops the server. kube-apiserver shuts down gracefully for a while on
// SIGTERM; Stop gives it a few seconds and then kills it.
func (a *APIServer) Stop() error {
	if a.proc == nil {
		return nil
	}
	return a.proc.Stop(5 * time.Second)
}

// Process returns the server's current process.
func (a *APIServer) Process() *process.Process { return a.proc }

// RESTConfig returns an administrator's configuration (bearer token) that
// verifies the server's certificate.
func (a *APIServer) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            a.Host,
		BearerToken:     a.spec.Credentials.AdminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: a.spec.Credentials.CA.CertPEM},
		QPS:             -1, // no client-side rate limit in tests
	}
}

// ClientCertConfig returns an administrator's configuration that
// authenticates with a client certificate instead of a token.
func (a *APIServer) ClientCertConfig() *rest.Config {
	c := a.spec.Credentials
	return &rest.Config{
		Host: a.Host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   c.CA.CertPEM,
			CertData: c.AdminClient.CertPEM,
			KeyData:  c.AdminClient.KeyPEM,
		},
		QPS: -1,
	}
}

// WriteKubeconfig writes an administrator kubeconfig for the server to path.
func (a *APIServer) WriteKubeconfig(path string) error {
	return WriteKubeconfig(path, a.RESTConfig())
}

// WriteKubeconfig writes cfg (host, CA, token) as a kubeconfig file.
func WriteKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "admin"}
	kc.CurrentContext = "local"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("kubeplane: %w", err)
	}
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("kubeplane: write kubeconfig: %w", err)
	}
	return nil
}

// WaitHTTPReady waits until GET path on the server of cfg answers 200 OK.
func WaitHTTPReady(ctx context.Context, p *process.Process, cfg *rest.Config, path string) error {
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return fmt.Errorf("kubeplane: %w", err)
	}
	hc := &http.Client{Transport: rt, Timeout: 5 * time.Second}
	return p.WaitReady(ctx, 200*time.Millisecond, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+path, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return nil
	})
}
