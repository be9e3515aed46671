package config

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate checks the whole configuration and reports every invalid value
// at once in a *ValidationError (wrapping ErrInvalid), each with its key
// path, the value and the rule it breaks. It reads no file and no Secret;
// Build does that.
func (c Config) Validate() error { return c.validate().err() }

var authMethods = []string{AuthKubeconfig, AuthServiceAccount, AuthToken, AuthCertificate, AuthOAuth2}

func (c Config) validate() problems {
	var ps problems
	c.Porch.validate(&ps)
	c.Multicluster.validate(&ps)
	c.KRM.Executor.validate(&ps)
	c.Blueprint.validate(&ps)
	return ps
}

func (p PorchConfig) validate(ps *problems) {
	method := p.Auth.Method
	if p.APIURL != "" {
		checkURL(ps, "porch.apiUrl", p.APIURL, "http", "https")
	} else if method == AuthToken || method == AuthCertificate || method == AuthOAuth2 {
		ps.invalid("porch.apiUrl", "", "required for auth method "+method)
	}
	checkDuration(ps, "porch.timeout", p.Timeout, false)
	atLeast(ps, "porch.retryCount", p.RetryCount, 0)
	atLeast(ps, "porch.conflictRetries", p.ConflictRetries, 0)
	atLeast(ps, "porch.repositoryConcurrency", p.RepositoryConcurrency, 0)

	a := p.Auth
	if !slices.Contains(authMethods, method) {
		ps.invalid("porch.auth.method", method, "one of "+strings.Join(authMethods, ", "))
	}
	switch method {
	case AuthKubeconfig:
		required(ps, "porch.auth.kubeconfig", a.Kubeconfig, "for auth method kubeconfig (porchkit does not read KUBECONFIG)")
	case AuthServiceAccount:
		required(ps, "porch.auth.serviceAccount.tokenFile", a.ServiceAccount.TokenFile, "for auth method serviceaccount")
		required(ps, "porch.auth.serviceAccount.caFile", a.ServiceAccount.CAFile, "for auth method serviceaccount")
	case AuthToken:
		if !a.Token.IsSet() {
			ps.invalid("porch.auth.token", "", "required for auth method token: a secretRef or a file")
		}
	case AuthCertificate:
		if p.TLS.SecretRef == nil && (p.TLS.CertFile == "" || p.TLS.KeyFile == "") {
			ps.invalid("porch.tls.certFile", p.TLS.CertFile, "porch.tls.certFile and keyFile, or porch.tls.secretRef, required for auth method certificate")
		}
	case AuthOAuth2:
		required(ps, "porch.auth.clientId", a.ClientID, "for auth method oauth2")
		if !a.ClientSecret.IsSet() {
			ps.invalid("porch.auth.clientSecret", "", "required for auth method oauth2: a secretRef or a file")
		}
		if a.TokenURL == "" {
			ps.invalid("porch.auth.tokenUrl", "", "required for auth method oauth2")
		}
	}
	if a.TokenURL != "" {
		checkURL(ps, "porch.auth.tokenUrl", a.TokenURL, "http", "https")
	}
	checkSecret(ps, "porch.auth.token", a.Token)
	checkSecret(ps, "porch.auth.clientSecret", a.ClientSecret)

	t := p.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		ps.invalid("porch.tls.keyFile", t.KeyFile, "porch.tls.certFile and keyFile go together")
	}
	if r := t.SecretRef; r != nil {
		dnsSubdomain(ps, "porch.tls.secretRef.name", r.Name)
		dnsLabel(ps, "porch.tls.secretRef.namespace", r.Namespace)
		if t.CertFile != "" || t.CAFile != "" {
			ps.invalid("porch.tls.secretRef", r.Namespace+"/"+r.Name, "not with porch.tls.certFile, keyFile or caFile")
		}
	}
	if t.InsecureSkipVerify && t.CAFile != "" {
		ps.invalid("porch.tls.insecureSkipVerify", "true", "not with porch.tls.caFile: a CA is for verifying")
	}

	positive(ps, "porch.circuitBreaker.threshold", p.CircuitBreaker.Threshold)
	checkDuration(ps, "porch.circuitBreaker.timeout", p.CircuitBreaker.Timeout, true)
	checkDuration(ps, "porch.cache.ttl", p.Cache.TTL, true)
	positive(ps, "porch.cache.size", p.Cache.Size)
}

func (m MulticlusterConfig) validate(ps *problems) {
	h := m.HealthCheck
	checkDuration(ps, "multicluster.healthCheck.interval", h.Interval, true)
	checkDuration(ps, "multicluster.healthCheck.timeout", h.Timeout, true)
	positive(ps, "multicluster.healthCheck.concurrency", h.Concurrency)
	p := m.Propagation
	positive(ps, "multicluster.propagation.unreachableAfter", p.UnreachableAfter)
	positive(ps, "multicluster.propagation.renderConcurrency", p.RenderConcurrency)
	checkDuration(ps, "multicluster.propagation.saveInterval", p.SaveInterval, true)
	checkDuration(ps, "multicluster.propagation.saveTimeout", p.SaveTimeout, true)
	checkDuration(ps, "multicluster.propagation.retention", p.Retention, true)
	positive(ps, "multicluster.propagation.failuresShown", p.FailuresShown)
	positive(ps, "multicluster.propagation.wavesShown", p.WavesShown)
	positive(ps, "multicluster.propagation.eventBuffer", p.EventBuffer)
	switch m.StateStore.Type {
	case StoreMemory:
	case StoreConfigMap:
		dnsLabel(ps, "multicluster.stateStore.namespace", m.StateStore.Namespace)
	default:
		ps.invalid("multicluster.stateStore.type", m.StateStore.Type, "one of memory, configmap")
	}
}

