package blueprint

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	pvapi "github.com/nephio-project/porch/controllers/packagevariants/api/v1alpha1"
	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/porch"
)

// The annotations of config injection, as Porch's PackageVariant controller
// reads and writes them.
const (
	// ConfigInjectionAnnotation marks an injection point: "required" or
	// "optional".
	ConfigInjectionAnnotation = "kpt.dev/config-injection"
	// InjectedResourceAnnotation names the object injected into a point.
	InjectedResourceAnnotation = "kpt.dev/injected-resource"
)

// packageContextFile holds the kptfile.kpt.dev ConfigMap Porch writes into
// every package.
const packageContextFile = "package-context.yaml"

// ErrInvalidVariant is returned for a Variant Porch's PackageVariant
// controller would refuse: a reserved package-context key, an injection
// point with an unknown annotation value, two injection points with one
// condition type, or a package without the file a step needs.
var ErrInvalidVariant = errors.New("blueprint: invalid variant")

// InjectionSelector picks the object injected into the injection points of
// its group, version and kind (any, when nil) by name.
type InjectionSelector struct {
	Group, Version, Kind *string
	Name                 string
}

// Variant is a specialisation done exactly as Porch v1.5.3's PackageVariant
// controller does it, in its order: package context (keys set, then keys
// removed), pipeline functions prepended and named
// PackageVariant.<Name>.<function>.<position>, then config injection (for
// each injection point, the first selector that matches an object of the
// point's kind among Objects; only data of a ConfigMap or spec of anything
// else is copied), with a Kptfile condition per injection point and a
// readiness gate per required one. Objects stands in for the objects the
// controller lists in the cluster. Porch renders the pipeline when the
// result is pushed.
type Variant struct {
	// Name is the PackageVariant's name, part of the added functions' names.
	Name string
	// PackageContext are keys set in the package context; the reserved
	// "name" and "package-path" are refused.
	PackageContext map[string]string
	// RemoveContextKeys are package-context keys removed.
	RemoveContextKeys []string
	// Mutators and Validators are prepended to the Kptfile pipeline.
	Mutators, Validators []kptfilev1.Function
	// Injectors select, in order, what is injected.
	Injectors []InjectionSelector
	// Objects are the objects injectors choose from, as in the cluster.
	Objects []*yaml.RNode
}

// VariantOf returns the Variant equivalent to a PackageVariant, with
// objects standing in for the in-cluster objects of its namespace.
func VariantOf(pv *pvapi.PackageVariant, objects []*yaml.RNode) *Variant {
	v := &Variant{Name: pv.Name, Objects: objects}
	if pc := pv.Spec.PackageContext; pc != nil {
		v.PackageContext, v.RemoveContextKeys = pc.Data, pc.RemoveKeys
	}
	if p := pv.Spec.Pipeline; p != nil {
		v.Mutators, v.Validators = p.Mutators, p.Validators
	}
	for _, s := range pv.Spec.Injectors {
		v.Injectors = append(v.Injectors, InjectionSelector{Group: s.Group, Version: s.Version, Kind: s.Kind, Name: s.Name})
	}
	return v
}

// Specialize implements PackageSpecializer. A Variant binds no values: it
// refuses any, so that values are never silently dropped.
func (v *Variant) Specialize(_ context.Context, pkg *porch.Package, values map[string]any) error {
	if len(values) > 0 {
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return fmt.Errorf("%w: a Variant binds no values, got %s", ErrInvalidVariant, strings.Join(keys, ", "))
	}
	return v.Apply(pkg)
}

// Apply specialises pkg in place. On error pkg is unchanged.
func (v *Variant) Apply(pkg *porch.Package) error {
	out := pkg.DeepCopy()
	for _, step := range []func(*porch.Package) error{v.packageContext, v.functions, v.inject} {
		if err := step(out); err != nil {
			return err
		}
	}
	pkg.Resources = out.Resources
	return nil
}

func parseOne(pkg *porch.Package, file string) (*yaml.RNode, error) {
	text, ok := pkg.Resources[file]
	if !ok {
		return nil, fmt.Errorf("%w: the package has no %s", ErrInvalidVariant, file)
	}
	n, err := yaml.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidVariant, file, err)
	}
	return n, nil
}

func (v *Variant) packageContext(pkg *porch.Package) error {
	if len(v.PackageContext) == 0 && len(v.RemoveContextKeys) == 0 {
		return nil
	}
	for _, k := range []string{"name", "package-path"} {
		if _, ok := v.PackageContext[k]; ok {
			return fmt.Errorf("%w: PackageContext[%q] is reserved (Porch sets it)", ErrInvalidVariant, k)
		}
		for _, r := range v.RemoveContextKeys {
			if r == k {
				return fmt.Errorf("%w: RemoveContextKeys: %q is reserved (Porch sets it)", ErrInvalidVariant, k)
			}
		}
	}
	cm, err := parseOne(pkg, packageContextFile)
	if err != nil {
		return err
	}
	if cm.GetKind() != "ConfigMap" || cm.GetName() != "kptfile.kpt.dev" {
		return fmt.Errorf("%w: %s holds %s/%s, not ConfigMap/kptfile.kpt.dev", ErrInvalidVariant, packageContextFile, cm.GetKind(), cm.GetName())
	}
	data := cm.GetDataMap()
	if cm.Field("data") == nil {
		return fmt.Errorf("%w: %s has no data", ErrInvalidVariant, packageContextFile)
	}
	for k, val := range v.PackageContext {
		data[k] = val
	}
	for _, k := range v.RemoveContextKeys {
		delete(data, k)
	}
	cm.SetDataMap(data)
	pkg.Resources[packageContextFile] = cm.MustString()
	return nil
}

