package multicluster

import (
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// diffRevisions is a unified diff from what a cluster runs to what it
// would run, without porchkit's own annotations.
func diffRevisions(from, to *Revision) string {
	a, b := revisionText(from), revisionText(to)
	if a == b {
		return ""
	}
	d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(a), B: difflib.SplitLines(b),
		FromFile: revisionName(from), ToFile: revisionName(to), Context: 3})
	return d
}

func revisionName(r *Revision) string {
	if r == nil {
		return "(none)"
	}
	return r.ID
}

func revisionText(r *Revision) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	for i, n := range r.Resources {
		c := n.Copy()
		_ = c.PipeE(yaml.ClearAnnotation(RevisionAnnotation))
		_ = c.PipeE(yaml.ClearAnnotation(PackageAnnotation))
		if i > 0 {
			b.WriteString("---\n")
		}
		b.WriteString(c.MustString())
	}
	return b.String()
}
