package blueprint

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"sort"
	"strings"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/kustomize/kyaml/yaml/merge3"
	"sigs.k8s.io/kustomize/kyaml/yaml/walk"
)

// ConflictPolicy says what an upgrade does with a field that both the
// downstream package and the new upstream changed, to different values.
type ConflictPolicy string

const (
	// KeepLocal keeps the downstream's value (the customisation).
	KeepLocal ConflictPolicy = "keep-local"
	// TakeUpstream takes the new upstream's value, as kpt pkg update and
	// Porch's resource-merge do.
	TakeUpstream ConflictPolicy = "take-upstream"
	// FailOnConflict refuses the upgrade; nothing is created in Porch.
	FailOnConflict ConflictPolicy = "fail"
)

// ErrUpgradeConflict is wrapped by the *ConflictError an upgrade returns
// when a conflict's policy is FailOnConflict.
var ErrUpgradeConflict = errors.New("blueprint: upgrade conflict")

// ErrNotFastForward is returned for a fast-forward upgrade of a downstream
// package that has local changes, which Porch's fast-forward refuses too.
var ErrNotFastForward = errors.New("blueprint: fast-forward upgrade of a locally changed package")

// ErrInvalidPackage is returned when a package given to the upgrade preview
// cannot be read (a YAML file that does not parse, or no Kptfile).
var ErrInvalidPackage = errors.New("blueprint: invalid package")

// ErrInvalidConflictPolicy is returned for a conflict policy that is none of
// KeepLocal, TakeUpstream and FailOnConflict.
var ErrInvalidConflictPolicy = errors.New("blueprint: invalid conflict policy")

// ConflictError lists the conflicts whose policy is FailOnConflict.
type ConflictError struct {
	// Conflicts are the failing conflicts, in the preview's order.
	Conflicts []Conflict
}

// Error implements error.
func (e *ConflictError) Error() string {
	parts := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		parts[i] = c.String()
	}
	return fmt.Sprintf("%v: %d field(s) changed both downstream and upstream: %s", ErrUpgradeConflict, len(e.Conflicts), strings.Join(parts, "; "))
}

// Unwrap returns ErrUpgradeConflict.
func (e *ConflictError) Unwrap() error { return ErrUpgradeConflict }

// ResourceKey identifies a resource across the three versions of a package:
// by API group (not version, so that a v1beta1 -> v1 move is the same
// resource), kind, namespace and name. A file that holds no KRM resource is
// keyed by its path alone.
type ResourceKey struct {
	Group, Kind, Namespace, Name string
	// File is set, and the rest empty, for a file that is not KRM.
	File string
}

// String renders the key as kind/name (namespace/kind/name when
// namespaced), or the file path for a non-KRM file.
func (k ResourceKey) String() string {
	if k.File != "" {
		return k.File
	}
	kind := k.Kind
	if k.Group != "" {
		kind += "." + k.Group
	}
	if k.Namespace != "" {
		return k.Namespace + "/" + kind + "/" + k.Name
	}
	return kind + "/" + k.Name
}

// Change is how one side changed a resource against the old upstream.
type Change string

// The changes a side can make.
const (
	Unchanged Change = "unchanged"
	Added     Change = "added"
	Modified  Change = "modified"
	Removed   Change = "removed"
)

// ResourceDiff is the three-way view of one resource: the old upstream the
// downstream was made from, the new upstream, the downstream (local), and
// what the upgrade makes of them. A YAML field is empty where the resource
// is absent.
type ResourceDiff struct {
	Key ResourceKey
	// File is where the merged resource is written.
	File string
	// Upstream is the change from old to new upstream; Local the change
	// from old upstream to the downstream.
	Upstream, Local                     Change
	OldUpstream, NewUpstream, LocalYAML string
	Merged                              string
	// Fields are the field-level changes of the resource, sorted by path.
	Fields []FieldDiff
}

// Value is a field's value in one version: its JSON encoding (so that the
// integer 3 and the string "3" differ), or absent.
type Value struct {
	Present bool
	JSON    string
}