// isVariantFunction reports whether a pipeline function was added by the
// variant named pv: PackageVariant.<pv>.<function>.<integer>.
func isVariantFunction(name, pv string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 4 || parts[0] != "PackageVariant" || parts[1] != pv {
		return false
	}
	for _, r := range parts[3] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return parts[3] != ""
}

func (v *Variant) functions(pkg *porch.Package) error {
	kf, err := parseOne(pkg, kptfilev1.KptFileName)
	if err != nil {
		return err
	}
	pipeline, err := kf.Pipe(yaml.LookupCreate(yaml.MappingNode, "pipeline"))
	if err != nil {
		return fmt.Errorf("%w: Kptfile pipeline: %v", ErrInvalidVariant, err)
	}
	for _, list := range []struct {
		field string
		add   []kptfilev1.Function
	}{{"validators", v.Validators}, {"mutators", v.Mutators}} {
		var kept []*yaml.RNode
		if f := pipeline.Field(list.field); f != nil {
			elems, err := f.Value.Elements()
			if err != nil {
				return fmt.Errorf("%w: Kptfile pipeline.%s: %v", ErrInvalidVariant, list.field, err)
			}
			for _, e := range elems {
				name := ""
				if f := e.Field("name"); f != nil {
					name = yaml.GetValue(f.Value)
				}
				if !isVariantFunction(name, v.Name) {
					kept = append(kept, e)
				}
			}
		}
		var added []*yaml.RNode
		for i, fn := range list.add {
			fn := *fn.DeepCopy()
			fn.Name = fmt.Sprintf("PackageVariant.%s.%s.%d", v.Name, fn.Name, i)
			data, err := yaml.Marshal(fn)
			if err != nil {
				return fmt.Errorf("%w: %s[%d]: %v", ErrInvalidVariant, list.field, i, err)
			}
			n, err := yaml.Parse(string(data))
			if err != nil {
				return fmt.Errorf("%w: %s[%d]: %v", ErrInvalidVariant, list.field, i, err)
			}
			added = append(added, n)
		}
		all := append(added, kept...)
		if len(all) == 0 {
			if err := pipeline.PipeE(yaml.Clear(list.field)); err != nil {
				return err
			}
			continue
		}
		seq := yaml.NewListRNode()
		for _, n := range all {
			seq.YNode().Content = append(seq.YNode().Content, n.YNode())
		}
		if err := pipeline.PipeE(yaml.SetField(list.field, seq)); err != nil {
			return err
		}
	}
	if pipeline.Field("mutators") == nil && pipeline.Field("validators") == nil {
		if err := kf.PipeE(yaml.Clear("pipeline")); err != nil {
			return err
		}
	}
	pkg.Resources[kptfilev1.KptFileName] = kf.MustString()
	return nil
}

// injectionPoint is one object of the package marked for injection.
type injectionPoint struct {
	file          string
	node          *yaml.RNode
	conditionType string
	required      bool
	errs          []string
	injected      string // the injected object's name
}

func groupVersion(apiVersion string) (group, version string) {
	if g, v, ok := strings.Cut(apiVersion, "/"); ok {
		return g, v
	}
	return "", apiVersion
}

