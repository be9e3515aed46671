package deps

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Nephio blueprints declare what they depend on with Dependency resources
// of Nephio's requirements API, a YAML file in the package:
//
//	apiVersion: req.nephio.org/v1alpha1
//	kind: Dependency
//	metadata:
//	  name: upf
//	  annotations:
//	    deps.porchkit.io/constraint: ">=2, <3"   # porchkit's own, optional
//	spec:
//	  packageName: free5gc-upf
//	  injectors:
//	  - apiVersion: workload.nephio.org/v1alpha1
//	    kind: NFDeployment
//
// In Nephio, packageName is the Porch package name of the package
// depended upon, and each injector names a kind of resource (apiVersion
// and kind) that package must hold, which Nephio copies into the
// depending package once the dependency's package is published. deps
// reads such a resource as a requirement of the depending release: on the
// package (the last element of packageName, as releases are named), and,
// per injector, on the capability Injector.Capability names, which every
// release of that package holding a resource of the injected kind
// provides. Nephio's resource carries no version: every version of the
// package satisfies it (Nephio itself uses the latest published revision,
// which the default NewestFirst preference chooses when nothing else
// constrains the package) unless the resource's ConstraintAnnotation
// narrows it.
const (
	// NephioDependencyAPIVersion is the apiVersion of Nephio's Dependency
	// resources.
	NephioDependencyAPIVersion = "req.nephio.org/v1alpha1"
	// NephioDependencyKind is their kind.
	NephioDependencyKind = "Dependency"
	// ConstraintAnnotation, on a Nephio Dependency resource, restricts the
	// versions of its package that satisfy it, in NewDependency's syntax
	// (">=2, <3"); without it every version does.
	ConstraintAnnotation = "deps.porchkit.io/constraint"
)

// ErrInvalidPackage: a package's files cannot be read for what it depends
// on: a YAML file that does not parse, or a Nephio Dependency resource
// without a usable packageName or injector.
var ErrInvalidPackage = errors.New("deps: invalid package")

// NephioDependency is what deps reads of one Nephio Dependency resource.
type NephioDependency struct {
	// File is the package file that holds the resource.
	File string
	// Name is the resource's metadata.name.
	Name string
	// PackageName is spec.packageName as written.
	PackageName string
	// Dependency is the requirement on the package: the last element of
	// PackageName, in the versions ConstraintAnnotation allows.
	Dependency Dependency
	// Injectors are the kinds of resource the package must hold.
	Injectors []Injector
}

// Injector is a kind of resource a Nephio Dependency injects.
type Injector struct {
	// APIVersion is the resource's apiVersion ("workload.nephio.org/v1alpha1").
	APIVersion string
	// Kind is the resource's kind ("NFDeployment").
	Kind string
}

// Capability is the name of the capability that a release of package pkg
// provides when it holds a resource of the injector's kind:
// "<pkg>.<kind>.<version>.<group>", lower case, e.g.
// "free5gc-upf.nfdeployment.v1alpha1.workload.nephio.org" (the core group
// has no last part: "pkg.configmap.v1").
func (i Injector) Capability(pkg string) string {
	gv, _ := schema.ParseGroupVersion(i.APIVersion)
	name := pkg + "." + strings.ToLower(i.Kind) + "." + gv.Version
	if gv.Group != "" {
		name += "." + gv.Group
	}
	return name
}

// String is "apiVersion/Kind" as Kubernetes names a kind.
func (i Injector) String() string { return i.APIVersion + "/" + i.Kind }

// Requirements are the deps Dependencies the resource stands for: the
// package, then one per injector on its capability, in the same versions.
func (n NephioDependency) Requirements() []Dependency {
	out := []Dependency{n.Dependency}
	for _, i := range n.Injectors {
		d := n.Dependency
		d.Name = i.Capability(n.Dependency.Name)
		out = append(out, d)
	}
	return out
}

