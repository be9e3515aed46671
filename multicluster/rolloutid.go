package multicluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"reflect"
	"sort"
	"strings"
)

// maxIDLength keeps a rollout ID a valid label value (63 characters), so
// that ConfigMapStore can label its ConfigMaps with it.
const maxIDLength = 63

// rolloutID derives a rollout's ID from its inputs alone: the package's
// name and revision, every target with the content ID rendered for it, in
// wave order, the strategy's settings, and the attempt. Every replica and
// every reconcile computes the same ID for the same inputs. The ID is
// "<package>-<revision>-<hash>", shortened to 63 characters, in the
// characters Kubernetes names allow.
func rolloutID(pkg *Package, waves [][]string, revs map[string]*Revision, s Strategy, attempt string) ID {
	h := sha256.New()
	field := func(parts ...string) {
		for _, p := range parts {
			fmt.Fprintf(h, "%d:%s;", len(p), p)
		}
	}
	field("porchkit.io/rollout/v1", pkg.Name, pkg.Revision, attempt)
	identity(h, reflect.ValueOf(s.withDefaults()), 0)
	for wi, w := range waves {
		field(fmt.Sprintf("wave %d", wi))
		for _, name := range w {
			field(name, revs[name].ID)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))[:12]
	prefix := dnsSafe(pkg.Name + "-" + pkg.Revision)
	if len(prefix) > maxIDLength-len(sum)-1 {
		prefix = strings.TrimRight(prefix[:maxIDLength-len(sum)-1], "-")
	}
	return ID(prefix + "-" + sum)
}

// dnsSafe lowercases s and turns every character a DNS label does not
// allow into '-', without leading, trailing or repeated dashes.
func dnsSafe(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		default:
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// identity writes a stable description of v's data to h: exported fields,
// slices, maps (in key order) and pointers are followed; an interface
// contributes its dynamic type's name only, and funcs and channels nothing,
// since code and live objects have no identity that survives a process.
func identity(h hash.Hash, v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.Invalid:
		h.Write([]byte("nil;"))
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
	case reflect.Interface:
		if v.IsNil() {
			h.Write([]byte("nil;"))
			return
		}
		fmt.Fprintf(h, "%s;", v.Elem().Type())
	case reflect.Pointer:
		if v.IsNil() {
			h.Write([]byte("nil;"))
			return
		}
		identity(h, v.Elem(), depth+1)
	case reflect.Struct:
		t := v.Type()
		h.Write([]byte("{"))
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			fmt.Fprintf(h, "%s=", t.Field(i).Name)
			identity(h, v.Field(i), depth+1)
		}
		h.Write([]byte("}"))
	case reflect.Slice, reflect.Array:
		fmt.Fprintf(h, "[%d:", v.Len())
		for i := range v.Len() {
			identity(h, v.Index(i), depth+1)
		}
		h.Write([]byte("]"))
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		fmt.Fprintf(h, "map%d:", len(keys))
		for _, k := range keys {
			fmt.Fprintf(h, "%v=", k)
			identity(h, v.MapIndex(k), depth+1)
		}
	default:
		fmt.Fprintf(h, "%v;", v)
	}
}
