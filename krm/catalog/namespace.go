package catalog

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SetNamespace behaves like the set-namespace that Porch v1.5.3 runs as a
// builtin (tagged v0.4.1 there; the catalog's origin-based code of 2023):
//
//   - functionConfig: a ConfigMap with data.namespace (and optionally
//     data.namespaceMatcher), the package context ConfigMap named
//     kptfile.kpt.dev with data.name, or a SetNamespace
//     (fn.kpt.dev/v1alpha1) with namespace and namespaceMatcher;
//   - local-config resources (the Kptfile, package-context.yaml) are left
//     alone;
//   - every namespace-scoped resource gets the namespace (one without
//     metadata.namespace counts as "default"); Namespace objects are
//     renamed; a CustomResourceDefinition's conversion webhook service, an
//     APIService's service and the subjects of a ClusterRoleBinding follow
//     (a RoleBinding is namespace-scoped: its subjects keep theirs);
//   - with namespaceMatcher only the values equal to it, or whose origin
//     (the internal.kpt.dev/upstream-identifier annotation, else the
//     resource itself) is in it, change;
//   - config.kubernetes.io/depends-on annotations that name a resource of
//     the package in its old namespace follow it.
//
// Results are the catalog's: info results saying which namespaces changed
// and how many values, and which resources matched by origin. A rejected
// functionConfig gives the catalog's error result and a *ConfigError, and
// changes nothing.
//
// Where Porch's code would break a resource, porchkit does not follow it:
// Porch adds spec.conversion.webhook.clientConfig.service.namespace to a
// CustomResourceDefinition that has no conversion webhook, and
// spec.service.namespace to an APIService served locally (no
// spec.service); porchkit leaves those fields absent. A malformed
// upstream-identifier annotation makes Porch's function panic; here it is
// an error result naming the resource.
func SetNamespace(rl *framework.ResourceList) error {
	cfg, err := setNamespaceConfig(rl)
	if err != nil {
		return err
	}
	var objects []nsObject
	dependsOn := false
	for _, n := range rl.Items {
		if !isLocalConfigSDK(n) {
			objects = append(objects, nsObject{n: n, scoped: isNamespaceScoped(n)})
			dependsOn = dependsOn || annotation(n, dependsOnKey) != ""
		}
	}
	for _, o := range objects {
		// The catalog reads the origin of Namespace objects and of
		// namespace-scoped resources only.
		if !o.scoped && !isGVK(o.n, "", "v1", "Namespace") {
			continue
		}
		if err := originError(o.n); err != nil {
			rl.Results = append(rl.Results, &framework.Result{Severity: framework.Error, Message: err.Error(),
				ResourceRef: resourceRef(o.n)})
			return fmt.Errorf("set-namespace: %s %s: %w", o.n.GetKind(), o.n.GetName(), err)
		}
	}
	before := map[string]bool{}
	if dependsOn {
		for _, o := range objects {
			if id, ok := dependsOnID(o); ok {
				before[id] = true
			}
		}
	}
	ns := namespaceSetter{to: cfg.namespace, matcher: cfg.matcher}
	if err := ns.walk(objects); err != nil {
		return err
	}
	if ns.count == 0 {
		ns.results = append(ns.results, info(fmt.Sprintf("all matching namespaces are already %q. no value changed", cfg.namespace)))
	} else {
		ns.results = append(ns.results, info(fmt.Sprintf("namespace %v updated to %q, %d value(s) changed",
			sortedSet(ns.old), cfg.namespace, ns.count)))
	}
	count, old, err := ns.updateDependsOn(objects, before)
	if err != nil {
		return err
	}
	if count == 0 {
		ns.results = append(ns.results, info("all `depends-on` annotations are up-to-date. no `namespace` changed"))
	} else {
		ns.results = append(ns.results, info(fmt.Sprintf("`depends-on` annotation namespace %v updated to %q, %d value(s) changed",
			sortedSet(old), cfg.namespace, count)))
	}
	rl.Results = append(rl.Results, ns.results...)
	return nil
}

// nsObject is a resource set-namespace works on, with its scope (which
// the function's changes leave as it is).
type nsObject struct {
	n      *yaml.RNode
	scoped bool
}

type setNamespaceCfg struct{ namespace, matcher string }

// Names of the set-namespace functionConfig.
const (
	packageContextName = "kptfile.kpt.dev"
	dependsOnKey       = "config.kubernetes.io/depends-on"
	upstreamIDKey      = "internal.kpt.dev/upstream-identifier"
	// clusterScopedNS stands for "no namespace" in upstream identifiers.
	clusterScopedNS = "~C"
)