// ReadNephioDependencies returns the Nephio Dependency resources among a
// package's files (paths to contents, as Porch holds a package), in path
// order. Files other than YAML ones (.yaml, .yml) are not read. A YAML file
// that does not parse, and a Dependency resource without a packageName
// that names a package or with an injector lacking its apiVersion or kind,
// are *InputErrors wrapping ErrInvalidPackage; an unparsable
// ConstraintAnnotation wraps ErrInvalidConstraint.
func ReadNephioDependencies(files map[string]string) ([]NephioDependency, error) {
	ds, _, err := readPackage(files)
	return ds, err
}

// readPackage reads a package's Nephio Dependency resources and the kinds
// of all its resources.
func readPackage(files map[string]string) ([]NephioDependency, map[Injector]bool, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []NephioDependency
	kinds := map[Injector]bool{}
	for _, p := range paths {
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(files[p]), OmitReaderAnnotations: true, DisableUnwrapping: true}).Read()
		if err != nil {
			return nil, nil, &InputError{Kind: ErrInvalidPackage, Text: p, Reason: "does not parse: " + err.Error()}
		}
		for _, n := range nodes {
			if n.YNode().Kind != yaml.MappingNode {
				continue
			}
			k := Injector{APIVersion: n.GetApiVersion(), Kind: n.GetKind()}
			if k.APIVersion == "" || k.Kind == "" {
				continue
			}
			kinds[k] = true
			if k.APIVersion != NephioDependencyAPIVersion || k.Kind != NephioDependencyKind {
				continue
			}
			d, err := decodeNephioDependency(p, n)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, d)
		}
	}
	return out, kinds, nil
}

// nephioDependencyResource is the part of a Dependency resource deps
// reads; like Nephio's own decoder, it ignores the fields it does not know
// (the catalog's injectors carry a spec of their own).
type nephioDependencyResource struct {
	Metadata struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		PackageName string `yaml:"packageName"`
		Injectors   []struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
		} `yaml:"injectors"`
	} `yaml:"spec"`
}

func decodeNephioDependency(file string, n *yaml.RNode) (NephioDependency, error) {
	var res nephioDependencyResource
	if err := n.YNode().Decode(&res); err != nil {
		return NephioDependency{}, &InputError{Kind: ErrInvalidPackage, Text: file, Reason: "Dependency: " + err.Error()}
	}
	where := fmt.Sprintf("%s: Dependency %s", file, res.Metadata.Name)
	bad := func(field, reason string) error {
		return &InputError{Kind: ErrInvalidPackage, Text: where, Reason: field + ": " + reason}
	}
	pkg := strings.TrimSpace(res.Spec.PackageName)
	if pkg == "" {
		return NephioDependency{}, bad("spec.packageName", "required")
	}
	pkg = path.Base(pkg)
	if err := validName(pkg); err != nil {
		return NephioDependency{}, bad("spec.packageName", err.Error())
	}
	constraint := res.Metadata.Annotations[ConstraintAnnotation]
	d, err := NewDependency(pkg, constraint)
	if err != nil {
		var ie *InputError
		reason := err.Error()
		if errors.As(err, &ie) {
			reason = ie.Reason
		}
		return NephioDependency{}, &InputError{Kind: ErrInvalidConstraint, Package: pkg, Text: constraint, Reason: where + ": annotation " + ConstraintAnnotation + ": " + reason}
	}
	out := NephioDependency{File: file, Name: res.Metadata.Name, PackageName: res.Spec.PackageName, Dependency: d}
	for k, i := range res.Spec.Injectors {
		field := fmt.Sprintf("spec.injectors[%d]", k)
		inj := Injector{APIVersion: strings.TrimSpace(i.APIVersion), Kind: strings.TrimSpace(i.Kind)}
		switch {
		case inj.APIVersion == "":
			return NephioDependency{}, bad(field+".apiVersion", "required")
		case inj.Kind == "":
			return NephioDependency{}, bad(field+".kind", "required")
		}
		if _, err := schema.ParseGroupVersion(inj.APIVersion); err != nil {
			return NephioDependency{}, bad(field+".apiVersion", err.Error())
		}
		if err := validName(inj.Capability(pkg)); err != nil {
			return NephioDependency{}, bad(field, err.Error())
		}
		out.Injectors = append(out.Injectors, inj)
	}
	return out, nil
}
