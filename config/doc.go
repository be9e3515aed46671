// Package config is porchkit's one typed configuration: the porch,
// multicluster, krm, blueprint and observability sections of a config.yaml,
// with the seed's key names and environment variables, each key defaulting
// to the option it maps onto.
//
// A configuration is loaded from YAML files, a ConfigMap's config.yaml
// (through client-go) and the environment, later sources winning, and is
// validated as a whole:
//
//	cfg, err := config.Load(ctx,
//		config.FromConfigMap(kube.CoreV1(), "nephio-system", "porchkit-config"),
//		config.FromEnv(os.LookupEnv))
//
// porchkit reads the environment only when FromEnv is called. Decoding is
// strict: an unknown key is reported with its path (keys of the seed's
// guide that porchkit has no option for say what to do instead), and so is
// a wrong type, a malformed duration or quantity, a bad URL, an unknown enum
// value or a number out of range — all of them at once, in one
// *ValidationError that wraps ErrInvalid and lists each Problem's key path,
// value and rule. A source that cannot be read is a *SourceError naming it
// (ErrNotYAML, ErrSourceNotFound, or the API error of an unreachable
// ConfigMap).
//
// Build turns a Config into components: the porch.Client, the krm.Runner,
// the multicluster ClusterManager and Propagator over the caller's Backend,
// and the observability.Provider. It reads every Secret and file the
// configuration references and parses every certificate, key and CA first,
// so a missing Secret or a malformed certificate fails Build with the key
// named before anything is made. The blueprint section is resolved into
// the catalog repository's registration (Components.Blueprint) and a
// blueprint.Catalog over its published revisions (Components.Catalog).
//
// Authentication (porch.auth.method): kubeconfig (a file and context),
// serviceaccount (the pod's token and CA files, the default), token (a
// bearer token), certificate (a client certificate, mTLS) and oauth2
// (client credentials). porch.tls adds a CA, a client certificate (files
// or a kubernetes.io/tls Secret) and a server name to any method. TLS
// verification stays on unless porch.tls.insecureSkipVerify says otherwise,
// and then Build logs a warning through the caller's logger.
//
// Secret values (the OAuth2 client secret, bearer tokens, git passwords)
// come from Kubernetes Secrets (SecretRef) or files, never from a
// configuration file. A Secret held in memory (from the environment or
// SecretValue) is redacted by String, every fmt verb and JSON and YAML
// marshalling, and no log line or error of Load or Build contains one.
//
// Keys lists every key with its environment variable and default.
package config