func setNamespaceConfig(rl *framework.ResourceList) (setNamespaceCfg, error) {
	const fn = "set-namespace"
	fc := rl.FunctionConfig
	var cfg setNamespaceCfg
	switch {
	case isEmptyConfig(fc):
		return cfg, rejectConfig(rl, fn, "", "FunctionConfig is missing. Expect `ConfigMap.v1` or `SetNamespace.v1alpha1.fn.kpt.dev`")
	case isGVK(fc, "", "v1", "ConfigMap"):
		data, ok := stringMap(fc, "data")
		if !ok {
			return cfg, rejectConfig(rl, fn, "data", "failed to parse FunctionConfig as ConfigMap")
		}
		cfg.matcher = data["namespaceMatcher"]
		switch {
		case data["namespace"] != "":
			cfg.namespace = data["namespace"]
		case data["name"] != "" && fc.GetName() == packageContextName:
			cfg.namespace = data["name"]
		default:
			// The catalog names data.namespace here even for the package
			// context ConfigMap without data.name.
			return cfg, rejectConfig(rl, fn, "data.namespace", "`data.namespace` should not be empty")
		}
	case isGVK(fc, "fn.kpt.dev", "v1alpha1", "SetNamespace"):
		ns, ok1 := stringField(fc.Field("namespace"))
		matcher, ok2 := stringField(fc.Field("namespaceMatcher"))
		if !ok1 || !ok2 {
			field := "namespace"
			if ok1 {
				field = "namespaceMatcher"
			}
			return cfg, rejectConfig(rl, fn, field, "failed to parse FunctionConfig as fn.kpt.dev.v1alpha1.SetNamespace")
		}
		if ns == "" {
			return cfg, rejectConfig(rl, fn, "namespace", "`namespace` should not be empty")
		}
		cfg.namespace, cfg.matcher = ns, matcher
	default:
		return cfg, rejectConfig(rl, fn, "kind", fmt.Sprintf(
			"unknown functionConfig Kind=%v ApiVersion=%v, expect `ConfigMap.v1` or `SetNamespace.v1alpha1.fn.kpt.dev`",
			fc.GetKind(), fc.GetApiVersion()))
	}
	return cfg, nil
}

// stringField reads a scalar as a string, as decoding into a Go string
// does: absent or null is "", anything but a string fails.
func stringField(f *yaml.MapNode) (string, bool) {
	if f == nil || f.Value == nil {
		return "", true
	}
	n := f.Value.YNode()
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == yaml.NodeTagNull:
		return "", true
	case n.Kind == yaml.ScalarNode && n.ShortTag() == yaml.NodeTagString:
		return n.Value, true
	}
	return "", false
}

// stringMap reads a map of strings (a ConfigMap's data).
func stringMap(n *yaml.RNode, field string) (map[string]string, bool) {
	out := map[string]string{}
	f := n.Field(field)
	if f == nil || f.Value == nil || f.Value.YNode().ShortTag() == yaml.NodeTagNull {
		return out, true
	}
	if f.Value.YNode().Kind != yaml.MappingNode {
		return nil, false
	}
	content := f.Value.YNode().Content
	for i := 0; i+1 < len(content); i += 2 {
		v, ok := stringField(&yaml.MapNode{Key: yaml.NewRNode(content[i]), Value: yaml.NewRNode(content[i+1])})
		if !ok {
			return nil, false
		}
		out[content[i].Value] = v
	}
	return out, true
}

// isLocalConfigSDK is the kpt functions SDK's test: any value of the
// local-config annotation but "false" marks the resource local.
func isLocalConfigSDK(n *yaml.RNode) bool {
	v := annotation(n, "config.kubernetes.io/local-config")
	return v != "" && v != "false"
}

// isNamespaceScoped is the SDK's scope test: the built-in kinds by their
// OpenAPI scope, any other resource by whether it has metadata.namespace.
func isNamespaceScoped(n *yaml.RNode) bool {
	if scoped, found := openapi.IsNamespaceScoped(yaml.TypeMeta{APIVersion: n.GetApiVersion(), Kind: n.GetKind()}); found {
		return scoped
	}
	return hasNamespace(n)
}

// hasNamespace reports a metadata.namespace field (of any value), as
// kyaml's Lookup finds it.
func hasNamespace(n *yaml.RNode) bool {
	return lookupField(lookupField(pipeNode(n), yaml.MetadataField), yaml.NamespaceField) != nil
}

