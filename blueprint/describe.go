package blueprint

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ParameterInfo describes one parameter (a schema property at any depth),
// what `timoni inspect values` and `clusterctl generate cluster
// --list-variables` show their users.
type ParameterInfo struct {
	// Path is the value's dot-separated path.
	Path string
	// Type is the JSON type(s), "|"-joined ("" when the schema says none).
	Type string
	// Default is the schema default; HasDefault tells a null default from
	// none.
	Default    any
	HasDefault bool
	// Description is the schema's description (or title).
	Description string
	// Required is true when the parent object requires the key.
	Required bool
	// Enum are the allowed values, if restricted.
	Enum []any
	// Minimum, Maximum, ExclusiveMinimum and ExclusiveMaximum bound a
	// number (nil when unbounded).
	Minimum, Maximum, ExclusiveMinimum, ExclusiveMaximum any
	// MinLength, MaxLength bound a string; Pattern constrains it.
	MinLength, MaxLength *int
	Pattern              string
	// Examples are the schema's examples.
	Examples []any
	// Environments gives the value each environment overlay sets, by
	// environment name.
	Environments map[string]any
	// Cluster names the cluster-context field that sets the value, if any.
	Cluster string
	// Bindings say where the value lands ("Deployment/amf spec.replicas",
	// "setter region", "injection point WorkloadCluster/workload-cluster").
	Bindings []string
}

// Description is the listing of a declaration's parameters.
type Description struct {
	// Blueprint is the declaration's name.
	Blueprint string
	// Summary is the declaration's description.
	Summary string
	// Parameters are sorted by path.
	Parameters []ParameterInfo
}

// Describe lists every parameter of the declaration with its type,
// default, description, constraints, whether it is required and where it
// binds.
func (p *Parameters) Describe() (*Description, error) {
	s, err := p.Compile()
	if err != nil {
		return nil, err
	}
	d := &Description{Blueprint: p.Name, Summary: p.Description}
	var walk func(sch *jsonschema.Schema, prefix string, depth int)
	walk = func(sch *jsonschema.Schema, prefix string, depth int) {
		sch = deref(sch)
		if sch == nil || depth > 16 {
			return
		}
		for _, key := range sortedKeys(sch.Properties) {
			path := key
			if prefix != "" {
				path = prefix + "." + key
			}
			prop := sch.Properties[key]
			info := describeSchema(prop)
			info.Path = path
			info.Required = slices.Contains(sch.Required, key)
			d.Parameters = append(d.Parameters, info)
			walk(prop, path, depth+1)
		}
	}
	walk(s.root, "", 0)
	clusterOf := p.Cluster
	if clusterOf == nil {
		clusterOf = map[string]string{}
		if root := deref(s.root); root != nil {
			for _, f := range clusterFields {
				if _, ok := root.Properties[f]; ok {
					clusterOf[f] = f
				}
			}
		}
	}
	for i := range d.Parameters {
		info := &d.Parameters[i]
		for _, b := range p.Bindings {
			if b.Value == info.Path {
				info.Bindings = append(info.Bindings, b.target())
			}
		}
		for _, env := range sortedKeys(p.Environments) {
			if v, ok := p.Environments[env].Get(info.Path); ok {
				if info.Environments == nil {
					info.Environments = map[string]any{}
				}
				info.Environments[env] = v
			}
		}
		info.Cluster = clusterOf[info.Path]
	}
	return d, nil
}

func describeSchema(sch *jsonschema.Schema) ParameterInfo {
	var info ParameterInfo
	orig := sch
	sch = deref(sch)
	if sch == nil {
		return info
	}
	if sch.Types != nil {
		info.Type = strings.Join(sch.Types.ToStrings(), "|")
	}
	for _, s := range []*jsonschema.Schema{orig, sch} {
		if info.Description == "" {
			info.Description = s.Description
		}
		if info.Description == "" {
			info.Description = s.Title
		}
		if !info.HasDefault && s.Default != nil {
			info.Default, info.HasDefault = *s.Default, true
		}
	}
	if sch.Enum != nil {
		info.Enum = sch.Enum.Values
	}
	info.Minimum, info.Maximum = ratNumber(sch.Minimum), ratNumber(sch.Maximum)
	info.ExclusiveMinimum, info.ExclusiveMaximum = ratNumber(sch.ExclusiveMinimum), ratNumber(sch.ExclusiveMaximum)
	info.MinLength, info.MaxLength = sch.MinLength, sch.MaxLength
	if sch.Pattern != nil {
		info.Pattern = sch.Pattern.String()
	}
	info.Examples = sch.Examples
	return info
}

// Text renders the listing as a table: parameter, type, default,
// required, constraints, binding and description.
func (d *Description) Text() string {
	var b strings.Builder
	if d.Blueprint != "" || d.Summary != "" {
		fmt.Fprintf(&b, "%s", d.Blueprint)
		if d.Summary != "" {
			if d.Blueprint != "" {
				b.WriteString(": ")
			}
			b.WriteString(d.Summary)
		}
		b.WriteString("\n\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARAMETER\tTYPE\tDEFAULT\tREQUIRED\tCONSTRAINTS\tBINDS TO\tDESCRIPTION")
	for _, p := range d.Parameters {
		def := ""
		if p.HasDefault {
			def = compactJSON(p.Default)
		}
		req := ""
		if p.Required {
			req = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Path, p.Type, def, req, p.constraints(),
			strings.Join(p.Bindings, "; "), strings.ReplaceAll(p.Description, "\n", " "))
	}
	_ = tw.Flush()
	return b.String()
}

// constraints renders enum, range, length and pattern compactly.
func (p ParameterInfo) constraints() string {
	var parts []string
	if len(p.Enum) > 0 {
		vals := make([]string, len(p.Enum))
		for i, v := range p.Enum {
			vals[i] = compactJSON(v)
		}
		parts = append(parts, "one of "+strings.Join(vals, ", "))
	}
	lo, hi := "", ""
	switch {
	case p.Minimum != nil:
		lo = fmt.Sprintf("%v <= ", p.Minimum)
	case p.ExclusiveMinimum != nil:
		lo = fmt.Sprintf("%v < ", p.ExclusiveMinimum)
	}
	switch {
	case p.Maximum != nil:
		hi = fmt.Sprintf(" <= %v", p.Maximum)
	case p.ExclusiveMaximum != nil:
		hi = fmt.Sprintf(" < %v", p.ExclusiveMaximum)
	}
	if lo != "" || hi != "" {
		parts = append(parts, lo+"x"+hi)
	}
	if p.MinLength != nil || p.MaxLength != nil {
		l := "length"
		if p.MinLength != nil {
			l = fmt.Sprintf("%d <= %s", *p.MinLength, l)
		}
		if p.MaxLength != nil {
			l = fmt.Sprintf("%s <= %d", l, *p.MaxLength)
		}
		parts = append(parts, l)
	}
	if p.Pattern != "" {
		parts = append(parts, "pattern "+p.Pattern)
	}
	if len(p.Environments) > 0 {
		var envs []string
		for _, e := range sortedKeys(p.Environments) {
			envs = append(envs, e+"="+compactJSON(p.Environments[e]))
		}
		parts = append(parts, "env "+strings.Join(envs, ","))
	}
	if p.Cluster != "" {
		parts = append(parts, "from cluster "+p.Cluster)
	}
	return strings.Join(parts, "; ")
}
