// Command testbin builds (or finds in the cache) the binaries of porchkit's
// local test stacks and prints where they are. CI runs it before the tests so
// that the one-time build shows its progress:
//
//	go run ./internal/testbin/cmd/testbin            # everything
//	go run ./internal/testbin/cmd/testbin etcd kwok  # some
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nephoran/porchkit/internal/testbin"
)

func main() {
	names := os.Args[1:]
	if len(names) == 0 {
		names = []string{
			testbin.Etcd, testbin.KubeAPIServer, testbin.KubeControllerManager, testbin.KubeScheduler,
			testbin.PorchServer, testbin.Porchctl, testbin.FunctionRunner, testbin.PorchGitServer,
			testbin.Kwok, testbin.PorchCRDs, testbin.KwokStages,
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	set := testbin.New()
	for _, n := range names {
		p, err := set.Path(ctx, n)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s\t%s\n", n, p)
	}
}
