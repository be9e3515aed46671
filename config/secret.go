package config

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Redacted is what printing or marshalling shows in place of a secret
// value.
const Redacted = "[redacted]"

// SecretRef names one key of a Kubernetes Secret.
type SecretRef struct {
	// Namespace of the Secret (required).
	Namespace string `json:"namespace,omitempty"`
	// Name of the Secret (required).
	Name string `json:"name,omitempty"`
	// Key in the Secret's data (required).
	Key string `json:"key,omitempty"`
}

// String is namespace/name[key].
func (r SecretRef) String() string { return fmt.Sprintf("%s/%s[%s]", r.Namespace, r.Name, r.Key) }

// Secret is where a secret value (an OAuth2 client secret, a bearer token,
// a git password) comes from: a key of a Kubernetes Secret, or a file such
// as a mounted Secret volume. Build reads it; the value itself is never
// part of the Config. A value given in code or through the environment
// (SecretValue, FromEnv) is held inside and redacted by String, every fmt
// verb and JSON/YAML marshalling; a configuration file cannot give one, so
// secrets stay out of files and ConfigMaps.
type Secret struct {
	// SecretRef reads the value from a Kubernetes Secret.
	SecretRef *SecretRef `json:"secretRef,omitempty"`
	// File reads the value from a file; one trailing newline is dropped.
	File string `json:"file,omitempty"`

	value []byte
}

// SecretValue returns a Secret holding v itself, for values that reach the
// program by other means (an environment variable set from a Secret).
func SecretValue(v string) Secret { return Secret{value: []byte(v)} }

// IsSet reports whether any source is given.
func (s Secret) IsSet() bool { return s.SecretRef != nil || s.File != "" || s.value != nil }

// sources counts the sources given, which must be one.
func (s Secret) sources() int {
	n := 0
	for _, set := range []bool{s.SecretRef != nil, s.File != "", s.value != nil} {
		if set {
			n++
		}
	}
	return n
}

// String says where the value comes from, never the value.
func (s Secret) String() string {
	switch {
	case s.SecretRef != nil:
		return "secret " + s.SecretRef.String()
	case s.File != "":
		return "file " + s.File
	case s.value != nil:
		return Redacted
	}
	return ""
}

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x ...) print String.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.String())
	default:
		_, _ = f.Write([]byte(s.String()))
	}
}

// GoString is String, so %#v redacts too.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON writes the source, and Redacted in place of a value held
// inside. sigs.k8s.io/yaml marshals through it as well.
func (s Secret) MarshalJSON() ([]byte, error) {
	out := struct {
		SecretRef *SecretRef `json:"secretRef,omitempty"`
		File      string     `json:"file,omitempty"`
		Value     string     `json:"value,omitempty"`
	}{SecretRef: s.SecretRef, File: s.File}
	if s.value != nil {
		out.Value = Redacted
	}
	return json.Marshal(out)
}

// resolve reads the value: from the Secret through secrets, or from the
// file. A missing Secret, key or file is a Problem of kind
// ErrSecretNotFound at path; the value never appears in it.
func (s Secret) resolve(ctx context.Context, secrets corev1client.SecretsGetter, path string) ([]byte, *Problem) {
	switch {
	case s.value != nil:
		return s.value, nil
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return nil, &Problem{Path: path + ".file", Value: s.File, Rule: "a readable file", Kind: ErrSecretNotFound, Err: err}
		}
		return bytes.TrimSuffix(b, []byte("\n")), nil
	case s.SecretRef != nil:
		ref := *s.SecretRef
		data, p := secretData(ctx, secrets, path+".secretRef", ref.Namespace, ref.Name)
		if p != nil {
			return nil, p
		}
		v, ok := data[ref.Key]
		if !ok {
			return nil, &Problem{Path: path + ".secretRef.key", Value: ref.Key,
				Rule: fmt.Sprintf("a key of Secret %s/%s", ref.Namespace, ref.Name), Kind: ErrSecretNotFound}
		}
		return v, nil
	}
	return nil, nil
}

// secretData reads a Secret's data.
func secretData(ctx context.Context, secrets corev1client.SecretsGetter, path, namespace, name string) (map[string][]byte, *Problem) {
	if secrets == nil {
		return nil, &Problem{Path: path, Value: namespace + "/" + name, Rule: "reading a Secret needs BuildOptions.KubeClient", Kind: ErrSecretNotFound}
	}
	sec, err := secrets.Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		rule := "a readable Secret"
		if apierrors.IsNotFound(err) {
			rule = "an existing Secret"
		}
		return nil, &Problem{Path: path, Value: namespace + "/" + name, Rule: rule, Kind: ErrSecretNotFound, Err: err}
	}
	return sec.Data, nil
}
