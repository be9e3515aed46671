package deps_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/nephoran/porchkit/deps"
)

func Example() {
	u, err := deps.NewUniverse(
		deps.NewRelease("nrf", "2.0.0"), deps.NewRelease("nrf", "3.0.0"),
		deps.NewRelease("amf", "2.0.0", deps.Requires("nrf", ">=3")),
		deps.NewRelease("smf", "1.4.0", deps.Requires("nrf", "<3")),
		deps.NewRelease("smf", "1.5.0", deps.Requires("nrf", ">=2")),
	)
	if err != nil {
		panic(err)
	}
	r := deps.NewSATResolver(deps.ResolverConfig{})

	plan, err := r.Resolve(context.Background(), u, deps.Request{
		Roots: []deps.Dependency{deps.MustParseDependency("amf"), deps.MustParseDependency("smf")},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(plan)

	_, err = r.Resolve(context.Background(), u, deps.Request{
		Roots: []deps.Dependency{deps.MustParseDependency("amf 2.x"), deps.MustParseDependency("smf =1.4")},
	})
	var unsat *deps.UnsatisfiableError
	if errors.As(err, &unsat) {
		fmt.Println(unsat.Explain())
	}
	// Output:
	// [[nrf@3.0.0] [amf@2.0.0] [smf@1.5.0]]
	// amf@2.0.0 requires nrf >=3; smf@1.4.0 requires nrf <3; only one version of nrf can be installed; you asked for amf 2.x and smf =1.4; so no plan exists. Try: allow smf >=1.5.0 instead of smf =1.4.
}

// Declare releases with options: dependencies with their ranges as
// written, capabilities (virtual packages), conflicts, optional
// dependencies and cluster needs.
func ExampleNewRelease() {
	u, err := deps.NewUniverse(
		deps.NewRelease("nf-sdk", "3.2.0"),
		deps.NewRelease("postgres", "14.0.0", deps.Provides("5gc-database", "2.0.0")),
		deps.NewRelease("amf", "2.1.0",
			deps.Requires("nf-sdk", "^3"), deps.Requires("5gc-database", ">=2, <3"),
			deps.Optional("metrics-agent"), deps.Conflicts("legacy-amf"),
			deps.Provides("5gc-amf"), deps.Needs("sriov")),
	)
	if err != nil {
		panic(err)
	}
	plan, err := deps.NewSATResolver(deps.ResolverConfig{}).Resolve(context.Background(), u,
		deps.Request{Roots: []deps.Dependency{deps.MustParseDependency("5gc-amf")}})
	if err != nil {
		panic(err)
	}
	fmt.Println(plan, plan.Needs["amf"])

	// A declaration that does not parse is reported by the universe.
	_, err = deps.NewUniverse(deps.NewRelease("smf", "1.0.0", deps.Requires("nf-sdk", ">=banana")))
	fmt.Println(errors.Is(err, deps.ErrInvalidConstraint))
	// Output:
	// [[nf-sdk@3.2.0] [postgres@14.0.0] [amf@2.1.0]] [sriov]
	// true
}

// Price the repairs: here a locked release may not move, so the repair
// drops the conflicting root instead.
func ExampleCostModel() {
	u, err := deps.NewUniverse(
		deps.NewRelease("upf", "1.2.0"), deps.NewRelease("upf", "1.3.0"),
		deps.NewRelease("smf", "1.0.0", deps.Requires("upf", ">=1.3")),
		deps.NewRelease("amf", "1.0.0"),
	)
	if err != nil {
		panic(err)
	}
	req := deps.Request{
		Roots:  []deps.Dependency{deps.MustParseDependency("amf"), deps.MustParseDependency("smf")},
		Locked: []deps.ReleaseRef{deps.MustParseReleaseRef("upf@1.2.0")},
	}
	r := deps.NewSATResolver(deps.ResolverConfig{})
	for _, costs := range []deps.CostModel{{}, {ReleaseLock: -1}} {
		req.Policy.Costs = costs
		_, err := r.Resolve(context.Background(), u, req)
		var unsat *deps.UnsatisfiableError
		if errors.As(err, &unsat) {
			fmt.Println(unsat.Repairs)
		}
	}
	// Output:
	// [let upf move from 1.2.0 to 1.3.0]
	// [drop the request for smf]
}