// String renders the value, "<absent>" when absent.
func (v Value) String() string {
	if !v.Present {
		return "<absent>"
	}
	return v.JSON
}

// FieldDiff is one field that differs between at least two of the versions.
type FieldDiff struct {
	// Path is the field path, "." separated, with list elements as
	// [name=value], e.g. spec.template.spec.containers.[name=app].image.
	Path                            string
	OldUpstream, NewUpstream, Local Value
	Merged                          Value
}

// LocalChanged reports whether the downstream changed the field.
func (f FieldDiff) LocalChanged() bool { return f.Local != f.OldUpstream }

// UpstreamChanged reports whether the new upstream changed the field.
func (f FieldDiff) UpstreamChanged() bool { return f.NewUpstream != f.OldUpstream }

// Conflict is a field changed downstream and upstream to different values.
type Conflict struct {
	Resource ResourceKey
	File     string
	// Path is the field path; empty when the conflict is the whole resource
	// or file (one side removed it, the other changed it).
	Path                            string
	OldUpstream, NewUpstream, Local Value
	// Policy is what the upgrade does with it.
	Policy ConflictPolicy
}

// String renders the conflict for an error message.
func (c Conflict) String() string {
	at := c.Resource.String()
	if c.Path != "" {
		at += " " + c.Path
	}
	return fmt.Sprintf("%s: local %s, upstream %s (was %s), policy %s", at, c.Local, c.NewUpstream, c.OldUpstream, c.Policy)
}

// Customization is one downstream change against the old upstream.
type Customization struct {
	Resource ResourceKey
	Path     string
	Value    Value
}

// UpgradePreview is what an upgrade will do, computed before any draft
// exists: the three-way diff of every resource, the conflicts with the
// policy chosen for each, every customisation found downstream, those the
// upgrade drops (Lost), and the merged files.
type UpgradePreview struct {
	Strategy       porchapi.PackageMergeStrategy
	Resources      []ResourceDiff
	Conflicts      []Conflict
	Customizations []Customization
	Lost           []Customization
	// Merged is the package the upgrade produces, by file path.
	Merged map[string]string
}

// Failing returns the conflicts whose policy is FailOnConflict.
func (p *UpgradePreview) Failing() []Conflict {
	var out []Conflict
	for _, c := range p.Conflicts {
		if c.Policy == FailOnConflict {
			out = append(out, c)
		}
	}
	return out
}

// PolicyRule chooses the policy of the conflicts it matches: those of
// resources of Kind (any when empty) named Name (any when empty) at field
// paths starting with Path (any when empty).
type PolicyRule struct {
	Kind, Name, Path string
	Policy           ConflictPolicy
}

func (r PolicyRule) matches(c Conflict) bool {
	if r.Kind != "" && r.Kind != c.Resource.Kind || r.Name != "" && r.Name != c.Resource.Name {
		return false
	}
	return r.Path == "" || c.Path == r.Path || strings.HasPrefix(c.Path, r.Path+".")
}

// PreviewOptions configures PreviewUpgrade and Upgrade's preview.
type PreviewOptions struct {
	// Strategy is Porch's merge strategy (default resource-merge).
	Strategy porchapi.PackageMergeStrategy
	// Policy is the policy of conflicts no rule matches (default KeepLocal:
	// a customisation is never dropped unless asked).
	Policy ConflictPolicy
	// Rules choose a policy per conflict; the first matching rule wins.
	Rules []PolicyRule
}

func (o *PreviewOptions) policyFor(c Conflict) ConflictPolicy {
	for _, r := range o.Rules {
		if r.matches(c) {
			return r.Policy
		}
	}
	return o.Policy
}

func validPolicy(p ConflictPolicy) bool {
	return p == KeepLocal || p == TakeUpstream || p == FailOnConflict
}

