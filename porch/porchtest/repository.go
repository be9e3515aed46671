package porchtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ErrRepositoryNotReady is returned when a Repository does not become Ready
// in time; the error text carries Porch's condition message.
var ErrRepositoryNotReady = errors.New("porchtest: repository not ready")

type repoOptions struct {
	branch       string
	directory    string
	deployment   bool
	createBranch bool
	emptyGit     bool
	credentials  *[2]string
	wait         time.Duration
}

// RepositoryOption configures RegisterRepository.
type RepositoryOption func(*repoOptions)

// WithBranch sets the git branch (default "main").
func WithBranch(b string) RepositoryOption { return func(o *repoOptions) { o.branch = b } }

// WithDirectory sets the directory of the packages inside the repository.
func WithDirectory(d string) RepositoryOption { return func(o *repoOptions) { o.directory = d } }

// AsDeployment marks the repository as a deployment repository.
func AsDeployment() RepositoryOption { return func(o *repoOptions) { o.deployment = true } }

// WithEmptyGit creates the git repository without any commit and lets Porch
// create the branch (spec.git.createBranch).
func WithEmptyGit() RepositoryOption {
	return func(o *repoOptions) { o.emptyGit, o.createBranch = true, true }
}

// WithCredentials stores these credentials in the Repository's basic-auth
// Secret instead of the git server's own (to test rejected credentials).
func WithCredentials(user, password string) RepositoryOption {
	return func(o *repoOptions) { o.credentials = &[2]string{user, password} }
}

// WithReadyTimeout sets how long RegisterRepository waits for the Ready
// condition (default 60s); zero does not wait.
func WithReadyTimeout(d time.Duration) RepositoryOption { return func(o *repoOptions) { o.wait = d } }

// RegisterRepository creates git repository name on the stack's git server
// and registers it with Porch as Repository name in e.Namespace (with a
// basic-auth Secret when the git server requires one), then waits until
// Porch reports it Ready.
func (e *Environment) RegisterRepository(ctx context.Context, name string, opts ...RepositoryOption) (*configapi.Repository, error) {
	o := repoOptions{branch: "main", wait: time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	url, err := e.Git.CreateRepository(ctx, name, o.branch, o.emptyGit)
	if err != nil {
		return nil, err
	}
	repo := &configapi.Repository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.Namespace},
		Spec: configapi.RepositorySpec{
			Description: "porchtest repository " + name,
			Deployment:  o.deployment,
			Type:        configapi.RepositoryTypeGit,
			Git: &configapi.GitRepository{
				Repo:         url,
				Branch:       o.branch,
				Directory:    o.directory,
				CreateBranch: o.createBranch,
			},
		},
	}
	user, password := e.Git.BasicAuth()
	if o.credentials != nil {
		user, password = o.credentials[0], o.credentials[1]
	}
	if user != "" {
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-auth", Namespace: e.Namespace},
			Type:       corev1.SecretTypeBasicAuth,
			StringData: map[string]string{corev1.BasicAuthUsernameKey: user, corev1.BasicAuthPasswordKey: password},
		}
		if err := e.Client.Create(ctx, secret); err != nil {
			return nil, fmt.Errorf("porchtest: create secret %s: %w", secret.Name, err)
		}
		repo.Spec.Git.SecretRef = configapi.SecretRef{Name: secret.Name}
	}
	if err := e.Client.Create(ctx, repo); err != nil {
		return nil, fmt.Errorf("porchtest: create repository %s: %w", name, err)
	}
	if o.wait == 0 {
		return repo, nil
	}
	wctx, cancel := context.WithTimeout(ctx, o.wait)
	defer cancel()
	return e.WaitRepositoryReady(wctx, name)
}

// WaitRepositoryReady waits until Repository name in e.Namespace has the
// condition Ready=True and returns it. The error on timeout wraps
// ErrRepositoryNotReady and carries Porch's last condition message.
func (e *Environment) WaitRepositoryReady(ctx context.Context, name string) (*configapi.Repository, error) {
	repo := &configapi.Repository{}
	var last string
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := e.Client.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: name}, repo); err != nil {
			if ctx.Err() == nil { // keep Porch's last word rather than our own deadline
				last = err.Error()
			}
			return false, nil
		}
		c := meta.FindStatusCondition(repo.Status.Conditions, configapi.RepositoryReady)
		if c == nil {
			last = "no Ready condition yet"
			return false, nil
		}
		last = fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
		return c.Status == metav1.ConditionTrue, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s/%s (%s): %w", ErrRepositoryNotReady, e.Namespace, name, last, err)
	}
	return repo, nil
}