func (v *Variant) inject(pkg *porch.Package) error {
	files := make([]string, 0, len(pkg.Resources))
	for f := range pkg.Resources {
		if isKRMFile(f) {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	parsed := map[string][]*yaml.RNode{}
	var points []*injectionPoint
	var problems []string
	byCondition := map[string]*injectionPoint{}
	for _, f := range files {
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(pkg.Resources[f]), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvalidVariant, f, err)
		}
		parsed[f] = nodes
		for _, n := range nodes {
			mode, ok := n.GetAnnotations()[ConfigInjectionAnnotation]
			if !ok {
				continue
			}
			ip := &injectionPoint{file: f, node: n, conditionType: "config.injection." + n.GetKind() + "." + n.GetName()}
			switch mode {
			case "required":
				ip.required = true
			case "optional":
			default:
				problems = append(problems, fmt.Sprintf("%s: %s/%s has invalid %q annotation value of %q", f, n.GetKind(), n.GetName(), ConfigInjectionAnnotation, mode))
			}
			if other, dup := byCondition[ip.conditionType]; dup {
				problems = append(problems, fmt.Sprintf("duplicate injection conditionType %q (%s and %s)", ip.conditionType, other.file, f))
			}
			byCondition[ip.conditionType] = ip
			points = append(points, ip)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: injection points: %s", ErrInvalidVariant, strings.Join(problems, ", "))
	}
	changed := map[string]bool{}
	for _, ip := range points {
		if v.injectPoint(ip) {
			changed[ip.file] = true
		}
	}
	for f := range changed {
		var docs []string
		for _, n := range parsed[f] {
			docs = append(docs, n.MustString())
		}
		pkg.Resources[f] = strings.Join(docs, "---\n")
	}
	return v.setConditions(pkg, points)
}

// injectPoint injects the first matching object into ip and reports
// whether it did.
func (v *Variant) injectPoint(ip *injectionPoint) bool {
	if len(v.Injectors) == 0 {
		ip.errs = append(ip.errs, "no injectors defined")
		return false
	}
	var candidates []*yaml.RNode
	for _, o := range v.Objects {
		if o.GetApiVersion() == ip.node.GetApiVersion() && o.GetKind() == ip.node.GetKind() {
			candidates = append(candidates, o)
		}
	}
	if len(candidates) == 0 {
		ip.errs = append(ip.errs, fmt.Sprintf("no in-cluster resources of type %s.%s", ip.node.GetApiVersion(), ip.node.GetKind()))
		return false
	}
	g, ver := groupVersion(ip.node.GetApiVersion())
	for _, s := range v.Injectors {
		if s.Group != nil && *s.Group != g || s.Version != nil && *s.Version != ver || s.Kind != nil && *s.Kind != ip.node.GetKind() {
			continue
		}
		for _, o := range candidates {
			if o.GetName() != s.Name {
				continue
			}
			field := "spec"
			if og, _ := groupVersion(o.GetApiVersion()); og == "" && o.GetKind() == "ConfigMap" {
				field = "data"
			}
			src := o.Field(field)
			if src == nil {
				ip.errs = append(ip.errs, fmt.Sprintf("field %q not found in resource %q", field, o.GetName()))
				return false
			}
			if err := ip.node.PipeE(yaml.SetField(field, src.Value.Copy())); err != nil {
				ip.errs = append(ip.errs, err.Error())
				return false
			}
			if err := ip.node.PipeE(yaml.SetAnnotation(InjectedResourceAnnotation, o.GetName())); err != nil {
				ip.errs = append(ip.errs, err.Error())
				return false
			}
			ip.injected = o.GetName()
			return true
		}
	}
	return false
}

// setConditions writes a Kptfile condition per injection point and a
// readiness gate per required point, both sorted by condition type.
func (v *Variant) setConditions(pkg *porch.Package, points []*injectionPoint) error {
	kf, err := parseOne(pkg, kptfilev1.KptFileName)
	if err != nil {
		return err
	}
	var k kptfilev1.KptFile
	if err := kf.Document().Decode(&k); err != nil {
		return fmt.Errorf("%w: Kptfile: %v", ErrInvalidVariant, err)
	}
	gates := map[string]bool{}
	if k.Info != nil {
		for _, g := range k.Info.ReadinessGates {
			gates[g.ConditionType] = true
		}
	}
	conditions := map[string]kptfilev1.Condition{}
	if k.Status != nil {
		for _, c := range k.Status.Conditions {
			conditions[c.Type] = kptfilev1.Condition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message}
		}
	}
	for _, ip := range points {
		if ip.required {
			gates[ip.conditionType] = true
		}
		c := kptfilev1.Condition{Type: ip.conditionType, Status: kptfilev1.ConditionFalse, Reason: "NoResourceSelected",
			Message: "no resource matched any injection selector for this injection point"}
		if len(ip.errs) > 0 {
			c.Message = strings.Join(ip.errs, ", ")
		}
		if ip.injected != "" {
			c.Status, c.Reason, c.Message = kptfilev1.ConditionTrue, "ConfigInjected", fmt.Sprintf("injected resource %q from cluster", ip.injected)
		}
		conditions[c.Type] = c
	}
	if len(gates) > 0 {
		var list []kptfilev1.ReadinessGate
		for g := range gates {
			list = append(list, kptfilev1.ReadinessGate{ConditionType: g})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ConditionType < list[j].ConditionType })
		if err := setTyped(kf, list, "info", "readinessGates"); err != nil {
			return err
		}
	}
	if len(conditions) > 0 {
		var list []kptfilev1.Condition
		for _, c := range conditions {
			list = append(list, c)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Type < list[j].Type })
		if err := setTyped(kf, list, "status", "conditions"); err != nil {
			return err
		}
	}
	pkg.Resources[kptfilev1.KptFileName] = kf.MustString()
	return nil
}

// setTyped sets the field at path to value, encoded as YAML.
func setTyped(n *yaml.RNode, value any, path ...string) error {
	data, err := yaml.Marshal(value)
	if err != nil {
		return fmt.Errorf("%w: Kptfile %s: %v", ErrInvalidVariant, strings.Join(path, "."), err)
	}
	v, err := yaml.Parse(string(data))
	if err != nil {
		return fmt.Errorf("%w: Kptfile %s: %v", ErrInvalidVariant, strings.Join(path, "."), err)
	}
	parent, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, path[:len(path)-1]...))
	if err != nil {
		return err
	}
	return parent.PipeE(yaml.SetField(path[len(path)-1], v))
}