func (o *PreviewOptions) validate() error {
	if !validPolicy(o.Policy) {
		return fmt.Errorf("%w: Policy %q (want %s, %s or %s)", ErrInvalidConflictPolicy, o.Policy, KeepLocal, TakeUpstream, FailOnConflict)
	}
	for i, r := range o.Rules {
		if !validPolicy(r.Policy) {
			return fmt.Errorf("%w: Rules[%d].Policy %q (want %s, %s or %s)", ErrInvalidConflictPolicy, i, r.Policy, KeepLocal, TakeUpstream, FailOnConflict)
		}
	}
	switch o.Strategy {
	case porchapi.ResourceMerge, porchapi.FastForward, porchapi.ForceDeleteReplace, porchapi.CopyMerge:
		return nil
	}
	return fmt.Errorf("%w: Strategy %q (want resource-merge, fast-forward, force-delete-replace or copy-merge)", ErrInvalidConflictPolicy, o.Strategy)
}

// resource is one KRM resource of a package, or one non-KRM file.
type resource struct {
	key  ResourceKey
	file string
	node *yaml.RNode // nil for a non-KRM file
	text string      // the file's contents, for a non-KRM file

	leaves map[string]leaf  // flatten(node), computed once
	values map[string]Value // the leaves' values
}

// fields returns the resource's leaves and their values by path, computed
// once (nil for a missing resource or a non-KRM file).
func (r *resource) fields() (map[string]leaf, map[string]Value) {
	if r == nil || r.node == nil {
		return nil, nil
	}
	if r.leaves == nil {
		r.leaves = map[string]leaf{}
		flatten(r.node, nil, r.leaves)
		r.values = make(map[string]Value, len(r.leaves))
		for p, l := range r.leaves {
			r.values[p] = valueOf(l, true)
		}
	}
	return r.leaves, r.values
}

func (r *resource) yaml() string {
	if r == nil {
		return ""
	}
	if r.node == nil {
		return r.text
	}
	return r.node.MustString()
}

// version is one package version's resources by key, in file order.
type version struct {
	byKey map[ResourceKey]*resource
	order []ResourceKey
}

// porchManagedKptfileFields are the Kptfile fields Porch writes on clone and
// upgrade; they are no customisation and no upstream change.
var porchManagedKptfileFields = []string{"upstream", "upstreamLock"}

func isKRMFile(p string) bool {
	base := path.Base(p)
	return base == "Kptfile" || strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")
}

// readVersion parses a package's files into resources.
func readVersion(which string, files map[string]string) (*version, error) {
	v := &version{byKey: map[ResourceKey]*resource{}}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if !isKRMFile(p) {
			k := ResourceKey{File: p}
			v.byKey[k] = &resource{key: k, file: p, text: files[p]}
			v.order = append(v.order, k)
			continue
		}
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(files[p]), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return nil, fmt.Errorf("%w: %s package: %s: %v", ErrInvalidPackage, which, p, err)
		}
		for _, n := range nodes {
			if n.YNode().Kind != yaml.MappingNode {
				return nil, fmt.Errorf("%w: %s package: %s: a document that is not a mapping, so no KRM resource", ErrInvalidPackage, which, p)
			}
			k := keyOf(n)
			if k.Kind == "" || k.Name == "" {
				return nil, fmt.Errorf("%w: %s package: %s: a resource without kind or metadata.name", ErrInvalidPackage, which, p)
			}
			if _, dup := v.byKey[k]; dup {
				return nil, fmt.Errorf("%w: %s package: %s: %s appears twice", ErrInvalidPackage, which, p, k)
			}
			if k.Kind == "Kptfile" {
				for _, f := range porchManagedKptfileFields {
					if err := n.PipeE(yaml.Clear(f)); err != nil {
						return nil, fmt.Errorf("%w: %s package: %s: %v", ErrInvalidPackage, which, p, err)
					}
				}
			}
			v.byKey[k] = &resource{key: k, file: p, node: n}
			v.order = append(v.order, k)
		}
	}
	return v, nil
}

func keyOf(n *yaml.RNode) ResourceKey {
	group, _, _ := strings.Cut(n.GetApiVersion(), "/")
	if !strings.Contains(n.GetApiVersion(), "/") {
		group = ""
	}
	return ResourceKey{Group: group, Kind: n.GetKind(), Namespace: n.GetNamespace(), Name: n.GetName()}
}

