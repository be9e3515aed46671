package deps

import "fmt"

// CostModel prices the edits of a request that an *UnsatisfiableError's
// repairs may propose; the repairs are the cheapest set of edits after
// which a plan exists. Its zero value is the default: widening a root's
// range and releasing a lock cost 2, lifting an exclusion 3, dropping a
// root 5, and ties go to the facts latest in the request. A field left 0
// takes its default, so a model names only what it changes; a negative
// cost forbids that edit (it is never proposed).
type CostModel struct {
	// Widen is the cost of letting a root take any version of its package;
	// 0 means 2.
	Widen int
	// ReleaseLock is the cost of letting a locked (deployed) package move
	// to another version or leave the plan; 0 means 2.
	ReleaseLock int
	// LiftExclusion is the cost of allowing an excluded release again;
	// 0 means 3.
	LiftExclusion int
	// DropRoot is the cost of no longer asking for a root; 0 means 5. At
	// least one root is always kept.
	DropRoot int
	// TieBreak decides between repairs of equal cost.
	TieBreak TieBreak
}

// MaxRepairCost is the largest cost a CostModel may give an edit; a larger
// one is an ErrInvalidRequest *InputError.
const MaxRepairCost = 1000

// The default costs, those of the zero CostModel.
const (
	costWiden   = 2
	costRelease = 2
	costLift    = 3
	costDrop    = 5
)

// TieBreak says which of several equally cheap repairs is proposed.
type TieBreak int

const (
	// TieBreakLatest edits the facts latest in the request first (the
	// last root before the first, locks and exclusions before roots): the
	// first root is taken to be the one the user cares for most. It is the
	// default.
	TieBreakLatest TieBreak = iota
	// TieBreakEarliest edits the facts earliest in the request first.
	TieBreakEarliest
)

// String names the tie-break.
func (t TieBreak) String() string {
	switch t {
	case TieBreakLatest:
		return "TieBreakLatest"
	case TieBreakEarliest:
		return "TieBreakEarliest"
	}
	return fmt.Sprintf("TieBreak(%d)", int(t))
}

// validate rejects costs above MaxRepairCost and unknown tie-breaks,
// naming the field.
func (c CostModel) validate() error {
	for _, f := range []struct {
		name string
		cost int
	}{{"Widen", c.Widen}, {"ReleaseLock", c.ReleaseLock}, {"LiftExclusion", c.LiftExclusion}, {"DropRoot", c.DropRoot}} {
		if f.cost > MaxRepairCost {
			return &InputError{Kind: ErrInvalidRequest, Text: fmt.Sprintf("Policy.Costs.%s = %d", f.name, f.cost), Reason: fmt.Sprintf("a repair cost is at most %d", MaxRepairCost)}
		}
	}
	if c.TieBreak != TieBreakLatest && c.TieBreak != TieBreakEarliest {
		return &InputError{Kind: ErrInvalidRequest, Text: "Policy.Costs.TieBreak = " + c.TieBreak.String(), Reason: "unknown tie-break"}
	}
	return nil
}

// withDefaults returns c with each zero cost replaced by its default.
func (c CostModel) withDefaults() CostModel {
	for _, f := range []struct {
		cost *int
		def  int
	}{{&c.Widen, costWiden}, {&c.ReleaseLock, costRelease}, {&c.LiftExclusion, costLift}, {&c.DropRoot, costDrop}} {
		if *f.cost == 0 {
			*f.cost = f.def
		}
	}
	return c
}

// tie is the tie term of the fact at position order among n facts: in
// [1, n], smaller for the fact the tie-break edits first.
func (c CostModel) tie(order, n int) int {
	if c.TieBreak == TieBreakEarliest {
		return order + 1
	}
	return n - order
}
