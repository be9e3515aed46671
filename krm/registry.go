package krm

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
)

// CatalogPrefixes are the registries of the kpt function catalog. An image
// under any of them, or a bare name, resolves to the same function, as in
// Porch's builtin runtime.
var CatalogPrefixes = []string{"gcr.io/kpt-fn/", "ghcr.io/kptdev/krm-functions-catalog/"}

// Registry maps function images to runtimes, by name and semver version,
// and holds the image allow-list. It is safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	functions map[string][]registered
	allow     []string
	fallback  Runtime
}

type registered struct {
	version *semver.Version
	runtime Runtime
	needs   Capabilities
}

// Resolved is the registry's answer for one function.
type Resolved struct {
	// Runtime runs the function: a builtin, an executable or the
	// container fallback.
	Runtime Runtime
	// Version is the resolved version ("" when the runtime is the container
	// fallback running the image as given).
	Version string
	// Needs are the capabilities registered for the function, merged with
	// what the call declares.
	Needs Capabilities
}

// NewRegistry returns an empty registry with no allow-list (everything
// allowed) and no container fallback.
func NewRegistry() *Registry {
	return &Registry{functions: map[string][]registered{}}
}

// key names a function independently of which catalog registry hosts it.
func key(name string) string {
	for _, p := range CatalogPrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return rest
		}
	}
	return name
}

// Register maps image (name:version; the version is semver, with or
// without a leading v) to a runtime, with the capabilities the function
// needs.
func (r *Registry) Register(image string, rt Runtime, needs Capabilities) error {
	ref, err := ParseImage(image)
	if err != nil {
		return err
	}
	v, err := semver.NewVersion(ref.Tag)
	if err != nil {
		return fmt.Errorf("%w: version %q of %s: %v", ErrBadInput, ref.Tag, ref.Name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key(ref.Name)
	r.functions[k] = append(r.functions[k], registered{version: v, runtime: rt, needs: needs})
	sort.Slice(r.functions[k], func(i, j int) bool { return r.functions[k][i].version.GreaterThan(r.functions[k][j].version) })
	return nil
}

// Allow restricts images to those whose name matches one of the glob
// patterns (path.Match; "gcr.io/kpt-fn/*").
func (r *Registry) Allow(patterns ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.allow = append(r.allow, patterns...)
}

// SetContainerFallback runs images that have no builtin or exec mapping
// with rt (normally Container() or NewContainer(cfg)).
func (r *Registry) SetContainerFallback(rt Runtime) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fallback = rt
}

// Resolve finds the runtime for fn.Image. The tag selects the version: an
// exact version, a partial one ("v0.4" means the newest 0.4.x), a semver
// constraint ("~0.4"), or none (the newest).
func (r *Registry) Resolve(fn Function) (Resolved, error) {
	ref, err := ParseImage(fn.Image)
	if err != nil {
		return Resolved{}, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.allow) > 0 && !r.allowed(ref.Name) {
		return Resolved{}, &FunctionError{Function: fn.Image, Kind: ErrNotAllowed, ExitCode: -1,
			Err: fmt.Errorf("%s matches none of %v", ref.Name, r.allow)}
	}
	candidates := r.functions[key(ref.Name)]
	if len(candidates) > 0 && ref.Digest == "" {
		match, err := versionMatcher(ref.Tag)
		if err != nil {
			return Resolved{}, &FunctionError{Function: fn.Image, Kind: ErrBadInput, ExitCode: -1, Err: err}
		}
		for _, c := range candidates {
			if match(c.version) {
				return Resolved{Runtime: c.runtime, Version: "v" + c.version.String(), Needs: mergeNeeds(c.needs, fn.Needs)}, nil
			}
		}
	}
	if r.fallback != nil {
		return Resolved{Runtime: r.fallback, Needs: fn.Needs}, nil
	}
	var have []string
	for _, c := range candidates {
		have = append(have, "v"+c.version.String())
	}
	return Resolved{}, &FunctionError{Function: fn.Image, Kind: ErrUnknownFunction, ExitCode: -1,
		Err: fmt.Errorf("no runtime for %s (registered versions: %v; no container fallback)", fn.Image, have)}
}

func (r *Registry) allowed(name string) bool {
	for _, p := range r.allow {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// versionMatcher turns an image tag into a version predicate.
func versionMatcher(tag string) (func(*semver.Version) bool, error) {
	if tag == "" || tag == "latest" {
		return func(*semver.Version) bool { return true }, nil
	}
	t := strings.TrimPrefix(tag, "v")
	if v, err := semver.StrictNewVersion(t); err == nil {
		return func(c *semver.Version) bool { return c.Equal(v) }, nil
	}
	c, err := semver.NewConstraint(t)
	if err != nil {
		return nil, fmt.Errorf("tag %q is neither a version nor a semver constraint", tag)
	}
	return c.Check, nil
}

func mergeNeeds(a, b Capabilities) Capabilities {
	out := a
	out.Network = a.Network || b.Network
	out.Mounts = append(append([]string(nil), a.Mounts...), b.Mounts...)
	if b.Memory > out.Memory {
		out.Memory = b.Memory
	}
	if b.CPU > out.CPU {
		out.CPU = b.CPU
	}
	if b.WallTime > out.WallTime {
		out.WallTime = b.WallTime
	}
	return out
}