// leaf is one field of a flattened resource.
type leaf struct {
	path []string
	node *yaml.RNode
}

// flatten lists the leaves of n by path: scalars, lists that are not keyed
// by name, and empty maps. Lists whose elements are all maps with a unique
// name are walked element by element, as [name=value].
func flatten(n *yaml.RNode, prefix []string, out map[string]leaf) {
	switch n.YNode().Kind {
	case yaml.MappingNode:
		fields, _ := n.Fields()
		if len(fields) == 0 {
			out[strings.Join(prefix, ".")] = leaf{path: prefix, node: n}
			return
		}
		for _, f := range fields {
			flatten(n.Field(f).Value, appendPath(prefix, f), out)
		}
	case yaml.SequenceNode:
		names, ok := elementNames(n)
		if !ok {
			out[strings.Join(prefix, ".")] = leaf{path: prefix, node: n}
			return
		}
		elems, _ := n.Elements()
		for i, e := range elems {
			flatten(e, appendPath(prefix, "[name="+names[i]+"]"), out)
		}
	default:
		out[strings.Join(prefix, ".")] = leaf{path: prefix, node: n}
	}
}

func appendPath(prefix []string, elem string) []string {
	out := make([]string, len(prefix), len(prefix)+1)
	copy(out, prefix)
	return append(out, elem)
}

// elementNames returns the name of every element of a list whose elements
// are all maps with a unique, non-empty name.
func elementNames(n *yaml.RNode) ([]string, bool) {
	elems, err := n.Elements()
	if err != nil || len(elems) == 0 {
		return nil, false
	}
	seen := map[string]bool{}
	names := make([]string, len(elems))
	for i, e := range elems {
		if e.YNode().Kind != yaml.MappingNode {
			return nil, false
		}
		f := e.Field("name")
		if f == nil || f.Value.YNode().Kind != yaml.ScalarNode || f.Value.YNode().Value == "" || seen[f.Value.YNode().Value] {
			return nil, false
		}
		names[i] = f.Value.YNode().Value
		seen[names[i]] = true
	}
	return names, true
}

func valueOf(l leaf, ok bool) Value {
	if !ok {
		return Value{}
	}
	// Decoded into Go values first, so that the YAML tags decide the type
	// (3 is a number, "3" a string) and styles and key order do not count.
	var v any
	if err := l.node.YNode().Decode(&v); err != nil {
		return Value{Present: true, JSON: l.node.MustString()}
	}
	data, err := json.Marshal(v)
	if err != nil {
		return Value{Present: true, JSON: l.node.MustString()}
	}
	return Value{Present: true, JSON: string(data)}
}

