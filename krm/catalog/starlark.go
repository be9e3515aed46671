//lint:file-ignore SA1019 kpt's function runner sets and clears the legacy id annotation too, and programs see it

package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	starlarkjson "go.starlark.net/lib/json"
	starlarkmath "go.starlark.net/lib/math"
	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
	"sigs.k8s.io/kustomize/kyaml/comments"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/order"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// DefaultStarlarkMaxSteps bounds a Starlark program's work (in Starlark
// execution steps, roughly bytecode instructions) when Starlark.MaxSteps is
// zero: about a few seconds of CPU.
const DefaultStarlarkMaxSteps = 100_000_000

// Starlark runs a Starlark program over the resource list, as the
// catalog's starlark function does (the code Porch v1.5.3 runs as a
// builtin): the program sees ctx.resource_list, a dict with "apiVersion",
// "kind", "items" (the resources as dicts and lists) and "functionConfig",
// changes it in place or assigns a new items list, and the result becomes
// the output. It also sees ctx.open_api, the Kubernetes OpenAPI schema that
// kyaml embeds (built on first use), and ctx.environment. Its
// functionConfig is a StarlarkRun (source, and params which the program
// reads from ctx.resource_list["functionConfig"]["params"]) or a ConfigMap
// with data.source (the other data are its params). Errors carry the
// catalog's messages ("fail: ..." for fail(), "`source` must not be
// empty", ...).
//
// As kpt does with any function's output, the fields of a resource that
// came in keep their order and comments, and fields the program adds come
// after them in alphabetical order (the catalog writes its output sorted);
// a resource the program adds is written sorted.
//
// Differences from the container function, on purpose: load() offers the
// modules that need nothing outside the process, encoding/json.star,
// math.star, time.star (go.starlark.net's, as the catalog's starlib
// re-exports them) and krmfn.star, and refuses the others (http.star would
// give an in-process function network access); ctx.environment is empty
// (the process environment may hold credentials); print() output becomes
// info results instead of stderr. A program is stopped after MaxSteps
// steps, when its heap grows past MaxHeapGrowth, or when the context ends.
type Starlark struct {
	// MaxSteps bounds the program's execution steps; 0 means
	// DefaultStarlarkMaxSteps.
	MaxSteps uint64
	// MaxHeapGrowth stops the program when this process's heap grows by
	// more than this many bytes while it runs (sampled every 10 ms, so
	// approximate, and other work in the process counts too); 0 means
	// DefaultStarlarkMaxHeapGrowth.
	MaxHeapGrowth uint64
}

// DefaultStarlarkMaxHeapGrowth is the heap growth at which a Starlark
// program is stopped when Starlark.MaxHeapGrowth is zero.
const DefaultStarlarkMaxHeapGrowth = 512 << 20

// Process implements framework.ResourceListProcessor.
func (s *Starlark) Process(rl *framework.ResourceList) error {
	return s.ProcessContext(context.Background(), rl)
}

