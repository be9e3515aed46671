package deps_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/Masterminds/semver/v3"

	"github.com/nephoran/porchkit/deps"
)

func release(name, version string, requires ...string) *deps.Release {
	r := &deps.Release{Name: name, Version: semver.MustParse(version)}
	for _, d := range requires {
		r.Requires = append(r.Requires, deps.MustParseDependency(d))
	}
	return r
}

func Example() {
	u, err := deps.NewUniverse(
		release("nrf", "2.0.0"), release("nrf", "3.0.0"),
		release("amf", "2.0.0", "nrf >=3"),
		release("smf", "1.4.0", "nrf <3"), release("smf", "1.5.0", "nrf >=2"),
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