// effectiveNamespace is the namespace a resource lives in: its own, else
// "default" when namespace-scoped, else ~C.
func effectiveNamespace(o nsObject) string {
	switch {
	case hasNamespace(o.n):
		return o.n.GetNamespace()
	case o.scoped:
		return "default"
	}
	return clusterScopedNS
}

type resourceOrigin struct{ namespace, name string }

// upstreamIDPattern is the upstream-identifier annotation,
// GROUP|KIND|NAMESPACE|NAME (NAMESPACE ~C for cluster-scoped), found
// anywhere in the value as the SDK finds it.
var upstreamIDPattern = regexp.MustCompile(`([a-z0-9-.]*)\|([A-Z][a-zA-Z0-9]*)\|([a-z0-9-]{1,63}|~C)\|([a-z0-9-]{1,63})`)

// originOf is where a resource came from: its upstream-identifier, else
// itself.
func originOf(o nsObject) (resourceOrigin, error) {
	id := strings.TrimSpace(annotation(o.n, upstreamIDKey))
	if id == "" {
		return resourceOrigin{namespace: effectiveNamespace(o), name: o.n.GetName()}, nil
	}
	m := upstreamIDPattern.FindStringSubmatch(id)
	if m == nil {
		return resourceOrigin{}, badUpstreamID(id)
	}
	return resourceOrigin{namespace: m[3], name: m[4]}, nil
}

// originError is originOf's error alone.
func originError(n *yaml.RNode) error {
	if id := strings.TrimSpace(annotation(n, upstreamIDKey)); id != "" && !upstreamIDPattern.MatchString(id) {
		return badUpstreamID(id)
	}
	return nil
}

func badUpstreamID(id string) error {
	return fmt.Errorf("annotation %s: %s is in bad format. expect %q", upstreamIDKey, id, "<GROUP>|<KIND>|<NAMESPACE>|<NAME>")
}

// dependsOnID is how a depends-on annotation names a namespaced resource:
// GROUP/namespaces/NAMESPACE/KIND/NAME.
func dependsOnID(o nsObject) (string, bool) {
	n := o.n
	ns := effectiveNamespace(o)
	if ns == clusterScopedNS {
		return "", false
	}
	group, _, _ := strings.Cut(n.GetApiVersion(), "/")
	if !strings.Contains(n.GetApiVersion(), "/") {
		group = ""
	}
	return fmt.Sprintf("%s/namespaces/%s/%s/%s", group, ns, n.GetKind(), n.GetName()), true
}

// namespacedDependsOn is a depends-on annotation naming a namespaced
// resource.
var namespacedDependsOn = regexp.MustCompile(`\A([-.\w]*)/namespaces/([-.\w]*)/([-.\w]*)/([-.\w]*)\z`)

// shortString names a resource as the SDK's KubeObject.ShortString does.
func shortString(n *yaml.RNode) string {
	return fmt.Sprintf("Resource(apiVersion=%v, kind=%v, namespace=%v, name=%v)", n.GetApiVersion(), n.GetKind(),
		n.GetNamespace(), n.GetName())
}

type namespaceSetter struct {
	to, matcher string
	count       int
	old         map[string]bool
	results     framework.Results
	// nonString caches yaml.IsValueNonString of the values set.
	nonString map[string]bool
}

// visit decides one namespace value: current is replaced when it should
// change. origin is the resource's original namespace ("" when there is
// none to match, ~C to leave the value alone); n is the resource, named in
// the origin-match result (nil for none).
func (s *namespaceSetter) visit(origin string, current *string, n *yaml.RNode) {
	if origin == clusterScopedNS {
		return
	}
	if *current == "" {
		*current = "default"
	}
	if *current == s.to {
		return
	}
	change := s.matcher == ""
	if s.matcher != "" {
		if s.matcher == origin {
			id := ""
			if n != nil {
				id = "[" + shortString(n) + "]"
			}
			s.results = append(s.results, info(fmt.Sprintf("%s has matching origin %s", id, origin)))
		}
		change = s.matcher == *current || s.matcher == origin
	}
	if change {
		if s.old == nil {
			s.old = map[string]bool{}
		}
		s.old[*current] = true
		*current = s.to
		s.count++
	}
}