// ProcessContext runs the program and stops it when ctx ends.
func (s *Starlark) ProcessContext(ctx context.Context, rl *framework.ResourceList) error {
	fail := func(format string, args ...any) error {
		return framework.Results{{Severity: framework.Error, Message: fmt.Sprintf(format, args...)}}
	}
	name, source, err := starlarkConfig(rl)
	if err != nil {
		return err
	}

	// Like kpt's function runner, mark each resource with an id, so the
	// output can be matched to the input whatever the program renames.
	originals := map[string]*yaml.RNode{}
	items := make([]starlark.Value, 0, len(rl.Items))
	for i, n := range rl.Items {
		id := strconv.Itoa(i + 1)
		originals[id] = n
		marked := n.Copy()
		if err := setIDs(marked, id); err != nil {
			return err
		}
		v, err := toStarlark(marked.YNode())
		if err != nil {
			return fail("starlark: %s %s: %v", n.GetKind(), n.GetName(), err)
		}
		items = append(items, v)
	}
	fcValue, err := toStarlark(rl.FunctionConfig.YNode())
	if err != nil {
		return fail("starlark: functionConfig: %v", err)
	}
	resourceList := starlark.NewDict(4)
	_ = resourceList.SetKey(starlark.String("apiVersion"), starlark.String("config.kubernetes.io/v1"))
	_ = resourceList.SetKey(starlark.String("kind"), starlark.String("ResourceList"))
	_ = resourceList.SetKey(starlark.String("items"), starlark.NewList(items))
	_ = resourceList.SetKey(starlark.String("functionConfig"), fcValue)
	predeclared := starlark.StringDict{
		"ctx": starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"resource_list": resourceList,
			"open_api":      lazyOpenAPI{},
			"environment":   starlark.NewDict(0),
		}),
	}

	var printed []string
	thread := &starlark.Thread{
		Name:  name,
		Print: func(_ *starlark.Thread, msg string) { printed = append(printed, msg) },
		Load:  loadModule,
	}
	maxSteps := s.MaxSteps
	if maxSteps == 0 {
		maxSteps = DefaultStarlarkMaxSteps
	}
	thread.SetMaxExecutionSteps(maxSteps)
	maxGrowth := s.MaxHeapGrowth
	if maxGrowth == 0 {
		maxGrowth = DefaultStarlarkMaxHeapGrowth
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	defer func() { close(done); <-stopped }()
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(sample)
		base := sample[0].Value.Uint64()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				thread.Cancel(ctx.Err().Error())
				return
			case <-done:
				return
			case <-tick.C:
				metrics.Read(sample)
				if heap := sample[0].Value.Uint64(); heap > base && heap-base > maxGrowth {
					thread.Cancel(fmt.Sprintf("heap grew by more than %d bytes", maxGrowth))
					return
				}
			}
		}
	}()

	opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	_, err = starlark.ExecFileOptions(opts, thread, name, source, predeclared)
	for _, msg := range printed {
		rl.Results = append(rl.Results, &framework.Result{Severity: framework.Info, Message: msg})
	}
	if err != nil {
		// The catalog reports the error's own message: "fail: ..." for
		// fail(), the position and message for a syntax error.
		return fail("%s", err.Error())
	}

	out, found, err := resourceList.Get(starlark.String("items"))
	if err != nil || !found {
		return fail("starlark: the program removed ctx.resource_list[\"items\"]")
	}
	iterable, ok := out.(starlark.Iterable)
	if !ok {
		return fail("starlark: ctx.resource_list[\"items\"] is a %s, not a list", out.Type())
	}
	var result []*yaml.RNode
	iter := iterable.Iterate()
	defer iter.Done()
	var v starlark.Value
	for iter.Next(&v) {
		node, err := fromStarlark(v, 0)
		if err != nil {
			return fail("starlark: item %d: %v", len(result), err)
		}
		if node.Kind != yaml.MappingNode {
			return fail("starlark: item %d is a %s, not a resource", len(result), v.Type())
		}
		sortFields(node)
		rn := yaml.NewRNode(node)
		if orig, ok := originals[kioutil.GetIdAnnotation(rn)]; ok {
			if err := comments.CopyComments(orig, rn); err != nil {
				return err
			}
			if err := order.SyncOrder(orig, rn); err != nil {
				return err
			}
		}
		if err := clearIDs(rn); err != nil {
			return err
		}
		result = append(result, rn)
	}
	rl.Items = result
	return nil
}

// starlarkConfig reads the program's name and source from a StarlarkRun or
// a ConfigMap, with the catalog's checks and messages.
func starlarkConfig(rl *framework.ResourceList) (name, source string, err error) {
	const fn = "starlark"
	fc := rl.FunctionConfig
	switch {
	case isEmptyConfig(fc):
		return "", "", rejectPlain(rl, fn, "", "FunctionConfig is missing. Expect `ConfigMap` or `StarlarkRun`")
	case isGVK(fc, "", "v1", "ConfigMap"):
		data, ok := stringMap(fc, "data")
		if !ok {
			return "", "", rejectPlain(rl, fn, "data", "ConfigMap data must map strings to strings")
		}
		source = data["source"]
	case isGVK(fc, "fn.kpt.dev", "v1alpha1", "StarlarkRun"):
		var ok bool
		if source, ok = stringField(fc.Field("source")); !ok {
			return "", "", rejectPlain(rl, fn, "source", "`source` must be a string")
		}
		if p := fc.Field("params"); p != nil && p.Value != nil && p.Value.YNode().Kind != yaml.MappingNode &&
			p.Value.YNode().ShortTag() != yaml.NodeTagNull {
			return "", "", rejectPlain(rl, fn, "params", "`params` must be a map")
		}
	default:
		return "", "", rejectPlain(rl, fn, "kind", fmt.Sprintf(
			"`functionConfig` must be either /v1, Kind=ConfigMap or fn.kpt.dev/v1alpha1, Kind=StarlarkRun, but we got: %s",
			gvkString(fc)))
	}
	if source == "" {
		return "", "", rejectPlain(rl, fn, "source", "`source` must not be empty")
	}
	name = fc.GetName()
	if name == "" {
		name = "starlark-function-run"
	}
	return name, source, nil
}

