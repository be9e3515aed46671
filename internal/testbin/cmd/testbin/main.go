// Command testbin builds (or finds in the cache) the binaries of porchkit's
// local test stacks and prints where they are. CI runs it before the tests so
// that the one-time build shows its progress:
//
//	go run ./internal/testbin/cmd/testbin            # everything
//	go run ./internal/testbin/cmd/testbin etcd kwok  # some
//
// It also looks after the tool modules the binaries are built from, which
// travel embedded in internal/testbin:
//
//	go run ./internal/testbin/cmd/testbin -tidy       # fail unless "go mod tidy" leaves each unchanged
//	go run ./internal/testbin/cmd/testbin -write DIR  # write them out into DIR/<tool>, e.g. to upgrade one
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nephoran/porchkit/internal/testbin"
)

func main() {
	tidy := flag.Bool("tidy", false, `run "go mod tidy -diff" in each tool module and fail on a difference, instead of building`)
	write := flag.String("write", "", "write the tool modules into `dir`/<tool> instead of building")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: testbin [name ...] | -tidy | -write dir\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *tidy, *write, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, tidy bool, write string, names []string) error {
	switch {
	case (tidy || write != "") && len(names) > 0, tidy && write != "":
		return errors.New("testbin: -tidy and -write take no names, and not each other")
	case tidy:
		return testbin.CheckTidy(ctx, os.Stdout)
	case write != "":
		return testbin.WriteModules(write)
	}
	if len(names) == 0 {
		names = []string{
			testbin.Etcd, testbin.KubeAPIServer, testbin.KubeControllerManager, testbin.KubeScheduler,
			testbin.PorchServer, testbin.Porchctl, testbin.FunctionRunner, testbin.PorchGitServer,
			testbin.Kwok, testbin.PorchCRDs, testbin.KwokStages,
		}
	}
	set := testbin.New(testbin.Config{})
	for _, n := range names {
		p, err := set.Path(ctx, n)
		if err != nil {
			return err
		}
		fmt.Printf("%s\t%s\n", n, p)
	}
	return nil
}
