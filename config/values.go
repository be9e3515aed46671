package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Duration is a time.Duration written as Go duration text ("30s", "5m",
// "1h30m"). Text that does not parse is kept and reported by Validate with
// its key, so one bad duration does not hide the others.
type Duration struct {
	time.Duration
	invalid string
}

// D returns a Duration of d.
func D(d time.Duration) Duration { return Duration{Duration: d} }

// set parses s, keeping it for Validate when it does not parse.
func (d *Duration) set(s string) {
	s = strings.TrimSpace(s)
	v, err := time.ParseDuration(s)
	if err != nil {
		*d = Duration{invalid: s}
		return
	}
	*d = Duration{Duration: v}
}

// UnmarshalJSON reads a duration string; anything else is kept for
// Validate to report.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		*d = Duration{invalid: string(b)}
		return nil
	}
	d.set(s)
	return nil
}

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// String is the duration as text (the text as written when it did not
// parse).
func (d Duration) String() string {
	if d.invalid != "" {
		return d.invalid
	}
	return d.Duration.String()
}

// Quantity is a Kubernetes resource quantity ("512Mi", "500m", "1"). The
// zero Quantity is unset. Text that does not parse is kept and reported by
// Validate with its key.
type Quantity struct {
	q       *resource.Quantity
	invalid string
}

// Q returns the Quantity s, which must parse (it panics otherwise, as
// resource.MustParse does); for defaults and tests.
func Q(s string) Quantity {
	q := resource.MustParse(s)
	return Quantity{q: &q}
}

func (q *Quantity) set(s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		*q = Quantity{}
		return
	}
	v, err := resource.ParseQuantity(s)
	if err != nil {
		*q = Quantity{invalid: s}
		return
	}
	*q = Quantity{q: &v}
}

// IsSet reports whether a valid quantity was given.
func (q Quantity) IsSet() bool { return q.q != nil }

// Value is the quantity rounded up to an integer (bytes for memory); 0
// when unset.
func (q Quantity) Value() int64 {
	if q.q == nil {
		return 0
	}
	return q.q.Value()
}

// Float is the quantity as a float64 ("500m" is 0.5); 0 when unset.
func (q Quantity) Float() float64 {
	if q.q == nil {
		return 0
	}
	return q.q.AsApproximateFloat64()
}

// UnmarshalJSON reads a quantity as a string or a number; anything that
// does not parse is kept for Validate to report.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			*q = Quantity{invalid: string(b)}
			return nil
		}
		s = n.String()
	}
	q.set(s)
	return nil
}

// MarshalJSON writes the quantity as text ("" when unset).
func (q Quantity) MarshalJSON() ([]byte, error) { return json.Marshal(q.String()) }

// String is the quantity in canonical form, "" when unset, or the text as
// written when it did not parse.
func (q Quantity) String() string {
	switch {
	case q.invalid != "":
		return q.invalid
	case q.q == nil:
		return ""
	}
	return q.q.String()
}

// GoString makes %#v print the quantity as text, not its internals.
func (q Quantity) GoString() string {
	if q.q == nil && q.invalid == "" {
		return "config.Quantity{}"
	}
	return fmt.Sprintf("config.Q(%q)", q.String())
}
