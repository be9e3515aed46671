package blueprint

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Values are a blueprint's parameter values, as decoded JSON or YAML:
// maps with string keys, slices, strings, booleans, numbers and nil.
type Values map[string]any

// DeepCopy returns an independent copy.
func (v Values) DeepCopy() Values {
	if v == nil {
		return nil
	}
	out, _ := deepCopyValue(map[string]any(v)).(map[string]any)
	return out
}

// Get returns the value at a dot-separated path ("ha.enabled").
func (v Values) Get(path string) (any, bool) {
	var cur any = map[string]any(v)
	for _, key := range strings.Split(path, ".") {
		m, ok := asMap(cur)
		if !ok {
			return nil, false
		}
		if cur, ok = m[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Set writes the value at a dot-separated path, creating intermediate
// objects; it fails when a step of the path holds something that is not
// an object.
func (v Values) Set(path string, value any) error {
	keys := strings.Split(path, ".")
	cur := map[string]any(v)
	for i, key := range keys[:len(keys)-1] {
		next, ok := cur[key]
		if !ok {
			m := map[string]any{}
			cur[key] = m
			cur = m
			continue
		}
		m, ok := asMap(next)
		if !ok {
			return fmt.Errorf("%w: %s is a %T, not an object", ErrInvalidValues, strings.Join(keys[:i+1], "."), next)
		}
		if _, isValues := next.(Values); isValues {
			cur[key] = m
		}
		cur = m
	}
	cur[keys[len(keys)-1]] = value
	return nil
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case Values:
		return map[string]any(m), true
	}
	return nil, false
}

// Layer names where an effective value came from; later layers win.
type Layer string

// The layers, lowest first.
const (
	// LayerDefault is the schema's default.
	LayerDefault Layer = "default"
	// LayerEnvironment is the blueprint's overlay for the chosen
	// environment.
	LayerEnvironment Layer = "environment"
	// LayerValues is the caller's values.
	LayerValues Layer = "values"
	// LayerCluster is the target cluster's context (region, site,
	// capabilities, ...).
	LayerCluster Layer = "cluster"
)

// Layers is the precedence order, lowest first.
var Layers = []Layer{LayerDefault, LayerEnvironment, LayerValues, LayerCluster}

// Origins says, for each leaf value path (dot-separated), which layer set
// the effective value.
type Origins map[string]Layer

// merge overlays src onto dst (objects merged key by key, anything else
// replaced) and records the origin of every leaf it writes.
func merge(dst map[string]any, src map[string]any, layer Layer, prefix string, origins Origins) {
	for _, key := range sortedKeys(src) {
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		sv := src[key]
		if sm, ok := asMap(sv); ok && len(sm) > 0 {
			dm, ok := asMap(dst[key])
			if !ok {
				dm = map[string]any{}
				forget(origins, path)
			} else {
				// The overlay's object replaces leaves the lower layer put at
				// this path itself.
				delete(origins, path)
			}
			dst[key] = dm
			merge(dm, sm, layer, path, origins)
			continue
		}
		forget(origins, path)
		dst[key] = deepCopyValue(sv)
		origins[path] = layer
	}
}

// forget drops the origins at and under path.
func forget(origins Origins, path string) {
	for k := range origins {
		if k == path || strings.HasPrefix(k, path+".") {
			delete(origins, k)
		}
	}
}

func deepCopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopyValue(e)
		}
		return out
	case Values:
		return deepCopyValue(map[string]any(t))
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopyValue(e)
		}
		return out
	}
	return v
}

// normalizeError locates a value that has no JSON form.
type normalizeError struct {
	pointer string
	reason  string
}

func (e *normalizeError) Error() string {
	loc := e.pointer
	if loc == "" {
		loc = "/"
	}
	return fmt.Sprintf("value at %s: %s", loc, e.reason)
}

func (e *normalizeError) Is(target error) bool { return target == ErrInvalidValues }

// normalizeValues converts values to the canonical JSON forms the schema
// validator and the bindings use: map[string]any, []any, string, bool,
// nil, int64 for integral numbers that fit, float64 otherwise.
func normalizeValues(v Values) (map[string]any, error) {
	n, err := normalizeAt(map[string]any(v), "")
	if err != nil {
		return nil, err
	}
	m, _ := n.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// normalize is normalizeValues for any decoded document.
func normalize(v any) (any, error) { return normalizeAt(v, "") }

func normalizeAt(v any, at string) (any, error) {
	switch t := v.(type) {
	case nil, string, bool, int64:
		return t, nil
	case int:
		return int64(t), nil
	case int8:
		return int64(t), nil
	case int16:
		return int64(t), nil
	case int32:
		return int64(t), nil
	case uint8:
		return int64(t), nil
	case uint16:
		return int64(t), nil
	case uint32:
		return int64(t), nil
	case uint:
		if uint64(t) > math.MaxInt64 {
			return float64(t), nil
		}
		return int64(t), nil
	case uint64:
		if t > math.MaxInt64 {
			return float64(t), nil
		}
		return int64(t), nil
	case float32:
		return normalizeFloat(float64(t), at)
	case float64:
		return normalizeFloat(t, at)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, &normalizeError{pointer: at, reason: fmt.Sprintf("number %q out of range", t.String())}
		}
		return normalizeFloat(f, at)
	case Values:
		return normalizeAt(map[string]any(t), at)
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range sortedKeys(t) {
			e, err := normalizeAt(t[k], at+"/"+escapePointer(k))
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			n, err := normalizeAt(e, at+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	return normalizeReflect(v, at)
}

// normalizeReflect handles typed slices and maps ([]string,
// map[string]int, ...).
func normalizeReflect(v any, at string) (any, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			n, err := normalizeAt(rv.Index(i).Interface(), at+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, &normalizeError{pointer: at, reason: fmt.Sprintf("map with %s keys (keys must be strings)", rv.Type().Key())}
		}
		if rv.IsNil() {
			return nil, nil
		}
		out := make(map[string]any, rv.Len())
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			n, err := normalizeAt(rv.MapIndex(k).Interface(), at+"/"+escapePointer(k.String()))
			if err != nil {
				return nil, err
			}
			out[k.String()] = n
		}
		return out, nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return normalizeAt(rv.Elem().Interface(), at)
	}
	return nil, &normalizeError{pointer: at, reason: fmt.Sprintf("a %T has no JSON form", v)}
}

func normalizeFloat(f float64, at string) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, &normalizeError{pointer: at, reason: fmt.Sprintf("%v is not a JSON number", f)}
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), nil
	}
	return f, nil
}

func ratNumber(r *big.Rat) any {
	if r == nil {
		return nil
	}
	if r.IsInt() && r.Num().IsInt64() {
		return r.Num().Int64()
	}
	f, _ := r.Float64()
	return f
}

// pointer renders JSON pointer tokens.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

func escapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// lookupPointer reads the instance at unescaped pointer tokens.
func lookupPointer(inst any, tokens []string) (any, bool) {
	cur := inst
	for _, t := range tokens {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
