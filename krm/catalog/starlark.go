package catalog

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
	"sigs.k8s.io/kustomize/kyaml/comments"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// DefaultStarlarkMaxSteps bounds a Starlark program's work (in Starlark
// execution steps, roughly bytecode instructions) when Starlark.MaxSteps is
// zero: about a few seconds of CPU.
const DefaultStarlarkMaxSteps = 100_000_000

// Starlark runs a Starlark program over the resource list, as the catalog's
// starlark function does: the program sees ctx.resource_list, a dict with
// "items" (the resources as dicts and lists) and "functionConfig", changes
// it in place or assigns a new items list, and the result becomes the
// output. Its functionConfig is a StarlarkRun (source, and params which the
// program reads from ctx.resource_list["functionConfig"]["params"]) or a
// ConfigMap with data.source.
//
// Differences from the container function, on purpose: load() is refused
// (the catalog exposes starlib modules, http among them, which would give
// an in-process function network access); print() output becomes info
// results instead of stderr. Comments of the resources the program returns
// are kept. A program is stopped after MaxSteps steps or when the context
// ends.
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
	fc := rl.FunctionConfig
	if fc == nil {
		return fail("starlark needs a functionConfig: a StarlarkRun with source, or a ConfigMap with data.source")
	}
	var source string
	switch fc.GetKind() {
	case "StarlarkRun":
		source, _ = fc.GetString("source")
	case "ConfigMap":
		source, _ = fc.GetString("data.source")
	default:
		return fail("starlark: functionConfig kind %q is neither StarlarkRun nor ConfigMap", fc.GetKind())
	}
	if strings.TrimSpace(source) == "" {
		return fail("starlark: the functionConfig has no source")
	}

	items := make([]starlark.Value, 0, len(rl.Items))
	for _, n := range rl.Items {
		v, err := toStarlark(n.YNode())
		if err != nil {
			return fail("starlark: %s %s: %v", n.GetKind(), n.GetName(), err)
		}
		items = append(items, v)
	}
	fcValue, err := toStarlark(fc.YNode())
	if err != nil {
		return fail("starlark: functionConfig: %v", err)
	}
	resourceList := starlark.NewDict(4)
	_ = resourceList.SetKey(starlark.String("apiVersion"), starlark.String("config.kubernetes.io/v1"))
	_ = resourceList.SetKey(starlark.String("kind"), starlark.String("ResourceList"))
	_ = resourceList.SetKey(starlark.String("items"), starlark.NewList(items))
	_ = resourceList.SetKey(starlark.String("functionConfig"), fcValue)
	predeclared := starlark.StringDict{
		"ctx": starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{"resource_list": resourceList}),
	}

	var printed []string
	thread := &starlark.Thread{
		Name:  "starlark",
		Print: func(_ *starlark.Thread, msg string) { printed = append(printed, msg) },
		Load: func(_ *starlark.Thread, module string) (starlark.StringDict, error) {
			return nil, fmt.Errorf("load(%q): modules are not available to in-process starlark", module)
		},
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
	_, err = starlark.ExecFileOptions(opts, thread, "source", source, predeclared)
	for _, msg := range printed {
		rl.Results = append(rl.Results, &framework.Result{Severity: framework.Info, Message: msg})
	}
	if err != nil {
		var evalErr *starlark.EvalError
		if errors.As(err, &evalErr) {
			return fail("starlark: %s", evalErr.Backtrace())
		}
		return fail("starlark: %v", err)
	}

	out, found, err := resourceList.Get(starlark.String("items"))
	if err != nil || !found {
		return fail("starlark: the program removed ctx.resource_list[\"items\"]")
	}
	iterable, ok := out.(starlark.Iterable)
	if !ok {
		return fail("starlark: ctx.resource_list[\"items\"] is a %s, not a list", out.Type())
	}
	originals := map[string]*yaml.RNode{}
	for _, n := range rl.Items {
		originals[identity(n)] = n
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
		rn := yaml.NewRNode(node)
		if orig, ok := originals[identity(rn)]; ok {
			if err := comments.CopyComments(orig, rn); err != nil {
				return err
			}
		}
		result = append(result, rn)
	}
	rl.Items = result
	return nil
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
