package porch

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Repositories registers and inspects the repositories of one namespace
// (config.porch.kpt.dev Repository objects), like `porchctl repo`.
type Repositories interface {
	// Register creates the Repository (and, with a BasicAuth option, its
	// basic-auth Secret "<name>-auth"). It does not wait for Ready; see
	// WaitReady. A URL starting with oci:// registers an OCI repository.
	Register(ctx context.Context, name, url string, opts ...RegisterOption) (*configapi.Repository, error)
	// Unregister deletes the Repository and, unless KeepAuthSecret is given,
	// the Secret it references.
	Unregister(ctx context.Context, name string, opts ...UnregisterOption) error
	// Get returns one repository.
	Get(ctx context.Context, name string) (*configapi.Repository, error)
	// List returns the namespace's repositories.
	List(ctx context.Context) ([]configapi.Repository, error)
	// WaitReady polls until the repository's Ready condition is True for its
	// current generation. A False condition for the current generation (Porch
	// tried and failed to open it) is returned at once as ErrNotReady with
	// Porch's message.
	WaitReady(ctx context.Context, name string) (*configapi.Repository, error)
	// Refresh asks Porch to re-read the repository from git now rather than
	// at its next poll (Porch re-reads on every change of the Repository
	// object), then waits until the repository is Ready. Porch does not say
	// when the re-read is done; changes made to git out of band show up in
	// lists shortly after.
	Refresh(ctx context.Context, name string) error
}

// RefreshAnnotation is set by Refresh; changing it makes Porch re-open the
// repository and re-read git.
const RefreshAnnotation = "porchkit.io/refresh-requested-at"

const (
	resourceRepositories = "repositories"
	resourceSecrets      = "secrets"
)

type repositories struct {
	c  *client
	ns string
}

func (r *repositories) op(name, object string) Operation {
	return Operation{Name: name, Kind: resourceRepositories, Namespace: r.ns, Object: object}
}

func (r *repositories) Register(ctx context.Context, name, url string, opts ...RegisterOption) (*configapi.Repository, error) {
	const op = "register repository"
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return nil, newError(op, name, ErrInvalid, "repository name: %s", strings.Join(errs, "; "))
	}
	if url == "" {
		return nil, newError(op, name, ErrInvalid, "empty repository URL")
	}
	repo := &configapi.Repository{
		TypeMeta:   metav1.TypeMeta{APIVersion: configapi.GroupVersion.String(), Kind: "Repository"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.ns},
	}
	o := RegisterOptions{Branch: "main", Directory: "/"}
	for _, opt := range opts {
		opt.ApplyToRegister(&o)
	}
	repo.Spec.Description, repo.Spec.Deployment = o.Description, o.Deployment
	if image, ok := strings.CutPrefix(url, "oci://"); ok {
		repo.Spec.Type = configapi.RepositoryTypeOCI
		repo.Spec.Oci = &configapi.OciRepository{Registry: image, SecretRef: configapi.SecretRef{Name: o.SecretRef}}
	} else {
		dir := o.Directory
		if dir != "/" {
			dir = path.Clean("/" + dir)[1:]
		}
		repo.Spec.Type = configapi.RepositoryTypeGit
		repo.Spec.Git = &configapi.GitRepository{Repo: url, Branch: o.Branch, Directory: dir, CreateBranch: o.CreateBranch,
			Author: o.Author.Name, Email: o.Author.Email, SecretRef: configapi.SecretRef{Name: o.SecretRef}}
	}
	if o.BasicAuth != (BasicAuth{}) {
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-auth", Namespace: r.ns},
			Type:       corev1.SecretTypeBasicAuth,
			Data:       map[string][]byte{"username": []byte(o.BasicAuth.Username), "password": []byte(o.BasicAuth.Password)},
		}
		err := r.c.res.do(ctx, call{op: Operation{Name: "create", Kind: resourceSecrets, Namespace: r.ns, Object: secret.Name}},
			func(ctx context.Context) error {
				_, err := r.c.core.Secrets(r.ns).Create(ctx, secret, metav1.CreateOptions{})
				return err
			})
		if err != nil {
			return nil, opError(op, err)
		}
		if repo.Spec.Git != nil {
			repo.Spec.Git.SecretRef.Name = secret.Name
		} else {
			repo.Spec.Oci.SecretRef.Name = secret.Name
		}
	}
	out := &configapi.Repository{}
	err := r.c.res.do(ctx, call{op: r.op("create", name)}, func(ctx context.Context) error {
		return r.c.config.Post().Namespace(r.ns).Resource(resourceRepositories).Body(repo).Do(ctx).Into(out)
	})
	if err != nil {
		if o.BasicAuth != (BasicAuth{}) {
			// Leave nothing behind: the Secret was made for this repository.
			_ = r.deleteSecret(ctx, name+"-auth", false)
		}
		return nil, opError(op, err)
	}
	return out, nil
}

func (r *repositories) deleteSecret(ctx context.Context, name string, dryRun bool) error {
	opts := metav1.DeleteOptions{}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return r.c.res.do(ctx, call{op: Operation{Name: "delete", Kind: resourceSecrets, Namespace: r.ns, Object: name}, idempotent: true},
		func(ctx context.Context) error {
			err := r.c.core.Secrets(r.ns).Delete(ctx, name, opts)
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		})
}

