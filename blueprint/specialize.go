package blueprint

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
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
	if err := ensureClone(pf, o); err != nil {
		return nil, err
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

// ensureClone does what Porch's clone does to the files: the root Kptfile
// takes the package's name and, for a deployment repository, every
// package's context is regenerated holding only its name.
func ensureClone(pf *parsedFiles, o *GenerateOptions) error {
	root := pf.byKey[KptfileName]
	if o.Name != "" && root.nodes[0].GetName() != o.Name {
		if err := root.nodes[0].SetName(o.Name); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidBlueprint, KptfileName, err)
		}
		root.changed = true
	}
	if !o.Deployment {
		return nil
	}
	// Drop every existing package context, then write one per package.
	for _, path := range pf.order {
		f := pf.byKey[path]
		var kept []*kyaml.RNode
		for _, n := range f.nodes {
			if n.GetKind() == "ConfigMap" && n.GetApiVersion() == "v1" && n.GetName() == PackageContextName {
				f.changed = true
				continue
			}
			kept = append(kept, n)
		}
		f.nodes = kept
	}
	for _, path := range slices.Clone(pf.order) {
		if !strings.HasSuffix("/"+path, "/"+KptfileName) {
			continue
		}
		kf := pf.byKey[path]
		if len(kf.nodes) == 0 {
			continue
		}
		cm, err := kyaml.Parse(packageContextTemplate)
		if err != nil {
			return err
		}
		cm.SetDataMap(map[string]string{"name": kf.nodes[0].GetName()})
		dir := strings.TrimSuffix(path, KptfileName)
		target := dir + PackageContextFile
		f := pf.byKey[target]
		if f == nil {
			f = &packageFile{path: target}
			pf.byKey[target] = f
			pf.order = append(pf.order, target)
		}
		f.nodes = append(f.nodes, cm)
		f.changed = true
	}
	return nil
}

// packageContextTemplate is the ConfigMap Porch generates.
const packageContextTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kptfile.kpt.dev
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  name: example
`

// ensurePackageContext applies the PackageContext changes to the root
// package's context, as a PackageVariant does: keys set, then removed.
func ensurePackageContext(pf *parsedFiles, o *GenerateOptions) error {
	pc := o.PackageContext
	if pc == nil || (len(pc.Data) == 0 && len(pc.RemoveKeys) == 0) {
		return nil
	}
	f := pf.byKey[PackageContextFile]
	if f == nil {
		return fmt.Errorf("%w: packageContext given but the package has no %s", ErrInvalidOptions, PackageContextFile)
	}
	if len(f.nodes) != 1 || f.nodes[0].GetKind() != "ConfigMap" || f.nodes[0].GetName() != PackageContextName {
		return fmt.Errorf("%w: %s must hold the ConfigMap %s", ErrInvalidBlueprint, PackageContextFile, PackageContextName)
	}
	data, err := f.nodes[0].Pipe(kyaml.Lookup("data"))
	if err != nil || data == nil || data.YNode().Kind != kyaml.MappingNode {
		return fmt.Errorf("%w: %s has no data field", ErrInvalidBlueprint, PackageContextFile)
	}
	for _, k := range sortedKeys(pc.Data) {
		if err := data.PipeE(kyaml.SetField(k, kyaml.NewStringRNode(pc.Data[k]))); err != nil {
			return err
		}
	}
	for _, k := range pc.RemoveKeys {
		if _, err := data.Pipe(kyaml.Clear(k)); err != nil {
			return err
		}
	}
	f.changed = true
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
		var added []*kyaml.RNode
		if o.Pipeline != nil {
			fns := o.Pipeline.Mutators
			if list == "validators" {
				fns = o.Pipeline.Validators
			}
			for i, fn := range fns {
				fn := fn
				fn.Name = PackageVariantFuncName(fn.Name, o.Variant, i)
				n, err := typedNode(fn)
				if err != nil {
					return fmt.Errorf("%w: pipeline.%s[%d]: %w", ErrInvalidOptions, list, i, err)
				}
				added = append(added, n)
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
			seq.Content = append(seq.Content, a.YNode())
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

// typedNode encodes a typed object in its fields' order (as kpt writes a
// Kptfile), through kyaml.
func typedNode(v any) (*kyaml.RNode, error) {
	data, err := kyaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return kyaml.Parse(string(data))
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
	conds := map[string]kptfilev1.Condition{}
	if kptfile.Status != nil {
		for _, c := range kptfile.Status.Conditions {
			conds[c.Type] = c
		}
	}
	for _, r := range results {
		if r.Required {
			gates[r.ConditionType] = true
		}
		conds[r.ConditionType] = kptfilev1.Condition{Type: r.ConditionType, Status: kptfilev1.ConditionStatus(r.Status), Reason: r.Reason, Message: r.Message}
	}
	var gateList []kptfilev1.ReadinessGate
	for _, g := range sortedKeys(gates) {
		gateList = append(gateList, kptfilev1.ReadinessGate{ConditionType: g})
	}
	var condList []kptfilev1.Condition
	for _, t := range sortedKeys(conds) {
		condList = append(condList, conds[t])
	}
	if len(gateList) > 0 {
		n, err := typedNode(gateList)
		if err != nil {
			return err
		}
		if err := setPath(root, []string{"info", "readinessGates"}, n); err != nil {
			return err
		}
	}
	n, err := typedNode(condList)
	if err != nil {
		return err
	}
	if err := setPath(root, []string{"status", "conditions"}, n); err != nil {
		return err
	}
	kf.changed = true
	return nil
}
