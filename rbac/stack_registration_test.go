package rbac_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/rbac"
)

// registrationFlow is repository-registration's flow on repository name
// (its git repository made beforehand): register with basic-auth
// credentials, wait until Ready, list, refresh, unregister.
func registrationFlow(r porch.Repositories, name, url string) []step {
	repos, secrets := "repositories", "secrets"
	return []step{
		{"register", []need{{secrets, "create"}, {repos, "create"}}, func(ctx context.Context) error {
			_, err := r.Register(ctx, name, url, porch.BasicAuth{Username: "porch", Password: "git-password"})
			return err
		}},
		{"wait ready", []need{{repos, "get"}}, func(ctx context.Context) error {
			_, err := r.WaitReady(ctx, name)
			return err
		}},
		{"list", []need{{repos, "list"}}, func(ctx context.Context) error {
			list, err := r.List(ctx)
			if err == nil && len(list) == 0 {
				err = fmt.Errorf("the list lacks %s", name)
			}
			return err
		}},
		{"refresh", []need{{repos, "patch"}, {repos, "get"}}, func(ctx context.Context) error { return r.Refresh(ctx, name) }},
		{"unregister", []need{{repos, "get"}, {repos, "delete"}, {secrets, "delete"}}, func(ctx context.Context) error {
			return r.Unregister(ctx, name)
		}},
	}
}

// registrationState is what the administrator sees of repository name:
// the Repository (with its refresh annotation) and its Secret.
func (s *stack) registrationState(ctx context.Context, t *testing.T, ns, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if repo, err := s.porch.Repositories(ns).Get(ctx, name); err == nil {
		out["repository"] = repo.Annotations[porch.RefreshAnnotation]
	}
	if sec, err := s.admin.CoreV1().Secrets(ns).Get(ctx, name+"-auth", metav1.GetOptions{}); err == nil {
		out["secret"] = sec.ResourceVersion
	}
	return out
}

func (s *stack) testRegistration(ctx context.Context, t *testing.T) {
	perms, err := rbac.For(rbac.RepositoryRegistration)
	if err != nil {
		t.Fatal(err)
	}
	gitRepo := func(t *testing.T, name string) string {
		url, err := s.env.Git.CreateRepository(ctx, name, "main", false)
		if err != nil {
			t.Fatal(err)
		}
		return url
	}
	t.Run("all rules", func(t *testing.T) {
		cfg := s.grant(ctx, t, nsA, "registrar", perms.Namespaced)
		wantMissing(ctx, t, cfg, perms, nsA, "", "")
		c := client(t, cfg)
		for _, st := range registrationFlow(c.Repositories(nsA), "registered", gitRepo(t, "registered")) {
			if err := st.run(ctx); err != nil {
				t.Fatalf("step %s: %v", st.name, err)
			}
		}
		if left := s.registrationState(ctx, t, nsA, "registered"); len(left) != 0 {
			t.Errorf("unregister left %v", left)
		}
	})
	for i, r := range perms.Namespaced {
		for _, verb := range r.Verbs {
			res := r.Resources[0]
			name := "no-" + res + "-" + verb
			t.Run("without "+res+" "+verb, func(t *testing.T) {
				cfg := s.grant(ctx, t, nsA, name, rbac.Without(perms.Namespaced, i, verb))
				wantMissing(ctx, t, cfg, perms, nsA, res, verb)
				c := client(t, cfg)
				steps := registrationFlow(c.Repositories(nsA), name, gitRepo(t, name))
				fail := firstNeeding(steps, need{res, verb})
				if fail < 0 {
					t.Fatalf("no step of the flow needs %s %s: the rule is not minimal", verb, res)
				}
				t.Cleanup(func() {
					cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
					defer cancel()
					_ = s.porch.Repositories(nsA).Unregister(cctx, name)
				})
				for j, st := range steps[:fail] {
					if err := st.run(ctx); err != nil {
						t.Fatalf("step %d %s, before the one that needs %s %s: %v", j, st.name, verb, res, err)
					}
				}
				before := s.registrationState(ctx, t, nsA, name)
				err := steps[fail].run(ctx)
				wantForbidden(t, err, isPorchForbidden, user(nsA, name), res, verb)
				if after := s.registrationState(ctx, t, nsA, name); !reflect.DeepEqual(before, after) {
					t.Errorf("the refused step %s changed the namespace:\nbefore %v\nafter  %v", steps[fail].name, before, after)
				}
			})
		}
	}
}
