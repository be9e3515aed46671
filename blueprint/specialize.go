package blueprint

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// ErrInvalidOptions means GenerateOptions break a PackageVariant rule: a
// reserved package-context key, an injector without a name.
var ErrInvalidOptions = errors.New("blueprint: invalid generate options")

// PackageVariantFuncPrefix starts the names of the pipeline functions a
// variant adds: PackageVariant.<variant>.<function>.<position>.
const PackageVariantFuncPrefix = "PackageVariant"

// reservedContextKeys may not be set or removed through PackageContext.
var reservedContextKeys = []string{"name", "package-path"}

// Injection condition reasons, as the PackageVariant controller writes
// them.
const (
	// ReasonConfigInjected: the point was filled.
	ReasonConfigInjected = "ConfigInjected"
	// ReasonNoResourceSelected: nothing filled the point.
	ReasonNoResourceSelected = "NoResourceSelected"
)

// InjectionResult is one injection point's outcome, as its Kptfile
// condition reports it.
type InjectionResult struct {
	InjectionPoint
	// Injected is true when an injector's object (or a value bound to the
	// point) filled it.
	Injected bool
	// From names the injected object, or is "values" when a binding
	// filled the point and no injector did.
	From string
	// Status, Reason and Message are the Kptfile condition's.
	Status, Reason, Message string
}

type specialized struct {
	files      map[string]string
	injections []InjectionResult
}

// PackageVariantFuncName names a pipeline function a variant adds.
func PackageVariantFuncName(fn, variant string, pos int) string {
	return fmt.Sprintf("%s.%s.%s.%d", PackageVariantFuncPrefix, variant, fn, pos)
}

// isVariantFunc reports a function name made by PackageVariantFuncName for
// the variant.
func isVariantFunc(name, variant string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 4 || parts[0] != PackageVariantFuncPrefix || parts[1] != variant {
		return false
	}
	_, err := strconv.Atoi(parts[3])
	return err == nil
}

func checkOptions(o *GenerateOptions) error {
	var problems []string
	if pc := o.PackageContext; pc != nil {
		for _, k := range reservedContextKeys {
			if _, ok := pc.Data[k]; ok {
				problems = append(problems, fmt.Sprintf("packageContext.data must not contain the key %q", k))
			}
			if slices.Contains(pc.RemoveKeys, k) {
				problems = append(problems, fmt.Sprintf("packageContext.removeKeys must not contain the key %q", k))
			}
		}
	}
	for i, inj := range o.Injectors {
		if inj.Name == "" {
			problems = append(problems, fmt.Sprintf("injectors[%d].name must not be empty", i))
		}
	}
	for i, obj := range o.InjectionObjects {
		if obj == nil || obj.GetKind() == "" || obj.GetName() == "" {
			problems = append(problems, fmt.Sprintf("injectionObjects[%d] needs a kind and a name", i))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidOptions, strings.Join(problems, "; "))
	}
	return nil
}

// specialize applies what a PackageVariant applies, in its order: package
// context, pipeline functions, config injection with the Kptfile's
// conditions and readiness gates.
func specialize(files map[string]string, o *GenerateOptions, injectedByValues map[string]bool) (*specialized, error) {
	if err := checkOptions(o); err != nil {
		return nil, err
	}
	pf, err := parseFiles(files)
	if err != nil {
		return nil, err
	}
	kf := pf.byKey[KptfileName]
	if kf == nil || len(kf.nodes) != 1 {
		return nil, fmt.Errorf("%w: the root %s must hold one resource", ErrInvalidBlueprint, KptfileName)
	}
	if err := ensurePackageContext(pf, o); err != nil {
		return nil, err
	}
	if err := ensurePipeline(kf, o); err != nil {
		return nil, err
	}
	results, err := ensureInjection(pf, o, injectedByValues)
	if err != nil {
		return nil, err
	}
	if err := setConditionsAndGates(kf, results); err != nil {
		return nil, err
	}
	out, err := pf.write(files)
	if err != nil {
		return nil, err
	}
	return &specialized{files: out, injections: results}, nil
}

