package porch

import (
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

func TestListOptionsCombine(t *testing.T) {
	rev := 2
	o := newListOptions([]ListOption{
		InRepository("a"), MatchingLabels(map[string]string{"team": "x"}),
		&ListOptions{Package: "p"}, &ListOptions{Revision: &rev}, LatestOnly, &ListOptions{},
	})
	if o.Repository != "a" || o.Package != "p" || o.Revision == nil || *o.Revision != 2 || !o.LatestOnly ||
		o.Labels == nil || !o.Labels.Matches(labels.Set{"team": "x"}) {
		t.Fatalf("options did not combine: %+v", o)
	}
	rev = 3
	if *o.Revision != 2 {
		t.Fatal("a ListOptions passed as an option shares its Revision with the result")
	}
	if o := newListOptions([]ListOption{&ListOptions{Repository: "a"}, InRepository("b")}); o.Repository != "b" {
		t.Fatalf("a later option does not win: %+v", o)
	}
}
