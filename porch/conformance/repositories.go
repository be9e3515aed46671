package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/porchkit/porch"
)

func repositoryBehaviours() []behaviour {
	return []behaviour{
		{"repository/register-and-ready", func(t *testing.T, s *suite) {
			name := s.newRepository(t, "reg-ready", porch.Description("a repository"))
			repo, err := s.repos.Get(s.ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if ok, msg := porch.Ready(repo); !ok {
				t.Fatalf("not ready: %s", msg)
			}
			if repo.Spec.Git == nil || repo.Spec.Git.Branch != "main" || repo.Spec.Description != "a repository" {
				t.Fatalf("spec = %+v", repo.Spec)
			}
		}},
		{"repository/deployment-flag-shows-on-revisions", func(t *testing.T, s *suite) {
			name := s.newRepository(t, "reg-deploy", porch.AsDeployment)
			pr, err := s.prs.Init(s.ctx, name, "app", "v1")
			if err != nil {
				t.Fatal(err)
			}
			if !pr.Status.Deployment {
				t.Fatalf("revision of a deployment repository has status.deployment=false")
			}
		}},
		{"repository/basic-auth-secret-created-and-removed", func(t *testing.T, s *suite) {
			url, err := s.target.NewGitRepository(s.ctx, "reg-auth")
			if err != nil {
				t.Fatal(err)
			}
			auth := s.target.GitAuth
			if auth.Username == "" {
				auth = porch.BasicAuth{Username: "someone", Password: "secret"}
			}
			repo, err := s.repos.Register(s.ctx, "reg-auth", url, auth)
			if err != nil {
				t.Fatal(err)
			}
			if repo.Spec.Git.SecretRef.Name != "reg-auth-auth" {
				t.Fatalf("secretRef = %q, want reg-auth-auth", repo.Spec.Git.SecretRef.Name)
			}
			if _, err := s.repos.WaitReady(s.ctx, "reg-auth"); err != nil {
				t.Fatal(err)
			}
			if err := s.repos.Unregister(s.ctx, "reg-auth"); err != nil {
				t.Fatal(err)
			}
			// Registering again creates the Secret again: it must be gone.
			if _, err := s.repos.Register(s.ctx, "reg-auth", url, auth); err != nil {
				t.Fatalf("re-register after unregister (secret left behind?): %v", err)
			}
			if err := s.repos.Unregister(s.ctx, "reg-auth", porch.KeepAuthSecret); err != nil {
				t.Fatal(err)
			}
			_, err = s.repos.Register(s.ctx, "reg-auth", url, auth)
			wantErr(t, err, porch.ErrAlreadyExists, "register with a kept secret")
			if _, err := s.repos.Get(s.ctx, "reg-auth"); err == nil {
				t.Fatal("the repository was created although its secret could not be")
			}
		}},
		{"repository/wrong-credentials-not-ready", func(t *testing.T, s *suite) {
			if s.target.GitAuth.Username == "" {
				t.Skip("the git server requires no credentials")
			}
			url, err := s.target.NewGitRepository(s.ctx, "reg-badauth")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.repos.Register(s.ctx, "reg-badauth", url, porch.BasicAuth{Username: s.target.GitAuth.Username, Password: "wrong"}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
			defer cancel()
			_, err = s.repos.WaitReady(ctx, "reg-badauth")
			wantErr(t, err, porch.ErrNotReady, "wait for a repository with wrong credentials")
			var pe *porch.Error
			if !errors.As(err, &pe) || pe.Message == "" {
				t.Fatalf("no reason given: %v", err)
			}
		}},
		{"repository/get-missing-is-not-found", func(t *testing.T, s *suite) {
			_, err := s.repos.Get(s.ctx, "no-such-repository")
			wantErr(t, err, porch.ErrNotFound, "get missing repository")
		}},
		{"repository/invalid-name-refused", func(t *testing.T, s *suite) {
			_, err := s.repos.Register(s.ctx, "Not_Valid", "http://127.0.0.1:1/x.git")
			wantErr(t, err, porch.ErrInvalid, "register with an invalid name")
		}},
		{"repository/list-includes-registered", func(t *testing.T, s *suite) {
			list, err := s.repos.List(s.ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range list {
				if r.Name == s.repo {
					return
				}
			}
			t.Fatalf("list lacks %s", s.repo)
		}},
		{"repository/unregister-drops-revisions", func(t *testing.T, s *suite) {
			name := s.newRepository(t, "reg-unreg")
			if _, err := s.prs.Init(s.ctx, name, "gone", "v1"); err != nil {
				t.Fatal(err)
			}
			if err := s.repos.Unregister(s.ctx, name); err != nil {
				t.Fatal(err)
			}
			s.eventually(t, "revisions of the unregistered repository disappear", func() (bool, error) {
				list, err := s.prs.List(s.ctx, porch.InRepository(name))
				return err == nil && len(list) == 0, err
			})
			_, err := s.repos.Get(s.ctx, name)
			wantErr(t, err, porch.ErrNotFound, "get unregistered repository")
		}},
		{"repository/refresh", func(t *testing.T, s *suite) {
			if err := s.repos.Refresh(s.ctx, s.repo); err != nil {
				t.Fatal(err)
			}
			repo, err := s.repos.Get(s.ctx, s.repo)
			if err != nil {
				t.Fatal(err)
			}
			if repo.Annotations[porch.RefreshAnnotation] == "" {
				t.Fatal("refresh left no annotation")
			}
			if ok, msg := porch.Ready(repo); !ok {
				t.Fatal(msg)
			}
		}},
		{"repository/unknown-repository-is-not-found", func(t *testing.T, s *suite) {
			_, err := s.prs.Init(s.ctx, "no-such-repository", "pkg", "v1")
			wantErr(t, err, porch.ErrNotFound, "init in a missing repository")
			if !strings.Contains(err.Error(), "no-such-repository") {
				t.Fatalf("error does not name the repository: %v", err)
			}
		}},
	}
}