// ensurePackageContext writes the package's name into the package context
// (as Porch does on clone) and the PackageContext changes (as a
// PackageVariant does).
func ensurePackageContext(pf *parsedFiles, o *GenerateOptions) error {
	f := pf.byKey[PackageContextFile]
	pc := o.PackageContext
	wantChanges := pc != nil && (len(pc.Data) > 0 || len(pc.RemoveKeys) > 0)
	if f == nil {
		if wantChanges {
			return fmt.Errorf("%w: packageContext given but the package has no %s", ErrInvalidOptions, PackageContextFile)
		}
		return nil
	}
	if len(f.nodes) != 1 || f.nodes[0].GetKind() != "ConfigMap" || f.nodes[0].GetName() != PackageContextName {
		return fmt.Errorf("%w: %s must hold the ConfigMap %s", ErrInvalidBlueprint, PackageContextFile, PackageContextName)
	}
	cm := f.nodes[0]
	data, err := cm.Pipe(kyaml.LookupCreate(kyaml.MappingNode, "data"))
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidBlueprint, PackageContextFile, err)
	}
	set := func(k, v string) error {
		if cur := data.Field(k); cur != nil && cur.Value.YNode().Value == v {
			return nil
		}
		f.changed = true
		return data.PipeE(kyaml.SetField(k, kyaml.NewStringRNode(v)))
	}
	if o.Name != "" {
		if err := set("name", o.Name); err != nil {
			return err
		}
	}
	if !wantChanges {
		return nil
	}
	for _, k := range sortedKeys(pc.Data) {
		if err := set(k, pc.Data[k]); err != nil {
			return err
		}
	}
	for _, k := range pc.RemoveKeys {
		if data.Field(k) != nil {
			f.changed = true
			if _, err := data.Pipe(kyaml.Clear(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensurePipeline prepends the variant's functions, named
// PackageVariant.<variant>.<fn>.<position>, after dropping any the same
// variant added before; an empty list or pipeline is removed.
func ensurePipeline(kf *packageFile, o *GenerateOptions) error {
	root := kf.nodes[0]
	pipeline, err := root.Pipe(kyaml.LookupCreate(kyaml.MappingNode, "pipeline"))
	if err != nil {
		return fmt.Errorf("%w: Kptfile pipeline: %w", ErrInvalidBlueprint, err)
	}
	for _, list := range []string{"mutators", "validators"} {
		var added []any
		if o.Pipeline != nil {
			fns := o.Pipeline.Mutators
			if list == "validators" {
				fns = o.Pipeline.Validators
			}
			for i, fn := range fns {
				fn := fn
				fn.Name = PackageVariantFuncName(fn.Name, o.Variant, i)
				m, err := toMap(fn)
				if err != nil {
					return fmt.Errorf("%w: pipeline.%s[%d]: %w", ErrInvalidOptions, list, i, err)
				}
				added = append(added, m)
			}
		}
		existing, _ := pipeline.Pipe(kyaml.Lookup(list))
		var kept []*kyaml.Node
		removed := false
		if existing != nil {
			els, _ := existing.Elements()
			for _, e := range els {
				if isVariantFunc(stringField(e, "name"), o.Variant) {
					removed = true
					continue
				}
				kept = append(kept, e.YNode())
			}
		}
		if len(added) == 0 && !removed {
			if existing != nil && len(kept) == 0 {
				kf.changed = true
				_, _ = pipeline.Pipe(kyaml.Clear(list))
			}
			continue
		}
		kf.changed = true
		if len(added)+len(kept) == 0 {
			_, _ = pipeline.Pipe(kyaml.Clear(list))
			continue
		}
		seq := &kyaml.Node{Kind: kyaml.SequenceNode, Tag: kyaml.NodeTagSeq}
		for _, a := range added {
			n, err := valueNode(a)
			if err != nil {
				return err
			}
			seq.Content = append(seq.Content, n.YNode())
		}
		seq.Content = append(seq.Content, kept...)
		if err := pipeline.PipeE(kyaml.SetField(list, kyaml.NewRNode(seq))); err != nil {
			return err
		}
	}
	if len(pipeline.Content()) == 0 {
		_, _ = root.Pipe(kyaml.Clear("pipeline"))
	}
	return nil
}

// toMap turns a typed object into decoded JSON.
func toMap(v any) (map[string]any, error) {
	data, err := jsonMarshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := jsonUnmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// ensureInjection fills each injection point from the first injector that
// matches it and names an offered object of its kind, copying only data
// (core ConfigMap) or spec and recording kpt.dev/injected-resource.
func ensureInjection(pf *parsedFiles, o *GenerateOptions, byValues map[string]bool) ([]InjectionResult, error) {
	points, err := injectionPoints(pf)
	if err != nil {
		return nil, err
	}
	var results []InjectionResult
	for _, ip := range points {
		r := InjectionResult{InjectionPoint: ip}
		var errs []string
		target := findResource(pf, ip)
		if len(o.Injectors) == 0 {
			errs = append(errs, "no injectors defined")
		} else if inCluster := candidates(o.InjectionObjects, ip); len(inCluster) == 0 {
			errs = append(errs, fmt.Sprintf("no in-cluster resources of type %s.%s", ip.APIVersion, ip.Kind))
		} else {
			for _, inj := range o.Injectors {
				obj := matchInjector(inj, ip, inCluster)
				if obj == nil {
					continue
				}
				if err := injectObject(target, obj, ip.Field); err != nil {
					errs = append(errs, err.Error())
				} else {
					r.Injected, r.From = true, obj.GetName()
					pf.byKey[ip.File].changed = true
				}
				break
			}
		}
		switch {
		case r.Injected:
			r.Status, r.Reason = "True", ReasonConfigInjected
			r.Message = fmt.Sprintf("injected resource %q from cluster", r.From)
		case byValues[ip.ConditionType]:
			r.Injected, r.From = true, "values"
			r.Status, r.Reason = "True", ReasonConfigInjected
			r.Message = "injected from the blueprint's values"
		default:
			r.Status, r.Reason = "False", ReasonNoResourceSelected
			r.Message = "no resource matched any injection selector for this injection point"
			if len(errs) > 0 {
				r.Message = strings.Join(errs, ", ")
			}
		}
		results = append(results, r)
	}
	return results, nil
}

func findResource(pf *parsedFiles, ip InjectionPoint) *kyaml.RNode {
	f := pf.byKey[ip.File]
	for _, n := range f.nodes {
		if n.GetKind() == ip.Kind && n.GetName() == ip.Name && n.GetApiVersion() == ip.APIVersion {
			if _, ok := n.GetAnnotations()[ConfigInjectionAnnotation]; ok {
				return n
			}
		}
	}
	return nil
}

// candidates are the offered objects of the point's group, version and
// kind (what the controller lists in the cluster).
func candidates(objs []*kyaml.RNode, ip InjectionPoint) []*kyaml.RNode {
	var out []*kyaml.RNode
	for _, obj := range objs {
		if obj.GetApiVersion() == ip.APIVersion && obj.GetKind() == ip.Kind {
			out = append(out, obj)
		}
	}
	return out
}

func matchInjector(inj Injector, ip InjectionPoint, objs []*kyaml.RNode) *kyaml.RNode {
	g, v := splitAPIVersion(ip.APIVersion)
	if (inj.Group != nil && *inj.Group != g) || (inj.Version != nil && *inj.Version != v) || (inj.Kind != nil && *inj.Kind != ip.Kind) {
		return nil
	}
	for _, obj := range objs {
		if obj.GetName() == inj.Name {
			return obj
		}
	}
	return nil
}

func injectObject(target, obj *kyaml.RNode, field string) error {
	src, err := obj.Pipe(kyaml.Lookup(field))
	if err != nil || src == nil {
		return fmt.Errorf("field %q not found in resource %q", field, obj.GetName())
	}
	if err := target.PipeE(kyaml.SetField(field, src.Copy())); err != nil {
		return err
	}
	return target.PipeE(kyaml.SetAnnotation(InjectedResourceAnnotation, obj.GetName()))
}

// setConditionsAndGates sets a Kptfile condition per injection point
// (replacing one of the same type, sorted by type) and a readiness gate
// per required point (merged with existing gates, sorted).
func setConditionsAndGates(kf *packageFile, results []InjectionResult) error {
	if len(results) == 0 {
		return nil
	}
	root := kf.nodes[0]
	kptfile, err := parseKptfileNode(root)
	if err != nil {
		return err
	}
	gates := map[string]bool{}
	if kptfile.Info != nil {
		for _, g := range kptfile.Info.ReadinessGates {
			gates[g.ConditionType] = true
		}
	}
	conds := map[string]map[string]any{}
	if kptfile.Status != nil {
		for _, c := range kptfile.Status.Conditions {
			conds[c.Type] = map[string]any{"type": c.Type, "status": string(c.Status), "reason": c.Reason, "message": c.Message}
		}
	}
	for _, r := range results {
		if r.Required {
			gates[r.ConditionType] = true
		}
		conds[r.ConditionType] = map[string]any{"type": r.ConditionType, "status": r.Status, "reason": r.Reason, "message": r.Message}
	}
	var gateList []any
	for _, g := range sortedKeys(gates) {
		gateList = append(gateList, map[string]any{"conditionType": g})
	}
	var condList []any
	for _, t := range sortedKeys(conds) {
		c := conds[t]
		for _, k := range []string{"reason", "message"} {
			if c[k] == "" {
				delete(c, k)
			}
		}
		condList = append(condList, c)
	}
	if len(gateList) > 0 {
		n, err := valueNode(gateList)
		if err != nil {
			return err
		}
		if err := setPath(root, []string{"info", "readinessGates"}, n); err != nil {
			return err
		}
	}
	n, err := valueNode(condList)
	if err != nil {
		return err
	}
	if err := setPath(root, []string{"status", "conditions"}, n); err != nil {
		return err
	}
	kf.changed = true
	return nil
}
