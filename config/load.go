package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"sigs.k8s.io/yaml"
)

// ConfigMapKey is the key of a ConfigMap that holds the configuration.
const ConfigMapKey = "config.yaml"

// Source is a place a configuration is read from: FromFile, FromYAML,
// FromConfigMap or FromEnv.
type Source interface {
	// Name names the source in errors.
	Name() string
	// apply overlays the source on c, recording the keys it set in set.
	apply(ctx context.Context, c *Config, set origins) (problems, error)
}

// origins maps the key paths a source set to where they came from, so that
// validation problems name their source.
type origins map[string]Problem

// Load returns Default() overlaid with each source in turn, later sources
// winning: pass files and ConfigMaps first and FromEnv last for the usual
// precedence (environment over file over defaults). It validates the result
// as a whole and reports every unknown key, wrong type and invalid value of
// every source in one *ValidationError; a source that cannot be read at all
// is a *SourceError. On error the Config is the zero value.
func Load(ctx context.Context, sources ...Source) (Config, error) {
	c := Default()
	set := origins{}
	var all problems
	for _, s := range sources {
		ps, err := s.apply(ctx, &c, set)
		if err != nil {
			return Config{}, err
		}
		for _, p := range ps {
			if p.Source == "" {
				p.Source = s.Name()
			}
			all.add(p)
		}
	}
	for _, p := range c.validate() {
		if o, ok := set.lookup(p.Path); ok {
			p.Source, p.Env = o.Source, o.Env
		}
		all.add(p)
	}
	if err := all.err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// lookup finds the origin of path or of the closest key above it.
func (o origins) lookup(path string) (Problem, bool) {
	for p := path; p != ""; {
		if v, ok := o[p]; ok {
			return v, true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return Problem{}, false
}

// FromFile reads a YAML file.
func FromFile(path string) Source { return fileSource(path) }

type fileSource string

func (f fileSource) Name() string { return string(f) }

func (f fileSource) apply(_ context.Context, c *Config, set origins) (problems, error) {
	data, err := os.ReadFile(string(f))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w", ErrSourceNotFound, err)
		}
		return nil, &SourceError{Source: f.Name(), Err: err}
	}
	return applyYAML(f.Name(), data, c, set)
}

// FromYAML reads YAML held in memory; name names it in errors.
func FromYAML(name string, data []byte) Source { return yamlSource{name: name, data: data} }

type yamlSource struct {
	name string
	data []byte
}

func (y yamlSource) Name() string { return y.name }

func (y yamlSource) apply(_ context.Context, c *Config, set origins) (problems, error) {
	return applyYAML(y.name, y.data, c, set)
}

// FromConfigMap reads the ConfigMapKey of a ConfigMap through client-go.
// A ConfigMap that does not exist, or lacks the key, is a *SourceError
// wrapping ErrSourceNotFound (and, for the ConfigMap, the API's NotFound);
// one that cannot be read is a *SourceError wrapping the API error.
func FromConfigMap(client corev1client.ConfigMapsGetter, namespace, name string) Source {
	return configMapSource{client: client, namespace: namespace, name: name}
}

type configMapSource struct {
	client          corev1client.ConfigMapsGetter
	namespace, name string
}

func (s configMapSource) Name() string { return "configmap " + s.namespace + "/" + s.name }

func (s configMapSource) apply(ctx context.Context, c *Config, set origins) (problems, error) {
	if s.client == nil {
		return nil, &SourceError{Source: s.Name(), Err: errors.New("no client")}
	}
	cm, err := s.client.ConfigMaps(s.namespace).Get(ctx, s.name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, &SourceError{Source: s.Name(), Err: fmt.Errorf("%w: %w", ErrSourceNotFound, err)}
	case err != nil:
		return nil, &SourceError{Source: s.Name(), Err: fmt.Errorf("unreachable: %w", err)}
	}
	data, ok := cm.Data[ConfigMapKey]
	if !ok {
		return nil, &SourceError{Source: s.Name(), Err: fmt.Errorf("%w: no key %s", ErrSourceNotFound, ConfigMapKey)}
	}
	return applyYAML(s.Name(), []byte(data), c, set)
}

// applyYAML checks data against Config's keys and types, reporting every
// unknown key and wrong type, and decodes what is left onto c.
func applyYAML(source string, data []byte, c *Config, set origins) (problems, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, &SourceError{Source: source, Err: fmt.Errorf("%w: %v", ErrNotYAML, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, &SourceError{Source: source, Err: fmt.Errorf("%w: %v", ErrNotYAML, err)}
	}
	if tree == nil {
		return nil, nil
	}
	if _, ok := tree.(map[string]any); !ok {
		return nil, &SourceError{Source: source, Err: fmt.Errorf("%w: the document is %s", ErrNotYAML, describe(tree))}
	}
	ch := checker{source: source, set: set}
	pruned, _ := ch.check(reflect.TypeFor[Config](), tree, "")
	j, err = json.Marshal(pruned)
	if err == nil {
		err = json.Unmarshal(j, c)
	}
	if err != nil {
		// The checker let only values of the right type through.
		return nil, &SourceError{Source: source, Err: err}
	}
	return ch.ps, nil
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	secretType      = reflect.TypeFor[Secret]()
)

// checker walks a decoded YAML document beside the Go type it is decoded
// into.
type checker struct {
	source string
	set    origins
	ps     problems
}

// check returns v without its unknown keys and wrongly typed values, and
// whether v itself could stay.
func (ch *checker) check(t reflect.Type, v any, path string) (any, bool) {
	if v == nil {
		return nil, true
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	wrong := func(rule string) (any, bool) {
		value := describe(v)
		if t == secretType {
			value = Redacted
		}
		ch.ps.add(Problem{Path: path, Value: value, Rule: rule, Kind: ErrWrongType})
		return nil, false
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		switch v.(type) {
		case map[string]any, []any:
			return wrong("text, such as " + example(t))
		}
		ch.set[path] = Problem{Source: ch.source}
		return v, true
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			if t == secretType {
				return wrong("a mapping with secretRef or file (a configuration file cannot hold a secret value)")
			}
			return wrong("a mapping")
		}
		if path != "" {
			ch.set[path] = Problem{Source: ch.source}
		}
		out := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			sub := m[k]
			f, ok := fieldByKey(t, k)
			p := join(path, k)
			if !ok {
				rule := "no such key"
				if near, ok := fieldByKeyFold(t, k); ok {
					rule = "no such key; keys are case-sensitive: " + jsonName(near)
				} else if t == secretType && k == "value" {
					rule = "a configuration file cannot hold a secret value; give secretRef or file"
				} else if hint, ok := seedKeys[p]; ok {
					rule = "a key of the seed's configuration that porchkit has no option for: " + hint
				}
				ch.ps.add(Problem{Path: p, Rule: rule, Kind: ErrUnknownKey})
				continue
			}
			if kept, ok := ch.check(f.Type, sub, p); ok {
				out[k] = kept
			}
		}
		return out, true
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return wrong("a list")
		}
		good := true
		for i, e := range l {
			if _, ok := ch.check(t.Elem(), e, fmt.Sprintf("%s[%d]", path, i)); !ok {
				good = false
			}
		}
		if !good {
			return nil, false
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return wrong("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return wrong("true or false")
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			return wrong("an integer")
		}
		if _, err := n.Int64(); err != nil {
			return wrong("an integer")
		}
	}
	ch.set[path] = Problem{Source: ch.source}
	return v, true
}

// fieldByKey finds the field of struct t whose json name is key, exactly.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && jsonName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// fieldByKeyFold finds the field whose json name is key in another case.
func fieldByKeyFold(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && strings.EqualFold(jsonName(f), key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describe renders a decoded YAML value for a Problem.
func describe(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return v
	case nil:
		return "null"
	default:
		return fmt.Sprint(v)
	}
}

func example(t reflect.Type) string {
	if t == reflect.TypeFor[Quantity]() {
		return "512Mi or 500m"
	}
	return "30s or 5m"
}

// seedKeys are keys of the seed's configuration guide that porchkit has no
// option for; loading reports them as unknown, with what to do instead.
var seedKeys = map[string]string{
	"porch.auth.secretName":                "give porch.auth.clientSecret.secretRef instead",
	"multicluster.maxClusters":             "the ClusterManager has no cluster limit",
	"multicluster.syncInterval":            "delivery is the Backend's; its own options set how it syncs",
	"multicluster.propagation.strategies":  "strategies are passed to each Propagate call",
	"blueprint.cacheTtl":                   "there is no blueprint cache",
	"blueprint.validation":                 "there is no blueprint validation",
	"observability.metrics.port":           "porchkit serves no HTTP; serve Components.Observability.Registry() yourself",
	"observability.metrics.path":           "porchkit serves no HTTP; serve Components.Observability.Registry() yourself",
	"observability.tracing.jaegerEndpoint": "pass a TracerProvider with your exporter in BuildOptions",
	"observability.logging":                "pass your logr.Logger in BuildOptions",
	"circuitBreaker":                       "the breaker is porch.circuitBreaker",
	"connectionPool":                       "connection pooling is client-go's (rest.Config)",
}

// FromEnv reads the environment variables of every key (their names are
// in Keys) through lookup, normally os.LookupEnv: porchkit reads the
// environment only through this call. A secret key reads NAME for the
// value itself (as set from a Secret with secretKeyRef) or NAME_FILE for
// a file; lists are comma-separated; a Secret reference (porch.tls.secretRef)
// is namespace/name.
func FromEnv(lookup func(string) (string, bool)) Source { return envSource{lookup: lookup} }

type envSource struct {
	lookup func(string) (string, bool)
}

func (envSource) Name() string { return "environment" }

func (e envSource) apply(_ context.Context, c *Config, set origins) (problems, error) {
	var ps problems
	walk(reflect.ValueOf(c).Elem(), "", func(path, env string, v reflect.Value) {
		if env == "" || e.lookup == nil {
			return
		}
		origin := Problem{Source: e.Name(), Env: env}
		wrong := func(raw, rule string) {
			ps.add(Problem{Path: path, Env: env, Value: raw, Rule: rule, Kind: ErrWrongType})
		}
		if v.Type() == secretType {
			value, hasValue := e.lookup(env)
			file, hasFile := e.lookup(env + "_FILE")
			switch {
			case hasValue && hasFile:
				ps.add(Problem{Path: path, Env: env, Rule: "only one of " + env + " and " + env + "_FILE", Kind: ErrInvalidValue})
			case hasValue:
				v.Set(reflect.ValueOf(SecretValue(value)))
				set[path] = origin
			case hasFile:
				v.Set(reflect.ValueOf(Secret{File: file}))
				origin.Env = env + "_FILE"
				set[path] = origin
			}
			return
		}
		raw, ok := e.lookup(env)
		if !ok {
			return
		}
		set[path] = origin
		switch p := v.Addr().Interface().(type) {
		case *Duration:
			p.set(raw)
		case *Quantity:
			p.set(raw)
		case **ObjectRef:
			ns, name, ok := strings.Cut(raw, "/")
			if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
				wrong(raw, "namespace/name")
				return
			}
			*p = &ObjectRef{Namespace: ns, Name: name}
		case *string:
			*p = raw
		case *bool:
			b, err := strconv.ParseBool(strings.TrimSpace(raw))
			if err != nil {
				wrong(raw, "true or false")
				return
			}
			*p = b
		case *int:
			n, err := strconv.Atoi(strings.TrimSpace(raw))
			if err != nil {
				wrong(raw, "an integer")
				return
			}
			*p = n
		case *[]string:
			var l []string
			for _, s := range strings.Split(raw, ",") {
				if s = strings.TrimSpace(s); s != "" {
					l = append(l, s)
				}
			}
			*p = l
		}
	})
	return ps, nil
}

// walk calls fn for every key of the struct v (a leaf: not a nested
// section), with its path and environment variable.
func walk(v reflect.Value, path string, fn func(path, env string, v reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		p := join(path, jsonName(f))
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("env") == "" && !reflect.PointerTo(f.Type).Implements(unmarshalerType) {
			walk(fv, p, fn)
			continue
		}
		fn(p, f.Tag.Get("env"), fv)
	}
}

// Key describes one configuration key.
type Key struct {
	// Path is the key's path in config.yaml, e.g. "porch.auth.method".
	Path string
	// Env is its environment variable (a secret key also reads Env_FILE).
	Env string
	// Default is Default()'s value, as text ("" when unset).
	Default string
	// Secret marks a key whose value is a Secret.
	Secret bool
}

// Keys lists every key with its environment variable and default, in the
// order of the Config type.
func Keys() []Key {
	var keys []Key
	d := Default()
	walk(reflect.ValueOf(&d).Elem(), "", func(path, env string, v reflect.Value) {
		keys = append(keys, Key{Path: path, Env: env, Default: text(v), Secret: v.Type() == secretType})
	})
	return keys
}

// text renders a key's value as a Keys default.
func text(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case []string:
		return strings.Join(x, ",")
	case *ObjectRef:
		if x == nil {
			return ""
		}
		return x.Namespace + "/" + x.Name
	case Duration:
		if x.Duration == 0 {
			return ""
		}
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v.Interface())
}
