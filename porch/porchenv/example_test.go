package porchenv_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/porchenv"
)

// Example starts a local Porch whose git server requires credentials,
// registers a repository and creates a package revision with porchkit's
// client. It needs the real servers, so it is compiled but not run by
// "go test"; in a test, porchenv.Setup(t, env) starts and stops the stack.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	env := &porchenv.Environment{GitAuth: porch.BasicAuth{Username: "porch", Password: "s3cret"}}
	if err := env.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer func() { _ = env.Stop() }()

	if _, err := env.RegisterRepository(ctx, "blueprints"); err != nil {
		log.Fatal(err)
	}
	c, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	pr, err := c.PackageRevisions(env.Namespace).Init(ctx, "blueprints", "hello", "v1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pr.Name)
	// porchctl --kubeconfig <env.KubeconfigPath> rpkg get lists it too.
}