func (r *repositories) Unregister(ctx context.Context, name string, opts ...UnregisterOption) error {
	const op = "unregister repository"
	var u UnregisterOptions
	for _, opt := range opts {
		opt.ApplyToUnregister(&u)
	}
	repo, err := r.get(ctx, op, name)
	if err != nil {
		return err
	}
	secret := ""
	switch {
	case u.KeepAuthSecret:
	case repo.Spec.Git != nil:
		secret = repo.Spec.Git.SecretRef.Name
	case repo.Spec.Oci != nil:
		secret = repo.Spec.Oci.SecretRef.Name
	}
	// A caller who may delete the Repository but not its Secret would
	// leave the Secret behind: a dry run of the Secret's delete, which
	// the API server authorises like the real one, refuses first.
	if secret != "" {
		if err := r.deleteSecret(ctx, secret, true); err != nil {
			return opError(op, err)
		}
	}
	err = r.c.res.do(ctx, call{op: r.op("delete", name), idempotent: true}, func(ctx context.Context) error {
		return r.c.config.Delete().Namespace(r.ns).Resource(resourceRepositories).Name(name).Do(ctx).Error()
	})
	if err != nil {
		return opError(op, err)
	}
	r.c.srv.invalidate(r.ns, "")
	if secret == "" {
		return nil
	}
	return opError(op, r.deleteSecret(ctx, secret, false))
}

func (r *repositories) Get(ctx context.Context, name string) (*configapi.Repository, error) {
	return r.get(ctx, "get repository", name)
}

// get reads one repository; op is the caller's verb.
func (r *repositories) get(ctx context.Context, op, name string) (*configapi.Repository, error) {
	out := &configapi.Repository{}
	err := r.c.res.do(ctx, call{op: r.op("get", name), idempotent: true}, func(ctx context.Context) error {
		return r.c.config.Get().Namespace(r.ns).Resource(resourceRepositories).Name(name).Do(ctx).Into(out)
	})
	if err != nil {
		return nil, opError(op, err)
	}
	return out, nil
}

func (r *repositories) List(ctx context.Context) ([]configapi.Repository, error) {
	out := &configapi.RepositoryList{}
	err := r.c.res.do(ctx, call{op: r.op("list", ""), idempotent: true}, func(ctx context.Context) error {
		return r.c.config.Get().Namespace(r.ns).Resource(resourceRepositories).Do(ctx).Into(out)
	})
	if err != nil {
		return nil, opError("list repositories", err)
	}
	return out.Items, nil
}

// Ready reports whether repo's Ready condition is True for its current
// generation, and the condition's message otherwise.
func Ready(repo *configapi.Repository) (bool, string) {
	cond := meta.FindStatusCondition(repo.Status.Conditions, configapi.RepositoryReady)
	switch {
	case cond == nil:
		return false, "Porch has not reported on the repository yet"
	case cond.ObservedGeneration != 0 && cond.ObservedGeneration < repo.Generation:
		return false, "Porch has not observed the repository's latest change yet"
	case cond.Status != metav1.ConditionTrue:
		return false, cond.Message
	}
	return true, ""
}

func (r *repositories) WaitReady(ctx context.Context, name string) (*configapi.Repository, error) {
	const op = "wait for repository"
	var last *configapi.Repository
	var lastErr error
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		repo, err := r.get(ctx, op, name)
		if err != nil {
			lastErr = err
			return false, nilIfRetryable(err)
		}
		last, lastErr = repo, nil
		ok, _ := Ready(repo)
		if !ok && failedForGeneration(repo) {
			return false, errNotReady
		}
		return ok, nil
	})
	if err == nil {
		return last, nil
	}
	if lastErr != nil && !IsRetryable(lastErr) {
		return nil, lastErr // the read failed for good (gone, forbidden): not a statement about readiness
	}
	if last != nil {
		_, msg := Ready(last)
		return last, &Error{Op: op, Name: name, Kind: ErrNotReady, Message: msg, Err: err}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, &Error{Op: op, Name: name, Kind: ErrNotReady, Err: err}
}

var errNotReady = errors.New("porch reported the repository not ready")

// failedForGeneration reports a Ready=False condition for the repository's
// current generation: Porch tried to open it and could not.
func failedForGeneration(repo *configapi.Repository) bool {
	cond := meta.FindStatusCondition(repo.Status.Conditions, configapi.RepositoryReady)
	return cond != nil && cond.Status == metav1.ConditionFalse && (cond.ObservedGeneration == 0 || cond.ObservedGeneration >= repo.Generation)
}

func nilIfRetryable(err error) error {
	if IsRetryable(err) {
		return nil
	}
	return err
}

func (r *repositories) Refresh(ctx context.Context, name string) error {
	const op = "refresh repository"
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, RefreshAnnotation, time.Now().UTC().Format(time.RFC3339Nano))
	err := r.c.res.do(ctx, call{op: r.op("refresh", name), idempotent: true}, func(ctx context.Context) error {
		return r.c.config.Patch(types.MergePatchType).Namespace(r.ns).Resource(resourceRepositories).Name(name).
			Body([]byte(patch)).Do(ctx).Error()
	})
	if err != nil {
		return opError(op, err)
	}
	r.c.srv.invalidate(r.ns, "")
	return readyAfterRefresh(ctx, op, name, func(ctx context.Context) (*configapi.Repository, error) {
		return r.get(ctx, op, name)
	})
}
