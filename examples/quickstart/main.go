// Command quickstart publishes a package through porchkit's Porch client:
// it registers a repository, creates a package, edits its files, publishes
// it through a lifecycle manager with a CEL approval policy, starts a second
// revision from the first, and lists what is published.
//
// By default it runs on porchkit's bundled in-process Porch (porch/fake:
// no setup, under a second). With -real it starts a real, local Porch v1.5.3
// (etcd, kube-apiserver, porch-server, the function runner and a git server
// on 127.0.0.1; the first run builds them, minutes with progress).
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -real
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
	"github.com/nephoran/porchkit/porch/porchenv"
)

func main() {
	useReal := flag.Bool("real", false, "run on a real, local Porch instead of the in-process one")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *useReal); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// server is where the quickstart's Porch runs.
type server struct {
	cfg    *rest.Config
	opts   porch.Options
	gitURL func(ctx context.Context, name string) (string, error)
	// gitAuth is what the git server requires, if anything.
	gitAuth porch.BasicAuth
	stop    func() error
}

func startServer(ctx context.Context, out io.Writer, real bool) (*server, error) {
	if !real {
		srv, err := fake.NewClientBuilder().BuildServer()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "in-process Porch at %s\n", srv.Config().Host)
		return &server{
			cfg: srv.Config(),
			gitURL: func(_ context.Context, name string) (string, error) {
				return "https://git.example.com/" + name + ".git", nil
			},
			stop: srv.Close,
		}, nil
	}
	fmt.Fprintln(out, "starting a local Porch (etcd, kube-apiserver, porch-server, function runner, git server) ...")
	env := &porchenv.Environment{}
	if err := env.Start(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "porch-server ready at %s\n", env.PorchConfig.Host)
	return &server{
		cfg:  env.KubeConfig,
		opts: porch.Options{PorchConfig: env.PorchConfig},
		gitURL: func(ctx context.Context, name string) (string, error) {
			return env.Git.CreateRepository(ctx, name, "main", false)
		},
		gitAuth: env.Git.Auth,
		stop:    env.Stop,
	}, nil
}

func run(ctx context.Context, out io.Writer, real bool) (err error) {
	start := time.Now()
	srv, err := startServer(ctx, out, real)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := srv.stop(); err == nil {
			err = stopErr
		}
	}()
	c, err := porch.New(srv.cfg, srv.opts)
	if err != nil {
		return err
	}
	defer c.Close()

	url, err := srv.gitURL(ctx, "blueprints")
	if err != nil {
		return err
	}
	var regOpts []porch.RegisterOption
	if srv.gitAuth.Username != "" {
		regOpts = append(regOpts, srv.gitAuth)
	}
	repos := c.Repositories("default")
	if _, err := repos.Register(ctx, "blueprints", url, regOpts...); err != nil {
		return err
	}
	if _, err := repos.WaitReady(ctx, "blueprints"); err != nil {
		return err
	}
	fmt.Fprintln(out, "repository blueprints registered and Ready")

	prs := c.PackageRevisions("default")
	draft, err := prs.Init(ctx, "blueprints", "team-a/hello", "v1", porch.Description("hello world"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created %s (%s)\n", draft.Name, draft.Spec.Lifecycle)
	if _, err := prs.UpdateResources(ctx, draft.Name, func(p *porch.Package) error {
		p.Resources["config.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  greeting: hello\n"
		return nil
	}); err != nil {
		return err
	}
	pkg, err := prs.Pull(ctx, draft.Name)
	if err != nil {
		return err
	}
	files := make([]string, 0, len(pkg.Resources))
	for f := range pkg.Resources {
		files = append(files, f)
	}
	sort.Strings(files)
	fmt.Fprintf(out, "package files: %v\n", files)

	policy, err := porch.CELPolicy(`revision.spec.packageName.startsWith("team-a/") && resources.all(r, r.kind != "Secret")`)
	if err != nil {
		return err
	}
	manager := porch.NewLifecycleManager(prs, porch.LifecycleOptions{Policy: policy, Actor: "quickstart", AuditSink: porch.AuditFunc(func(_ context.Context, r porch.AuditRecord) error {
		fmt.Fprintf(out, "  audit: %s %s -> %s allowed=%t (%s)\n", r.Name, r.From, r.To, r.Allowed, r.Policy)
		return nil
	})})
	published, err := manager.Promote(ctx, draft.Name, porchapi.PackageRevisionLifecyclePublished)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "published %s as revision %d\n", published.Name, published.Spec.Revision)

	next, err := prs.Copy(ctx, published.Name, "v2")
	if err != nil {
		return err
	}
	if _, err := manager.Promote(ctx, next.Name, porchapi.PackageRevisionLifecyclePublished); err != nil {
		return err
	}
	latest, err := prs.List(ctx, porch.InRepository("blueprints"), porch.LatestOnly)
	if err != nil {
		return err
	}
	for _, pr := range latest {
		fmt.Fprintf(out, "latest: %s revision %d\n", pr.Name, pr.Spec.Revision)
	}
	fmt.Fprintf(out, "done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
