package deps

import (
	"strings"

	"github.com/Masterminds/semver/v3"
)

// versionRange is a constraint compiled for fast checks: groups joined by
// "||", each a conjunction of comparisons with plain x.y.z versions. It is
// an accelerator for Masterminds/semver's Check, which builds an error
// message for every failed comparison; a resolver checks versions millions
// of times. Each comparison holds its version as a versionKey, so a check
// compares integers. Only constraints whose meaning is a plain comparison
// are compiled: anything with a partial, wildcard or pre-release version,
// a component too large for a key, a tilde, a caret or a hyphen range is
// left to Masterminds/semver, and so is any pre-release version being
// checked.
type versionRange struct {
	groups [][]comparison
	// one and inline hold the usual range, one group of at most two
	// comparisons, which groups then refers to: the range lies within
	// the value that holds it, and a check follows no pointer away.
	one    [1][]comparison
	inline [2]comparison
}

type comparison struct {
	op  operator
	key uint64 // the version's versionKey
}

// operator is a comparison's operator.
type operator int8

const (
	opEqual operator = iota
	opNotEqual
	opGreater
	opLess
	opGreaterOrEqual
	opLessOrEqual
)

// compileRange compiles text (a constraint semver.NewConstraint
// accepted) into r, or returns false when it is not a plain comparison.
func compileRange(r *versionRange, text string) bool {
	if strings.Contains(text, " - ") {
		return false
	}
	var groups [][]comparison
	for _, group := range strings.Split(text, "||") {
		var comps []comparison
		fields := strings.Fields(strings.ReplaceAll(group, ",", " "))
		for i := 0; i < len(fields); i++ {
			f := fields[i]
			if strings.TrimRight(f, "0123456789.") == f && i+1 < len(fields) { // "op version" with a space
				f, i = f+fields[i+1], i+1
			}
			op, ver, ok := splitOperator(f)
			if !ok {
				return false
			}
			v, err := semver.StrictNewVersion(ver)
			if err != nil || v.Metadata() != "" {
				return false
			}
			k, ok := versionKey(v)
			if !ok {
				return false
			}
			comps = append(comps, comparison{op: op, key: k})
		}
		if len(comps) == 0 {
			return false
		}
		groups = append(groups, comps)
	}
	if len(groups) == 1 && len(groups[0]) <= len(r.inline) {
		n := copy(r.inline[:], groups[0])
		r.one[0] = r.inline[:n:n]
		groups = r.one[:]
	}
	r.groups = groups
	return true
}

// splitOperator splits "op version" into the operator and the version;
// false for an operator the fast path does not take.
func splitOperator(f string) (operator, string, bool) {
	for _, o := range []struct {
		text string
		op   operator
	}{
		{">=", opGreaterOrEqual}, {"=>", opGreaterOrEqual}, {"<=", opLessOrEqual}, {"=<", opLessOrEqual},
		{"!=", opNotEqual}, {">", opGreater}, {"<", opLess}, {"=", opEqual},
	} {
		if v, ok := strings.CutPrefix(f, o.text); ok {
			return o.op, v, true
		}
	}
	if f != "" && f[0] >= '0' && f[0] <= '9' {
		return opEqual, f, true
	}
	return 0, "", false
}

// versionKey packs a plain x.y.z version into one ordered integer, so a
// range is checked with integer comparisons (build metadata is ignored, as
// semver's Compare ignores it); ok is false for a pre-release version or a
// component too large to pack.
func versionKey(v *semver.Version) (key uint64, ok bool) {
	const limit = 1 << keyBits
	if v.Prerelease() != "" || v.Major() >= limit || v.Minor() >= limit || v.Patch() >= limit {
		return 0, false
	}
	return v.Major()<<(2*keyBits) | v.Minor()<<keyBits | v.Patch(), true
}

// keyOf is v's versionKey, noKey when it has none.
func keyOf(v *semver.Version) uint64 {
	if k, ok := versionKey(v); ok {
		return k
	}
	return noKey
}

// noKey marks a version without a versionKey.
const noKey = ^uint64(0)

// keyBits is the width of one version component in a versionKey.
const keyBits = 21

// check reports whether v satisfies the range; known is false when the
// fast path does not apply (a pre-release version, or a component too
// large for a versionKey).
func (r *versionRange) check(v *semver.Version) (ok, known bool) {
	k, ok := versionKey(v)
	if !ok {
		return false, false
	}
	return r.checkKey(k), true
}

// checkKey reports whether the version of key k (a versionKey) satisfies
// the range.
func (r *versionRange) checkKey(k uint64) bool {
	for _, g := range r.groups {
		all := true
		for _, c := range g {
			if !c.holds(k) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (c comparison) holds(k uint64) bool {
	switch c.op {
	case opEqual:
		return k == c.key
	case opNotEqual:
		return k != c.key
	case opGreater:
		return k > c.key
	case opLess:
		return k < c.key
	case opGreaterOrEqual:
		return k >= c.key
	case opLessOrEqual:
		return k <= c.key
	}
	return false
}

// commaForm renders c as Masterminds/semver does, but with its
// conjunctions joined by ", " as people write them (">=1.2, <2" rather
// than ">=1.2 <2"). Each comparison Masterminds/semver renders holds no
// space, so the spaces it puts between them are exactly the conjunctions.
func commaForm(c *semver.Constraints) string {
	groups := strings.Split(c.String(), " || ")
	for i, g := range groups {
		groups[i] = strings.Join(strings.Fields(g), ", ")
	}
	return strings.Join(groups, " || ")
}
