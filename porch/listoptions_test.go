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

func TestLabelOptionsAND(t *testing.T) {
	sel, err := labels.Parse("tier in (web,db)")
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]ListOption{
		{MatchingLabels{"team": "x"}, MatchingLabelSelector{sel}},
		{MatchingLabelSelector{sel}, MatchingLabels{"team": "x"}},
		{MatchingLabels{"team": "x"}, &ListOptions{Labels: sel}},
	} {
		o := newListOptions(opts)
		for _, tc := range []struct {
			set  labels.Set
			want bool
		}{
			{labels.Set{"team": "x", "tier": "web"}, true},
			{labels.Set{"team": "x"}, false},
			{labels.Set{"tier": "db"}, false},
			{labels.Set{"team": "y", "tier": "web"}, false},
		} {
			if got := o.Labels.Matches(tc.set); got != tc.want {
				t.Errorf("%v: selector %q matches %v = %t, want %t", opts, o.Labels, tc.set, got, tc.want)
			}
		}
	}
	if o := newListOptions([]ListOption{MatchingLabels{"a": "1"}, MatchingLabels{"a": "2"}}); o.Labels.Matches(labels.Set{"a": "1"}) || o.Labels.Matches(labels.Set{"a": "2"}) {
		t.Errorf("two contradicting label options match something: %q", o.Labels)
	}
}

// TestListKeysTellNothingFromNoSelector: a selector that matches nothing
// and no selector at all are different lists, cached apart.
func TestListKeysTellNothingFromNoSelector(t *testing.T) {
	none := newListOptions([]ListOption{MatchingLabelSelector{Selector: labels.Nothing()}})
	all := newListOptions(nil)
	if none.key() == all.key() {
		t.Fatalf("the cache key of a nothing selector equals the unfiltered list's: %q", none.key())
	}
}
