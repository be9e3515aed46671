package blueprint

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/deps"
)

// Blueprints declare what they need of other blueprints as deps reads it
// from any package: Nephio's Dependency resources (req.nephio.org/v1alpha1,
// the free5gc AMF and SMF blueprints' dependency.yaml on free5gc-upf) and
// deps' own Kptfile annotation (deps.ReleaseAnnotation, with version
// ranges). The names they use are blueprint names (the last element of a
// package path), and the catalog's version of each blueprint is the one
// deps sees: a version in the annotation is ignored in its favour.

// readDependencies fills the entry's dependencies, its deps release and
// the kinds of resource it holds.
func (e *Entry) readDependencies(files map[string]string) error {
	nds, err := deps.ReadNephioDependencies(files)
	if err != nil {
		return fmt.Errorf("%s: %w", e.Location, err)
	}
	r, err := deps.ReleaseFromKptfile([]byte(files[KptfileName]), e.Version.String())
	if err != nil {
		return fmt.Errorf("%s: %w", e.Location, err)
	}
	r.Name, r.Version = e.Name, e.Version
	e.Dependencies = slices.Clone(r.Requires)
	for _, nd := range nds {
		e.Dependencies = append(e.Dependencies, nd.Dependency)
		r.Requires = append(r.Requires, nd.Requirements()...)
	}
	e.release = r
	e.kinds, err = resourceKinds(files)
	if err != nil {
		return fmt.Errorf("%s: %w", e.Location, err)
	}
	return nil
}

// resourceKinds returns the apiVersion and kind of every resource in the
// package's YAML files.
func resourceKinds(files map[string]string) (map[deps.Injector]bool, error) {
	kinds := map[deps.Injector]bool{}
	for p, content := range files {
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			continue
		}
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(content), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBlueprint, p, err)
		}
		for _, n := range nodes {
			if n.YNode().Kind != yaml.MappingNode {
				continue
			}
			if k := (deps.Injector{APIVersion: n.GetApiVersion(), Kind: n.GetKind()}); k.APIVersion != "" && k.Kind != "" {
				kinds[k] = true
			}
		}
	}
	return kinds, nil
}

// Resolution is a consistent set of blueprint versions: the roots asked
// for and everything they depend on.
type Resolution struct {
	// Entries holds the chosen version of each blueprint, by name.
	Entries map[string]*Entry
	// Order is the order to deploy in, dependencies first; the blueprints
	// of one group have no order between them.
	Order [][]string
	// Why gives, for each blueprint, the chain of requirements that
	// brought it in.
	Why map[string][]string
	// Plan is deps' plan, for what the fields above leave out.
	Plan *deps.Plan
}

// ResolveAll chooses a version of each root (Ref.Version an exact version
// or a constraint) and of every blueprint they need, transitively, such
// that every declared dependency holds: newest versions first, roots
// before their dependencies (deps' NewestFirst). A root the catalog does
// not hold or cannot satisfy alone gets the error Resolve gives; when
// dependencies conflict, the error wraps ErrUnresolvable and deps'
// explanation (errors.As to *deps.UnsatisfiableError gives the minimal
// conflict and the repairs).
func (c *Catalog) ResolveAll(ctx context.Context, roots ...Ref) (*Resolution, error) {
	if len(roots) == 0 {
		return nil, &FilterError{Field: "roots", Value: "", Err: errors.New("no blueprint to resolve")}
	}
	v, err := c.view(ctx)
	if err != nil {
		return nil, err
	}
	req := deps.Request{}
	for _, r := range roots {
		if strings.TrimSpace(r.Name) == "" {
			return nil, &FilterError{Field: "Ref.Name", Value: r.Name, Err: errors.New("empty blueprint name")}
		}
		cons, err := parseConstraint("Ref.Version", r.Name, r.Version)
		if err != nil {
			return nil, err
		}
		if _, err := v.resolve(r.Name, r.Version, cons); err != nil {
			return nil, err
		}
		d, err := deps.NewDependency(r.Name, r.Version)
		if err != nil {
			return nil, &ConstraintError{Field: "Ref.Version", Name: r.Name, Constraint: r.Version, Err: err}
		}
		req.Roots = append(req.Roots, d)
	}
	u, byID, err := v.universe()
	if err != nil {
		return nil, err
	}
	plan, err := c.resolver.Resolve(ctx, u, req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v: %w", ErrUnresolvable, roots, err)
	}
	out := &Resolution{Entries: map[string]*Entry{}, Order: plan.Order, Why: plan.Why, Plan: plan}
	for name, r := range plan.Releases {
		if e, ok := byID[r.ID()]; ok {
			out.Entries[name] = e.clone()
		}
	}
	return out, nil
}

// universe is the deps universe of the view's entries: each release as
// its entry declares it, providing the capability of each injector some
// release asks of its blueprint when it holds a resource of that kind.
func (v *view) universe() (*deps.Universe, map[string]*Entry, error) {
	injected := map[string]bool{}
	for _, es := range v.byName {
		for _, e := range es {
			for _, d := range e.release.Requires {
				injected[d.Name] = true
			}
		}
	}
	u := &deps.Universe{}
	byID := map[string]*Entry{}
	for _, name := range slices.Sorted(maps.Keys(v.byName)) {
		for _, e := range v.byName[name] {
			r := *e.release
			r.Requires = slices.Clone(r.Requires)
			r.Provides = slices.Clone(r.Provides)
			var caps []string
			for k := range e.kinds {
				if capName := k.Capability(e.Name); injected[capName] {
					caps = append(caps, capName)
				}
			}
			slices.Sort(caps)
			for _, capName := range caps {
				r.Provides = append(r.Provides, deps.Capability{Name: capName, Version: e.Version})
			}
			if err := u.Add(&r); err != nil {
				return nil, nil, fmt.Errorf("blueprint: %s: %w", e, err)
			}
			byID[r.ID()] = e
		}
	}
	return u, byID, nil
}
