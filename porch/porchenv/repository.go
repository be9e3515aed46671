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

// RepositoryOption configures RegisterRepository.
type RepositoryOption interface {
	// ApplyToRepository applies the option to o.
	ApplyToRepository(o *RepositoryOptions)
}

// RepositoryOptions configures RegisterRepository. Passed as an option, it
// applies its non-zero fields, so several combine.
type RepositoryOptions struct {
	// Branch is the git branch (default "main").
	Branch string
	// Directory is the directory of the packages inside the repository
	// (default: the whole tree).
	Directory string
	// Deployment marks the repository as holding deployable packages.
	Deployment bool
	// Empty creates the git repository without any commit and lets Porch
	// create the branch.
	Empty bool
	// GitUser and GitPassword go into the Repository's basic-auth Secret
	// instead of the git server's own credentials (to test rejected ones).
	GitUser, GitPassword string
	// ReadyTimeout bounds the wait for the repository to be Ready (default
	// DefaultReadyTimeout).
	ReadyTimeout time.Duration
	// NoWait returns as soon as the Repository is created, without waiting
	// for Ready.
	NoWait bool
}

// ApplyToRepository implements RepositoryOption.
func (o *RepositoryOptions) ApplyToRepository(to *RepositoryOptions) {
	if o.Branch != "" {
		to.Branch = o.Branch
	}
	if o.Directory != "" {
		to.Directory = o.Directory
	}
	if o.Deployment {
		to.Deployment = true
	}
	if o.Empty {
		to.Empty = true
	}
	if o.GitUser != "" || o.GitPassword != "" {
		to.GitUser, to.GitPassword = o.GitUser, o.GitPassword
	}
	if o.ReadyTimeout != 0 {
		to.ReadyTimeout = o.ReadyTimeout
	}
	if o.NoWait {
		to.NoWait = true
	}
}

// RegisterRepository creates git repository name on the stack's git server
// and registers it with Porch as Repository name in e.Namespace, through the
// porch client's Repositories.Register (with a basic-auth Secret when the
// git server requires credentials), then waits with WaitReady until Porch
// reports it Ready. A repository Porch cannot open fails with porch's
// ErrNotReady and Porch's message.
func (e *Environment) RegisterRepository(ctx context.Context, name string, opts ...RepositoryOption) (*configapi.Repository, error) {
	o := RepositoryOptions{Branch: "main", ReadyTimeout: DefaultReadyTimeout}
	if e.Git != nil {
		o.GitUser, o.GitPassword = e.Git.User, e.Git.Password
	}
	for _, opt := range opts {
		opt.ApplyToRepository(&o)
	}
	if e.repos == nil {
		return nil, fmt.Errorf("porchenv: register repository %s: the environment is not started", name)
	}
	url, err := e.Git.CreateRepository(ctx, name, o.Branch, o.Empty)
	if err != nil {
		return nil, err
	}
	reg := []porch.RegisterOption{porch.Branch(o.Branch), porch.Description("porchenv repository " + name)}
	if o.Directory != "" {
		reg = append(reg, porch.Directory(o.Directory))
	}
	if o.Deployment {
		reg = append(reg, porch.AsDeployment)
	}
	if o.Empty {
		reg = append(reg, porch.CreateBranch)
	}
	if o.GitUser != "" {
		reg = append(reg, porch.BasicAuth{Username: o.GitUser, Password: o.GitPassword})
	}
	repos := e.repos.Repositories(e.Namespace)
	repo, err := repos.Register(ctx, name, url, reg...)
	if err != nil || o.NoWait {
		return repo, err
	}
	wctx, cancel := context.WithTimeout(ctx, o.ReadyTimeout)
	defer cancel()
	return repos.WaitReady(wctx, name)
}
