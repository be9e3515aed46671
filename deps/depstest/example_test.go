package depstest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/nephoran/porchkit/deps"
	"github.com/nephoran/porchkit/deps/depstest"
)

// Script the resolver's first answer as a failure, let a real SAT resolver
// answer after that, and check what the code under test asked for.
func Example() {
	u, err := deps.NewUniverse(deps.NewRelease("nrf", "1.0.0"), deps.NewRelease("nrf", "1.2.0"))
	if err != nil {
		panic(err)
	}
	r := depstest.NewResolver(depstest.Answer{Err: deps.ErrTooLarge})
	r.Fallback = deps.NewSATResolver(deps.ResolverConfig{})

	ctx := context.Background()
	req := deps.Request{Roots: []deps.Dependency{deps.MustParseDependency("nrf >=1")}}
	_, err = r.Resolve(ctx, u, req)
	fmt.Println("first:", errors.Is(err, deps.ErrTooLarge))
	plan, err := r.Resolve(ctx, u, req)
	if err != nil {
		panic(err)
	}
	fmt.Println("second:", plan)
	for _, q := range r.Requests() {
		fmt.Println("asked for", q.Roots)
	}
	// Output:
	// first: true
	// second: [[nrf@1.2.0]]
	// asked for [nrf >=1]
	// asked for [nrf >=1]
}
