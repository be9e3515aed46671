package intent

import (
	"fmt"
	"regexp"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// NetworkFunction is the kind of network function an intent asks for.
type NetworkFunction string

// The network functions an intent can name: 5G core functions and the
// split O-RAN gNB parts.
const (
	AMF  NetworkFunction = "AMF"
	SMF  NetworkFunction = "SMF"
	UPF  NetworkFunction = "UPF"
	NRF  NetworkFunction = "NRF"
	CUCP NetworkFunction = "CU-CP"
	CUUP NetworkFunction = "CU-UP"
	DU   NetworkFunction = "DU"
)

// NetworkFunctions lists every NetworkFunction an Intent accepts, in a
// stable order.
func NetworkFunctions() []NetworkFunction {
	return []NetworkFunction{AMF, SMF, UPF, NRF, CUCP, CUUP, DU}
}

// Environment is the deployment stage an intent targets; it selects the
// blueprint's environment overlay.
type Environment string

// The environments an intent can name.
const (
	Dev     Environment = "dev"
	Staging Environment = "staging"
	Prod    Environment = "prod"
)

// Environments lists every Environment an Intent accepts.
func Environments() []Environment { return []Environment{Dev, Staging, Prod} }

// Intent is what the layer above asks for: one network function instance
// described by its purpose rather than by blueprint fields. Rules see it
// in CEL as the variable intent, with the JSON field names below; fields
// left empty are present with their zero value.
type Intent struct {
	// Name is the downstream package name (a DNS-1123 label).
	Name string `json:"name"`
	// NetworkFunction is the function to deploy.
	NetworkFunction NetworkFunction `json:"networkFunction"`
	// Environment is the stage: dev, staging or prod.
	Environment Environment `json:"environment"`
	// Region is the region the function runs in; Region or Site is required.
	Region string `json:"region,omitempty"`
	// Site is the edge or data-centre site; Region or Site is required.
	Site string `json:"site,omitempty"`
	// HA asks for a highly available deployment (at least 2 replicas).
	HA bool `json:"ha,omitempty"`
	// Scale is the size, as replicas or capacity figures.
	Scale Scale `json:"scale,omitempty"`
	// PLMN is the public land mobile network served.
	PLMN PLMN `json:"plmn,omitempty"`
	// Slices are the network slices (S-NSSAI) served.
	Slices []Slice `json:"slices,omitempty"`
	// DNN is the data network name (APN) for session and user-plane functions.
	DNN string `json:"dnn,omitempty"`
}

// Scale sizes a network function: a replica count, capacity figures in the
// terms of Nephio's Capacity requirement, or both.
type Scale struct {
	// Replicas is the instance count; 0 leaves it to the rules.
	Replicas int `json:"replicas,omitempty"`
	// MaxSubscribers is the subscriber capacity (AMF).
	MaxSubscribers int64 `json:"maxSubscribers,omitempty"`
	// MaxSessions is the PDU session capacity (SMF).
	MaxSessions int64 `json:"maxSessions,omitempty"`
	// MaxNFConnections is the number of peer network functions.
	MaxNFConnections int64 `json:"maxNFConnections,omitempty"`
	// MaxUplinkThroughput is a Kubernetes quantity such as "5G" (UPF).
	MaxUplinkThroughput string `json:"maxUplinkThroughput,omitempty"`
	// MaxDownlinkThroughput is a Kubernetes quantity such as "5G" (UPF).
	MaxDownlinkThroughput string `json:"maxDownlinkThroughput,omitempty"`
}

// PLMN identifies a public land mobile network.
type PLMN struct {
	// MCC is the three-digit mobile country code, e.g. "001".
	MCC string `json:"mcc,omitempty"`
	// MNC is the two- or three-digit mobile network code, e.g. "01".
	MNC string `json:"mnc,omitempty"`
}

// Slice is one S-NSSAI: slice/service type and optional differentiator.
type Slice struct {
	// SST is the slice/service type, 0 to 255 (1 eMBB, 2 URLLC, 3 MIoT, 4 V2X).
	SST int `json:"sst"`
	// SD is the optional slice differentiator, six hexadecimal digits.
	SD string `json:"sd,omitempty"`
}

// MaxReplicas bounds Scale.Replicas; larger figures are taken as a mistake.
const MaxReplicas = 100

var (
	mccPattern = regexp.MustCompile(`^[0-9]{3}$`)
	mncPattern = regexp.MustCompile(`^[0-9]{2,3}$`)
	sdPattern  = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)
	dnnPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$`)
)

// Validate checks every field of in and returns an *InvalidIntentError
// listing all the problems (in field order), or nil.
func (in Intent) Validate() error {
	var errs []FieldError
	add := func(field string, value any, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)})
	}
	label := func(field, v string, required bool) {
		if v == "" {
			if required {
				add(field, v, "is required")
			}
			return
		}
		if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
			add(field, v, "must be a DNS-1123 label: %s", msgs[0])
		}
	}
	label("name", in.Name, true)
	switch {
	case in.NetworkFunction == "":
		add("networkFunction", in.NetworkFunction, "is required: one of %v", NetworkFunctions())
	case !slices.Contains(NetworkFunctions(), in.NetworkFunction):
		add("networkFunction", in.NetworkFunction, "must be one of %v", NetworkFunctions())
	}
	switch {
	case in.Environment == "":
		add("environment", in.Environment, "is required: one of %v", Environments())
	case !slices.Contains(Environments(), in.Environment):
		add("environment", in.Environment, "must be one of %v", Environments())
	}
	if in.Region == "" && in.Site == "" {
		add("region", in.Region, "region or site is required")
	}
	label("region", in.Region, false)
	label("site", in.Site, false)

	s := in.Scale
	switch {
	case s.Replicas < 0 || s.Replicas > MaxReplicas:
		add("scale.replicas", s.Replicas, "must be between 0 and %d", MaxReplicas)
	case in.HA && s.Replicas == 1:
		add("scale.replicas", s.Replicas, "an HA intent needs at least 2 replicas (or 0 to let the rules choose)")
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"scale.maxSubscribers", s.MaxSubscribers}, {"scale.maxSessions", s.MaxSessions}, {"scale.maxNFConnections", s.MaxNFConnections}} {
		if f.v < 0 {
			add(f.name, f.v, "must not be negative")
		}
	}
	for _, f := range []struct{ name, v string }{{"scale.maxUplinkThroughput", s.MaxUplinkThroughput}, {"scale.maxDownlinkThroughput", s.MaxDownlinkThroughput}} {
		if f.v == "" {
			continue
		}
		q, err := resource.ParseQuantity(f.v)
		switch {
		case err != nil:
			add(f.name, f.v, "must be a Kubernetes quantity such as 5G: %v", err)
		case q.Sign() < 0:
			add(f.name, f.v, "must not be negative")
		}
	}

	if in.PLMN != (PLMN{}) {
		if !mccPattern.MatchString(in.PLMN.MCC) {
			add("plmn.mcc", in.PLMN.MCC, "must be three digits")
		}
		if !mncPattern.MatchString(in.PLMN.MNC) {
			add("plmn.mnc", in.PLMN.MNC, "must be two or three digits")
		}
	}
	seen := map[Slice]int{}
	for i, sl := range in.Slices {
		field := fmt.Sprintf("slices[%d]", i)
		if sl.SST < 0 || sl.SST > 255 {
			add(field+".sst", sl.SST, "must be between 0 and 255")
		}
		if sl.SD != "" && !sdPattern.MatchString(sl.SD) {
			add(field+".sd", sl.SD, "must be six hexadecimal digits")
		}
		if j, dup := seen[sl]; dup {
			add(field, sl, "duplicates slices[%d]", j)
		} else {
			seen[sl] = i
		}
	}
	if in.DNN != "" && !dnnPattern.MatchString(in.DNN) {
		add("dnn", in.DNN, "must be lower-case letters, digits, dots and dashes, at most 63 characters")
	}
	if len(errs) > 0 {
		return &InvalidIntentError{Fields: errs}
	}
	return nil
}

// celValue is the intent as CEL sees it: every field present, integers as
// int64, so rules can compare and compute without has() guards.
func (in Intent) celValue() map[string]any {
	sl := make([]any, 0, len(in.Slices))
	for _, s := range in.Slices {
		sl = append(sl, map[string]any{"sst": int64(s.SST), "sd": s.SD})
	}
	return map[string]any{
		"name":            in.Name,
		"networkFunction": string(in.NetworkFunction),
		"environment":     string(in.Environment),
		"region":          in.Region,
		"site":            in.Site,
		"ha":              in.HA,
		"scale": map[string]any{
			"replicas":              int64(in.Scale.Replicas),
			"maxSubscribers":        in.Scale.MaxSubscribers,
			"maxSessions":           in.Scale.MaxSessions,
			"maxNFConnections":      in.Scale.MaxNFConnections,
			"maxUplinkThroughput":   in.Scale.MaxUplinkThroughput,
			"maxDownlinkThroughput": in.Scale.MaxDownlinkThroughput,
		},
		"plmn":   map[string]any{"mcc": in.PLMN.MCC, "mnc": in.PLMN.MNC},
		"slices": sl,
		"dnn":    in.DNN,
	}
}