// gvkString formats a resource's group, version and kind as Kubernetes'
// schema.GroupVersionKind does.
func gvkString(n *yaml.RNode) string {
	g, v, ok := groupVersion(n.GetApiVersion())
	if !ok {
		g, v = "", ""
	}
	return g + "/" + v + ", Kind=" + n.GetKind()
}

// setIDs and clearIDs are kpt's function-runner ids (kyaml's
// runtimeutil.FunctionFilter), current and legacy.
func setIDs(n *yaml.RNode, id string) error {
	if err := n.PipeE(yaml.SetAnnotation(kioutil.IdAnnotation, id)); err != nil {
		return err
	}
	return n.PipeE(yaml.SetAnnotation(kioutil.LegacyIdAnnotation, id))
}

func clearIDs(n *yaml.RNode) error {
	for _, k := range []string{kioutil.IdAnnotation, kioutil.LegacyIdAnnotation} {
		if err := n.PipeE(yaml.ClearAnnotation(k)); err != nil {
			return err
		}
	}
	return yaml.ClearEmptyAnnotations(n)
}

// sortFields orders every mapping's keys alphabetically, as the catalog's
// output (a Go map marshalled to YAML) has them.
func sortFields(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		pairs := make([][2]*yaml.Node, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
		}
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i][0].Value < pairs[j][0].Value })
		for i, p := range pairs {
			n.Content[2*i], n.Content[2*i+1] = p[0], p[1]
		}
	}
	for _, c := range n.Content {
		sortFields(c)
	}
}

// loadModule gives a program the catalog's modules that need nothing
// outside the process.
func loadModule(_ *starlark.Thread, module string) (starlark.StringDict, error) {
	switch module {
	case "encoding/json.star":
		return starlark.StringDict{"json": starlarkjson.Module}, nil
	case "math.star":
		return starlark.StringDict{"math": starlarkmath.Module}, nil
	case "time.star":
		return starlark.StringDict{"time": starlarktime.Module}, nil
	case "krmfn.star":
		return starlark.StringDict{"krmfn": krmfnModule}, nil
	case "http.star":
		return nil, fmt.Errorf("load(%q): %w", module, ErrModuleRefused)
	}
	return nil, fmt.Errorf("load(%q): %w (in-process starlark offers encoding/json.star, math.star, time.star and krmfn.star)",
		module, ErrModuleRefused)
}

// ErrModuleRefused is a load() of a module in-process starlark does not
// offer: http.star (network access) and the catalog's other starlib
// modules.
var ErrModuleRefused = errors.New("module not available to in-process starlark")

// krmfnModule is the catalog's krmfn.star: predicates on a resource dict.
var krmfnModule = &starlarkstruct.Module{
	Name: "krmfn",
	Members: starlark.StringDict{
		"match_gvk": starlark.NewBuiltin("match_gvk", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var r starlark.Value
			var apiVersion, kind string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 3, &r, &apiVersion, &kind); err != nil {
				return nil, err
			}
			group, version, ok := groupVersion(apiVersion)
			if !ok {
				return nil, fmt.Errorf("unexpected GroupVersion string: %s", apiVersion)
			}
			n, err := resourceOfValue(r)
			if err != nil {
				return nil, err
			}
			return starlark.Bool(isGVK(n, group, version, kind)), nil
		}),
		"match_name":      krmfnMatch("match_name", func(n *yaml.RNode) string { return n.GetName() }),
		"match_namespace": krmfnMatch("match_namespace", func(n *yaml.RNode) string { return n.GetNamespace() }),
	},
}

func krmfnMatch(name string, get func(*yaml.RNode) string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var r starlark.Value
		var want string
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &r, &want); err != nil {
			return nil, err
		}
		n, err := resourceOfValue(r)
		if err != nil {
			return nil, err
		}
		return starlark.Bool(get(n) == want), nil
	})
}

