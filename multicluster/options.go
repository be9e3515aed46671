package multicluster

// PropagateOptions are Propagate's per-call options. The zero value is the
// default: supersede an overlapping rollout of the same package, first
// attempt.
type PropagateOptions struct {
	// OnConflict is what happens when another rollout of the same package
	// runs to some of the same clusters ("": ConflictSupersede).
	OnConflict ConflictPolicy
	// Attempt salts the rollout's ID: Propagate with the same inputs and
	// the same Attempt returns the same rollout, running or finished; a
	// new Attempt starts the inputs anew ("": the first attempt).
	Attempt string
}

// PropagateOption sets a Propagate option, in the way controller-runtime's
// client options do (ApplyToX).
type PropagateOption interface {
	// ApplyToPropagate sets the option in o.
	ApplyToPropagate(o *PropagateOptions)
}

// ApplyToPropagate copies the fields of o that are set into to, so that a
// PropagateOptions value is an option itself.
func (o *PropagateOptions) ApplyToPropagate(to *PropagateOptions) {
	if o.OnConflict != "" {
		to.OnConflict = o.OnConflict
	}
	if o.Attempt != "" {
		to.Attempt = o.Attempt
	}
}

// ConflictPolicy says what Propagate does with a running rollout of the
// same package to some of the same clusters.
type ConflictPolicy string

// Conflict policies.
const (
	// ConflictSupersede (the default) stops the older rollout at once,
	// without rolling it back: it ends PhaseSuperseded and hands its
	// clusters, with their last-known-good revisions, to the newer one.
	ConflictSupersede ConflictPolicy = "Supersede"
	// ConflictRefuse makes Propagate fail with a *ConflictError (wrapping
	// ErrRolloutConflict) that names the rollout in the way.
	ConflictRefuse ConflictPolicy = "Refuse"
)

// ApplyToPropagate implements PropagateOption.
func (c ConflictPolicy) ApplyToPropagate(o *PropagateOptions) { o.OnConflict = c }

// Attempt is the PropagateOption that sets PropagateOptions.Attempt: a
// new value starts a rollout of inputs that already ran (or failed) anew.
type Attempt string

// ApplyToPropagate implements PropagateOption.
func (a Attempt) ApplyToPropagate(o *PropagateOptions) { o.Attempt = string(a) }

// propagateOptions applies opts over the defaults and checks them.
func propagateOptions(opts []PropagateOption) (PropagateOptions, error) {
	var o PropagateOptions
	for _, opt := range opts {
		if opt != nil {
			opt.ApplyToPropagate(&o)
		}
	}
	switch o.OnConflict {
	case "":
		o.OnConflict = ConflictSupersede
	case ConflictSupersede, ConflictRefuse:
	default:
		return o, fieldError(ErrInvalidOption, "onConflict", "unknown %q (Supersede or Refuse)", o.OnConflict)
	}
	return o, nil
}