// walk visits the cluster-scoped resources with namespace fields, then the
// namespace-scoped ones, as the catalog does.
func (s *namespaceSetter) walk(objects []nsObject) error {
	for _, o := range objects {
		if o.scoped {
			continue
		}
		n := o.n
		var err error
		switch {
		case isGVK(n, "", "v1", "Namespace"):
			origin, _ := originOf(o)
			name := n.GetName()
			s.visit(origin.name, &name, n)
			err = n.SetName(name)
		case isGVK(n, "apiextensions.k8s.io", "v1", "CustomResourceDefinition"):
			err = s.nestedNamespace(n, "spec", "conversion", "webhook", "clientConfig", "service")
		case isGVK(n, "apiregistration.k8s.io", "v1", "APIService"):
			err = s.nestedNamespace(n, "spec", "service")
		case n.GetKind() == "ClusterRoleBinding" || n.GetKind() == "RoleBinding":
			err = s.subjects(n)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", n.GetKind(), n.GetName(), err)
		}
	}
	for _, o := range objects {
		if !o.scoped {
			continue
		}
		n := o.n
		origin, _ := originOf(o)
		ns := n.GetNamespace()
		s.visit(origin.namespace, &ns, n)
		if err := s.setNamespace(n, ns); err != nil {
			return fmt.Errorf("%s %s: %w", n.GetKind(), n.GetName(), err)
		}
	}
	return nil
}

// setNamespace sets metadata.namespace as kyaml's RNode.SetNamespace does
// (a replaced value keeps only its style; a new one is quoted where YAML
// 1.1 would read another type), directly where metadata is a mapping.
func (s *namespaceSetter) setNamespace(n *yaml.RNode, ns string) error {
	md := lookupField(pipeNode(n), yaml.MetadataField)
	if ns == "" || md == nil || md.Tag == yaml.NodeTagNull || !isPlainMapping(md) {
		return n.SetNamespace(ns)
	}
	if v := firstField(md, yaml.NamespaceField); v != nil {
		*v = yaml.Node{Kind: yaml.ScalarNode, Value: ns, Style: v.Style}
		return nil
	}
	nonString, ok := s.nonString[ns]
	if !ok {
		nonString = yaml.IsValueNonString(ns)
		if s.nonString == nil {
			s.nonString = map[string]bool{}
		}
		s.nonString[ns] = nonString
	}
	v := &yaml.Node{Kind: yaml.ScalarNode, Value: ns}
	if nonString {
		v.Style = yaml.DoubleQuotedStyle
	}
	md.Content = append(md.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: yaml.NamespaceField}, v)
	return nil
}

// nestedNamespace sets the namespace field of the mapping at path, when
// that mapping exists.
func (s *namespaceSetter) nestedNamespace(n *yaml.RNode, path ...string) error {
	m, err := n.Pipe(yaml.Lookup(path...))
	if err != nil || m == nil || m.YNode().Kind != yaml.MappingNode {
		return err
	}
	ns, _ := m.GetString("namespace")
	s.visit("", &ns, nil)
	return m.PipeE(yaml.SetField("namespace", yaml.NewStringRNode(ns)))
}

// subjects moves the binding's subjects that have a namespace.
func (s *namespaceSetter) subjects(n *yaml.RNode) error {
	subjects, err := n.Pipe(yaml.Lookup("subjects"))
	if err != nil || subjects == nil {
		return err
	}
	return subjects.VisitElements(func(sub *yaml.RNode) error {
		f := sub.Field("namespace")
		if f == nil {
			return nil
		}
		ns, ok := stringField(f)
		if !ok {
			return nil
		}
		s.visit("", &ns, nil)
		return sub.PipeE(yaml.SetField("namespace", yaml.NewStringRNode(ns)))
	})
}

// updateDependsOn points depends-on annotations at the new namespace of
// the resources they name (those that were in the package, by their
// identity before the change).
func (s *namespaceSetter) updateDependsOn(objects []nsObject, before map[string]bool) (int, map[string]bool, error) {
	count, old := 0, map[string]bool{}
	for _, o := range objects {
		n := o.n
		v := annotation(n, dependsOnKey)
		if v == "" || !namespacedDependsOn.MatchString(v) || !before[v] {
			continue
		}
		segments := strings.Split(v, "/")
		if segments[2] == s.to || s.matcher != "" && s.matcher != segments[2] {
			continue
		}
		old[segments[2]] = true
		segments[2] = s.to
		count++
		if err := n.PipeE(yaml.SetAnnotation(dependsOnKey, strings.Join(segments, "/"))); err != nil {
			return 0, nil, err
		}
	}
	return count, old, nil
}

func info(msg string) *framework.Result {
	return &framework.Result{Severity: framework.Info, Message: msg}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
