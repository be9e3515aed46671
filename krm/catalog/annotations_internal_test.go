package catalog

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/filters/annotations"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// randomTree is a YAML value built from a few field names (those the field
// specs below use), with the shapes kustomize's filter treats differently:
// mappings, nulls, strings, lists of either and aliases.
func randomTree(r *rand.Rand, depth int) string {
	names := []string{"metadata", "annotations", "spec", "template", "owner", "a", "x"}
	switch k := r.Intn(10); {
	case depth == 0 || k < 2:
		return []string{"v", "~", "'1'", "{}", "[]"}[r.Intn(5)]
	case k < 3:
		return "[" + randomTree(r, depth-1) + ", " + randomTree(r, depth-1) + "]"
	default:
		var fields []string
		for i := r.Intn(3) + 1; i > 0; i-- {
			fields = append(fields, names[r.Intn(len(names))]+": "+randomTree(r, depth-1))
		}
		return "{" + strings.Join(fields, ", ") + "}"
	}
}

func randomFieldSpecs(r *rand.Rand) types.FsSlice {
	segments := []string{"metadata", "annotations", "spec", "template", "owner", "a", "x", "x[]", "", " a", "0", "[a=b]", "-", "*"}
	var out types.FsSlice
	for i := r.Intn(3); i > 0; i-- {
		var path []string
		if r.Intn(3) == 0 {
			path = []string{"metadata", "annotations"}
		}
		for j := r.Intn(4) + 1; j > 0; j-- {
			path = append(path, segments[r.Intn(len(segments))])
		}
		fs := types.FieldSpec{Path: strings.Join(path, "/"), CreateIfNotPresent: r.Intn(2) == 0}
		if r.Intn(3) == 0 {
			fs.Gvk = resid.Gvk{Kind: []string{"Deployment", "ConfigMap"}[r.Intn(2)]}
		}
		out = append(out, fs)
	}
	return append(out, commonAnnotationFields...)
}

// TestFieldsCannotFailIsSound checks the premise of changing resources in
// place against kustomize's own annotations filter: whenever
// fieldsCannotFail says the filter cannot fail, it does not, and the
// in-place setter leaves the resources exactly as the filter does.
func TestFieldsCannotFailIsSound(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	inPlace, unsure := 0, 0
	for round := 0; round < 3000; round++ {
		var items []*yaml.RNode
		for i := r.Intn(3) + 1; i > 0; i-- {
			kind := []string{"Deployment", "ConfigMap", "CronJob"}[r.Intn(3)]
			items = append(items, yaml.MustParse(fmt.Sprintf("apiVersion: apps/v1\nkind: %s\nmetadata: {name: n%d, annotations: %s, owner: %s}\nspec: %s\n",
				kind, i, randomTree(r, 1), randomTree(r, 1), randomTree(r, 3))))
		}
		fields := randomFieldSpecs(r)
		values := map[string]string{"owner": "ops"}
		if r.Intn(2) == 0 {
			values["a"] = "yes"
		}
		if r.Intn(2) == 0 {
			values["x"] = "1"
		}
		if !fieldsCannotFail(items, fields, values) {
			unsure++
			continue
		}
		inPlace++
		want := make([]*yaml.RNode, len(items))
		for i, n := range items {
			want[i] = n.Copy()
		}
		if _, err := (annotations.Filter{Annotations: values, FsSlice: fields}).Filter(want); err != nil {
			t.Fatalf("fieldsCannotFail, yet kustomize's filter fails: %v\nfields: %v\n%s", err, fields, dump(t, items))
		}
		rl := setAnnotationsList(values, fields, items)
		if err := SetAnnotations(rl); err != nil {
			t.Fatalf("SetAnnotations: %v\nfields: %v\n%s", err, fields, dump(t, items))
		}
		if got, exp := dump(t, rl.Items), dump(t, want); got != exp {
			t.Fatalf("in place:\n%s\nkustomize:\n%s\nfields: %v", got, exp, fields)
		}
	}
	t.Logf("%d in place, %d not", inPlace, unsure)
	if inPlace < 100 || unsure < 100 {
		t.Fatalf("the cases do not exercise both ways: %d in place, %d not", inPlace, unsure)
	}
}

// setAnnotationsList is a SetAnnotations call for values at fields (whose
// tail is the catalog's common fields, which the function adds itself).
func setAnnotationsList(values map[string]string, fields types.FsSlice, items []*yaml.RNode) *framework.ResourceList {
	var b strings.Builder
	b.WriteString("apiVersion: fn.kpt.dev/v1alpha1\nkind: SetAnnotations\nmetadata:\n  name: c\nannotations:\n")
	for k, v := range values {
		fmt.Fprintf(&b, "  %s: %q\n", k, v)
	}
	b.WriteString("additionalAnnotationFields:\n")
	for _, fs := range fields[:len(fields)-len(commonAnnotationFields)] {
		fmt.Fprintf(&b, "- path: %q\n  create: %v\n  kind: %q\n", fs.Path, fs.CreateIfNotPresent, fs.Kind)
	}
	return &framework.ResourceList{Items: items, FunctionConfig: yaml.MustParse(b.String())}
}

// dump is the items' YAML and every field of their nodes.
func dump(t *testing.T, items []*yaml.RNode) string {
	t.Helper()
	var b strings.Builder
	var node func(n *yaml.Node, depth int)
	node = func(n *yaml.Node, depth int) {
		fmt.Fprintf(&b, "%*s%d %q %d %q %q %q\n", depth, "", n.Kind, n.Tag, n.Style, n.Value, n.Anchor, n.LineComment)
		for _, c := range n.Content {
			node(c, depth+1)
		}
	}
	for _, n := range items {
		b.WriteString(n.MustString() + "---\n")
		node(n.YNode(), 0)
	}
	return b.String()
}