// PreviewUpgrade computes, on plain file maps, what upgrading local (made
// from oldUpstream) to newUpstream does: the three-way diff of every
// resource, every field changed on both sides to different values with the
// policy opts choose for it, and the merged package. The merge starts from
// kyaml's three-way merge (merge3, the merge kpt and Porch's resource-merge
// use) and then settles every field by the rule: a change made on one side
// only is kept, a conflict follows its policy. With the default policy
// (KeepLocal) no customisation is lost. A conflict whose policy is
// FailOnConflict makes PreviewUpgrade return the preview with a
// *ConflictError.
func PreviewUpgrade(oldUpstream, newUpstream, local map[string]string, opts PreviewOptions) (*UpgradePreview, error) {
	if opts.Strategy == "" {
		opts.Strategy = porchapi.ResourceMerge
	}
	if opts.Policy == "" {
		opts.Policy = KeepLocal
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	o, err := readVersion("old upstream", oldUpstream)
	if err != nil {
		return nil, err
	}
	n, err := readVersion("new upstream", newUpstream)
	if err != nil {
		return nil, err
	}
	l, err := readVersion("local", local)
	if err != nil {
		return nil, err
	}
	p := &UpgradePreview{Strategy: opts.Strategy, Merged: map[string]string{}}
	var mergedOrder []*resource
	for _, k := range unionKeys(l, n, o) {
		d, merged, err := p.previewResource(k, o.byKey[k], n.byKey[k], l.byKey[k], &opts)
		if err != nil {
			return nil, err
		}
		p.Resources = append(p.Resources, d)
		if merged != nil {
			mergedOrder = append(mergedOrder, merged)
		}
	}
	if opts.Strategy == porchapi.FastForward && len(p.Customizations) > 0 {
		return p, fmt.Errorf("%w: %d local change(s), first %s %s", ErrNotFastForward, len(p.Customizations), p.Customizations[0].Resource, p.Customizations[0].Path)
	}
	if err := p.writeMerged(mergedOrder); err != nil {
		return nil, err
	}
	if failing := p.Failing(); len(failing) > 0 {
		return p, &ConflictError{Conflicts: failing}
	}
	return p, nil
}

// unionKeys lists the keys of the versions, the first version's order
// first, then keys only the later ones hold, in their order.
func unionKeys(vs ...*version) []ResourceKey {
	seen := map[ResourceKey]bool{}
	var out []ResourceKey
	for _, v := range vs {
		for _, k := range v.order {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

func change(base, side *resource, equal bool) Change {
	switch {
	case base == nil && side == nil:
		return Unchanged
	case base == nil:
		return Added
	case side == nil:
		return Removed
	case equal:
		return Unchanged
	}
	return Modified
}

func sameResource(a, b *resource) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.node == nil || b.node == nil {
		return a.node == nil && b.node == nil && a.text == b.text
	}
	_, va := a.fields()
	_, vb := b.fields()
	return maps.Equal(va, vb)
}

// previewResource decides one resource: its diff and its merged form (nil
// when the upgrade leaves it out).
func (p *UpgradePreview) previewResource(k ResourceKey, old, upd, loc *resource, opts *PreviewOptions) (ResourceDiff, *resource, error) {
	d := ResourceDiff{
		Key: k, OldUpstream: old.yaml(), NewUpstream: upd.yaml(), LocalYAML: loc.yaml(),
		Upstream: change(old, upd, sameResource(old, upd)),
		Local:    change(old, loc, sameResource(old, loc)),
	}
	file := func() string {
		switch {
		case loc != nil:
			return loc.file
		case upd != nil:
			return upd.file
		}
		return old.file
	}
	record := func(merged *resource) (ResourceDiff, *resource, error) {
		if merged != nil {
			d.File, d.Merged = merged.file, merged.yaml()
		}
		if d.Fields == nil {
			d.Fields = fieldDiffs(old, upd, loc, merged)
		}
		return d, merged, nil
	}

	// Whole-resource cases: a side added or removed it, or a non-KRM file.
	switch {
	case old == nil && upd == nil: // added downstream only
		p.customize(k, "", valueOfResource(loc))
		if opts.Strategy == porchapi.ForceDeleteReplace {
			// The package is replaced whole: what only the downstream has
			// goes.
			p.Lost = append(p.Lost, Customization{Resource: k, Value: valueOfResource(loc)})
			return record(nil)
		}
		return record(loc)
	case old == nil && loc == nil: // added upstream only
		return record(upd)
	case upd == nil && loc == nil: // removed on both sides
		return record(nil)
	case d.Local == Unchanged && (opts.Strategy != porchapi.CopyMerge || upd != nil):
		return record(upd)
	case d.Upstream == Unchanged && opts.Strategy == porchapi.ResourceMerge:
		p.customizeResource(k, old, loc)
		return record(loc)
	}

	switch opts.Strategy {
	case porchapi.FastForward:
		p.customizeResource(k, old, loc)
		return record(upd)
	case porchapi.ForceDeleteReplace:
		p.customizeResource(k, old, loc)
		p.Lost = append(p.Lost, p.changesOf(k, old, loc)...)
		return record(upd)
	case porchapi.CopyMerge:
		// Upstream's files replace the downstream's; resources only the
		// downstream has stay.
		p.customizeResource(k, old, loc)
		if upd == nil {
			if old == nil {
				return record(loc)
			}
			p.Lost = append(p.Lost, p.changesOf(k, old, loc)...)
			return record(nil)
		}
		p.Lost = append(p.Lost, p.changesOf(k, old, loc)...)
		return record(upd)
	}

	// resource-merge with changes on both sides.
	if loc == nil || upd == nil || old == nil || loc.node == nil || upd.node == nil || old.node == nil {
		c := Conflict{Resource: k, File: file(), OldUpstream: valueOfResource(old), NewUpstream: valueOfResource(upd), Local: valueOfResource(loc)}
		if c.Local == c.NewUpstream {
			return record(loc)
		}
		c.Policy = opts.policyFor(c)
		p.Conflicts = append(p.Conflicts, c)
		p.customize(k, "", c.Local)
		if c.Policy == TakeUpstream {
			p.Lost = append(p.Lost, Customization{Resource: k, Value: c.Local})
			return record(upd)
		}
		return record(loc)
	}
	merged, err := p.mergeFields(&d, k, old, upd, loc, opts)
	if err != nil {
		return d, nil, err
	}
	return record(merged)
}

// fieldDiffs lists the fields that differ among the versions of a KRM
// resource (nil versions are absent), with the merged value of each.
func fieldDiffs(old, upd, loc, merged *resource) []FieldDiff {
	for _, r := range []*resource{old, upd, loc, merged} {
		if r != nil && r.node == nil {
			return nil
		}
	}
	_, vo := old.fields()
	_, vu := upd.fields()
	_, vl := loc.fields()
	_, vm := merged.fields()
	var out []FieldDiff
	for _, path := range sortedPaths(vo, vu, vl, vm) {
		fd := FieldDiff{Path: path, OldUpstream: vo[path], NewUpstream: vu[path], Local: vl[path], Merged: vm[path]}
		if fd.OldUpstream == fd.NewUpstream && fd.OldUpstream == fd.Local && fd.Local == fd.Merged {
			continue
		}
		out = append(out, fd)
	}
	return out
}

func valueOfResource(r *resource) Value {
	if r == nil {
		return Value{}
	}
	return Value{Present: true, JSON: r.yaml()}
}

func (p *UpgradePreview) customize(k ResourceKey, path string, v Value) {
	p.Customizations = append(p.Customizations, Customization{Resource: k, Path: path, Value: v})
}

// changesOf lists the downstream's field changes of a resource.
func (p *UpgradePreview) changesOf(k ResourceKey, old, loc *resource) []Customization {
	if old == nil || loc == nil || old.node == nil || loc.node == nil {
		if sameResource(old, loc) {
			return nil
		}
		return []Customization{{Resource: k, Value: valueOfResource(loc)}}
	}
	_, vo := old.fields()
	_, vl := loc.fields()
	var out []Customization
	for _, path := range sortedPaths(vo, vl) {
		if vo[path] != vl[path] {
			out = append(out, Customization{Resource: k, Path: path, Value: vl[path]})
		}
	}
	return out
}

func (p *UpgradePreview) customizeResource(k ResourceKey, old, loc *resource) {
	p.Customizations = append(p.Customizations, p.changesOf(k, old, loc)...)
}

func sortedPaths[V any](ms ...map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// mergeFields merges a resource changed on both sides, field by field.
func (p *UpgradePreview) mergeFields(d *ResourceDiff, k ResourceKey, old, upd, loc *resource, opts *PreviewOptions) (*resource, error) {
	merged, err := walk.Walker{
		Visitor:               merge3.Visitor{},
		VisitKeysAsScalars:    true,
		InferAssociativeLists: true,
		Sources:               []*yaml.RNode{loc.node.Copy(), old.node.Copy(), upd.node.Copy()},
	}.Walk()
	if err != nil {
		return nil, fmt.Errorf("blueprint: three-way merge of %s: %w", k, err)
	}
	fo, valsO := old.fields()
	fu, valsU := upd.fields()
	fl, valsL := loc.fields()
	type setting struct {
		path []string
		to   *yaml.RNode // nil: remove
	}
	var settings []setting
	for _, path := range sortedPaths(fo, fu, fl) {
		lo := fo[path]
		lu := fu[path]
		ll, okL := fl[path]
		vo, vu, vl := valsO[path], valsU[path], valsL[path]
		if vo == vu && vo == vl {
			continue
		}
		fd := FieldDiff{Path: path, OldUpstream: vo, NewUpstream: vu, Local: vl}
		want, wantLeaf := vl, ll
		switch {
		case vl != vo && vu != vo && vl != vu:
			c := Conflict{Resource: k, File: loc.file, Path: path, OldUpstream: vo, NewUpstream: vu, Local: vl}
			c.Policy = opts.policyFor(c)
			p.Conflicts = append(p.Conflicts, c)
			p.customize(k, path, vl)
			if c.Policy == TakeUpstream {
				p.Lost = append(p.Lost, Customization{Resource: k, Path: path, Value: vl})
				want, wantLeaf = vu, lu
			}
		case vl != vo:
			p.customize(k, path, vl)
		default:
			want, wantLeaf = vu, lu
		}
		fd.Merged = want
		d.Fields = append(d.Fields, fd)
		path := ll.path
		if !okL {
			path = lo.path
		}
		if path == nil {
			path = lu.path
		}
		if want.Present {
			settings = append(settings, setting{path: wantLeaf.path, to: wantLeaf.node})
		} else {
			settings = append(settings, setting{path: path})
		}
	}
	// Settle every changed field on the merge's result, so the rule holds
	// whatever merge3 decided for it.
	for _, s := range settings {
		if err := setLeaf(merged, s.path, s.to); err != nil {
			return nil, fmt.Errorf("blueprint: merge of %s: %w", k, err)
		}
	}
	return &resource{key: k, file: loc.file, node: merged}, nil
}

// setLeaf sets the field at path to a copy of to, creating the maps and
// named list elements on the way, or removes it when to is nil.
func setLeaf(n *yaml.RNode, path []string, to *yaml.RNode) error {
	if len(path) == 0 {
		return nil
	}
	parentPath, last := path[:len(path)-1], path[len(path)-1]
	if to == nil {
		// A list element without its name is no element: remove it whole.
		if np := len(parentPath); last == "name" && np > 0 && strings.HasPrefix(parentPath[np-1], "[name=") {
			list, err := n.Pipe(yaml.Lookup(parentPath[:np-1]...))
			if err != nil || list == nil {
				return err
			}
			name := strings.TrimSuffix(strings.TrimPrefix(parentPath[np-1], "[name="), "]")
			_, err = list.Pipe(yaml.ElementSetter{Keys: []string{"name"}, Values: []string{name}})
			return err
		}
		parent, err := n.Pipe(yaml.Lookup(parentPath...))
		if err != nil || parent == nil {
			return err
		}
		_, err = parent.Pipe(yaml.Clear(last))
		return err
	}
	parent, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, parentPath...))
	if err != nil {
		return err
	}
	return parent.PipeE(yaml.SetField(last, to.Copy()))
}

// writeMerged writes the merged resources into files, each file's resources
// in order.
func (p *UpgradePreview) writeMerged(rs []*resource) error {
	byFile := map[string][]*resource{}
	var files []string
	for _, r := range rs {
		if _, ok := byFile[r.file]; !ok {
			files = append(files, r.file)
		}
		byFile[r.file] = append(byFile[r.file], r)
	}
	for _, f := range files {
		var docs []string
		for _, r := range byFile[f] {
			if r.node == nil {
				p.Merged[f] = r.text
				continue
			}
			s, err := r.node.String()
			if err != nil {
				return fmt.Errorf("blueprint: write %s: %w", f, err)
			}
			docs = append(docs, s)
		}
		if len(docs) > 0 {
			p.Merged[f] = strings.Join(docs, "---\n")
		}
	}
	return nil
}