func (e ExecutorConfig) validate(ps *problems) {
	if !e.SandboxEnabled {
		ps.invalid("krm.executor.sandboxEnabled", "false", "true: porchkit always runs functions in a sandbox")
	}
	checkDuration(ps, "krm.executor.timeout", e.Timeout, false)
	atLeast(ps, "krm.executor.memoSize", e.MemoSize, 0)
	r := e.Resources
	checkQuantity(ps, "krm.executor.resources.memoryLimit", r.MemoryLimit)
	checkDuration(ps, "krm.executor.resources.cpuTimeLimit", r.CPUTimeLimit, false)
	checkQuantity(ps, "krm.executor.resources.cpuLimit", r.CPULimit)
	if !r.CPULimit.IsSet() && r.CPULimit.invalid == "" {
		ps.invalid("krm.executor.resources.cpuLimit", "", "required: a number of cores such as 1 or 500m")
	}
	for i, p := range e.Security.AllowedImages {
		checkPattern(ps, fmt.Sprintf("krm.executor.security.allowedImages[%d]", i), p)
	}
	for i, p := range e.Security.AllowMounts {
		checkPattern(ps, fmt.Sprintf("krm.executor.security.allowMounts[%d]", i), p)
	}
	if !slices.Contains(pullPolicies, e.Container.Pull) {
		ps.invalid("krm.executor.container.pull", e.Container.Pull, "one of "+strings.Join(pullPolicies, ", "))
	}
}

func (b BlueprintConfig) validate(ps *problems) {
	if b.CatalogURL != "" {
		checkURL(ps, "blueprint.catalogUrl", b.CatalogURL, "http", "https", "oci")
	}
	dnsLabel(ps, "blueprint.repository", b.Repository)
	dnsLabel(ps, "blueprint.namespace", b.Namespace)
	required(ps, "blueprint.branch", b.Branch, "")
	a := b.Auth
	if (a.Username != "") != a.Password.IsSet() {
		ps.invalid("blueprint.auth.username", a.Username, "blueprint.auth.username and password go together")
	}
	if a.SecretName != "" {
		dnsSubdomain(ps, "blueprint.auth.secretName", a.SecretName)
		if a.Password.IsSet() {
			ps.invalid("blueprint.auth.secretName", a.SecretName, "not with blueprint.auth.password")
		}
	}
	checkSecret(ps, "blueprint.auth.password", a.Password)
}

func checkURL(ps *problems, key, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		ps.add(Problem{Path: key, Value: raw, Rule: "a URL", Kind: ErrInvalidValue, Err: err})
	case !slices.Contains(schemes, u.Scheme):
		ps.invalid(key, raw, "a URL with scheme "+strings.Join(schemes, " or "))
	case u.Host == "":
		ps.invalid(key, raw, "a URL with a host")
	}
}

func checkDuration(ps *problems, key string, d Duration, positive bool) {
	switch {
	case d.invalid != "":
		ps.invalid(key, d.invalid, "a duration such as 30s, 5m or 1h30m")
	case d.Duration < 0:
		ps.invalid(key, d.String(), "not negative")
	case positive && d.Duration == 0:
		ps.invalid(key, d.String(), "greater than 0")
	}
}

func checkQuantity(ps *problems, key string, q Quantity) {
	switch {
	case q.invalid != "":
		ps.invalid(key, q.invalid, "a quantity such as 512Mi, 1Gi or 500m")
	case q.IsSet() && q.q.Sign() <= 0:
		ps.invalid(key, q.String(), "greater than 0")
	}
}

func checkSecret(ps *problems, key string, s Secret) {
	if s.sources() > 1 {
		ps.invalid(key, s.String(), "one of secretRef and file")
	}
	if s.value != nil && len(s.value) == 0 {
		ps.invalid(key, "", "not empty")
	}
	if r := s.SecretRef; r != nil {
		dnsLabel(ps, key+".secretRef.namespace", r.Namespace)
		dnsSubdomain(ps, key+".secretRef.name", r.Name)
		if r.Key == "" {
			ps.invalid(key+".secretRef.key", "", "required")
		} else if errs := validation.IsConfigMapKey(r.Key); len(errs) > 0 {
			ps.invalid(key+".secretRef.key", r.Key, errs[0])
		}
	}
}

func checkPattern(ps *problems, key, pattern string) {
	if _, err := path.Match(pattern, ""); err != nil {
		ps.add(Problem{Path: key, Value: pattern, Rule: "a glob pattern (path.Match)", Kind: ErrInvalidValue, Err: err})
	}
}

func required(ps *problems, key, value, why string) {
	if value == "" {
		rule := "required"
		if why != "" {
			rule += " " + why
		}
		ps.invalid(key, "", rule)
	}
}

func atLeast(ps *problems, key string, v, lowest int) {
	if v < lowest {
		ps.invalid(key, strconv.Itoa(v), fmt.Sprintf("at least %d", lowest))
	}
}

func positive(ps *problems, key string, v int) {
	if v <= 0 {
		ps.invalid(key, strconv.Itoa(v), "greater than 0")
	}
}

func dnsLabel(ps *problems, key, v string) {
	if errs := validation.IsDNS1123Label(v); len(errs) > 0 {
		ps.invalid(key, v, "a DNS label: "+errs[0])
	}
}

func dnsSubdomain(ps *problems, key, v string) {
	if errs := validation.IsDNS1123Subdomain(v); len(errs) > 0 {
		ps.invalid(key, v, "a DNS subdomain: "+errs[0])
	}
}