func resourceOfValue(v starlark.Value) (*yaml.RNode, error) {
	node, err := fromStarlark(v, 0)
	if err != nil {
		return nil, err
	}
	if node.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s is not a resource", v.Type())
	}
	return yaml.NewRNode(node), nil
}

// lazyOpenAPI is ctx.open_api: kyaml's built-in Kubernetes OpenAPI
// schema as a frozen dict, built on first use and shared.
type lazyOpenAPI struct{}

var openAPIOnce = sync.OnceValues(func() (starlark.Value, error) {
	data, err := json.Marshal(openapi.Schema())
	if err != nil {
		return nil, err
	}
	n, err := yaml.Parse(string(data))
	if err != nil {
		return nil, err
	}
	v, err := toStarlark(n.YNode())
	if err != nil {
		return nil, err
	}
	v.Freeze()
	return v, nil
})

func (lazyOpenAPI) value() starlark.Value {
	v, err := openAPIOnce()
	if err != nil {
		return starlark.String("open_api unavailable: " + err.Error())
	}
	return v
}

func (o lazyOpenAPI) String() string        { return o.value().String() }
func (o lazyOpenAPI) Type() string          { return o.value().Type() }
func (lazyOpenAPI) Freeze()                 {}
func (o lazyOpenAPI) Truth() starlark.Bool  { return o.value().Truth() }
func (o lazyOpenAPI) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", o.Type()) }

// Get implements starlark.Mapping.
func (o lazyOpenAPI) Get(k starlark.Value) (starlark.Value, bool, error) {
	if m, ok := o.value().(starlark.Mapping); ok {
		return m.Get(k)
	}
	return nil, false, nil
}

// toStarlark converts a YAML node to Starlark values: mappings to dicts (in
// order), sequences to lists, scalars by their resolved tag.
func toStarlark(n *yaml.Node) (starlark.Value, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return starlark.None, nil
		}
		return toStarlark(n.Content[0])
	case yaml.AliasNode:
		return toStarlark(n.Alias)
	case yaml.MappingNode:
		d := starlark.NewDict(len(n.Content) / 2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := toStarlark(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(starlark.String(n.Content[i].Value), v); err != nil {
				return nil, err
			}
		}
		return d, nil
	case yaml.SequenceNode:
		l := make([]starlark.Value, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := toStarlark(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return starlark.NewList(l), nil
	}
	switch n.ShortTag() {
	case yaml.NodeTagNull:
		return starlark.None, nil
	case yaml.NodeTagBool:
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return starlark.String(n.Value), nil
		}
		return starlark.Bool(b), nil
	case yaml.NodeTagInt:
		i, ok := new(big.Int).SetString(strings.ReplaceAll(n.Value, "_", ""), 0)
		if !ok {
			return starlark.String(n.Value), nil
		}
		return starlark.MakeBigInt(i), nil
	case yaml.NodeTagFloat:
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			return starlark.String(n.Value), nil
		}
		return starlark.Float(f), nil
	}
	return starlark.String(n.Value), nil
}

// maxStarlarkDepth bounds the nesting of a program's output.
const maxStarlarkDepth = 200

// fromStarlark converts a Starlark value back to a YAML node.
func fromStarlark(v starlark.Value, depth int) (*yaml.Node, error) {
	if depth > maxStarlarkDepth {
		return nil, fmt.Errorf("values nested deeper than %d (a dict or list that contains itself?)", maxStarlarkDepth)
	}
	switch v := v.(type) {
	case starlark.NoneType:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}, nil
	case starlark.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: strconv.FormatBool(bool(v))}, nil
	case starlark.Int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: v.String()}, nil
	case starlark.Float:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagFloat, Value: strconv.FormatFloat(float64(v), 'g', -1, 64)}, nil
	case starlark.String:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: string(v)}, nil
	case *starlark.Dict:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
		for _, kv := range v.Items() {
			k, ok := kv[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("dict key %s is a %s, not a string", kv[0], kv[0].Type())
			}
			c, err := fromStarlark(kv[1], depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: string(k)}, c)
		}
		return n, nil
	case starlark.Indexable: // list, tuple
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		for i := 0; i < v.Len(); i++ {
			c, err := fromStarlark(v.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	}
	return nil, fmt.Errorf("a %s cannot become YAML", v.Type())
}
