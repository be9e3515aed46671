package porchenv

import (
	"context"
	"fmt"
	"time"

	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"

	"github.com/nephoran/porchkit/porch"
)

// DefaultReadyTimeout is how long RegisterRepository waits for a repository
// to be Ready when RepositoryOptions.ReadyTimeout is zero.
const DefaultReadyTimeout = time.Minute

// RepositoryOptions is what RegisterRepository does beyond Porch's
// registration, which porch's own register options (porch.Branch,
// porch.Directory, porch.AsDeployment, porch.BasicAuth, ...) configure. A
// *RepositoryOptions is itself a register option, passed among the others.
type RepositoryOptions struct {
	// Empty creates the git repository without any commit and lets Porch
	// create the branch (porch.CreateBranch is implied).
	Empty bool
	// ReadyTimeout bounds the wait for the repository to be Ready (default
	// DefaultReadyTimeout).
	ReadyTimeout time.Duration
	// NoWait returns as soon as the Repository is created, without waiting
	// for Ready.
	NoWait bool
}

// ApplyToRegister implements porch.RegisterOption: Porch's registration
// takes nothing of o except CreateBranch for an empty git repository;
// RegisterRepository reads the rest.
func (o *RepositoryOptions) ApplyToRegister(r *porch.RegisterOptions) {
	if o.Empty {
		r.CreateBranch = true
	}
}

// RegisterRepository creates git repository name on the stack's git server
// and registers it with Porch as Repository name in e.Namespace, through the
// porch client's Repositories.Register with opts, then waits with WaitReady
// until Porch reports it Ready. A *RepositoryOptions among opts says how the
// git repository is made and how long to wait. The branch is porch.Branch's
// (default "main"); when the git server requires credentials, the
// Repository gets a basic-auth Secret with them unless opts name other
// credentials (porch.BasicAuth or porch.SecretRef, to test rejected ones).
// A repository Porch cannot open fails with porch's ErrNotReady and Porch's
// message.
func (e *Environment) RegisterRepository(ctx context.Context, name string, opts ...porch.RegisterOption) (*configapi.Repository, error) {
	var extra RepositoryOptions
	for _, opt := range opts {
		if r, ok := opt.(*RepositoryOptions); ok && r != nil {
			extra = *r
		}
	}
	if extra.ReadyTimeout == 0 {
		extra.ReadyTimeout = DefaultReadyTimeout
	}
	if e.repos == nil {
		return nil, fmt.Errorf("porchenv: register repository %s: the environment is not started", name)
	}
	o := porch.RegisterOptions{Branch: "main"}
	for _, opt := range opts {
		opt.ApplyToRegister(&o)
	}
	url, err := e.Git.CreateRepository(ctx, name, o.Branch, extra.Empty)
	if err != nil {
		return nil, err
	}
	reg := []porch.RegisterOption{porch.Branch(o.Branch), porch.Description("porchenv repository " + name)}
	if e.Git.Auth.Username != "" && o.BasicAuth == (porch.BasicAuth{}) && o.SecretRef == "" {
		reg = append(reg, e.Git.Auth)
	}
	reg = append(reg, opts...)
	repos := e.repos.Repositories(e.Namespace)
	r, err := repos.Register(ctx, name, url, reg...)
	if err != nil || extra.NoWait {
		return r, err
	}
	wctx, cancel := context.WithTimeout(ctx, extra.ReadyTimeout)
	defer cancel()
	return repos.WaitReady(wctx, name)
}
