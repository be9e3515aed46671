package conformance

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/porch"
)

func authoringBehaviours() []behaviour {
	return []behaviour{
		{"init/creates-draft-with-readable-name", func(t *testing.T, s *suite) {
			pkg := s.pkgName(t, "")
			pr := s.init(t, pkg, "ws1")
			if want := porch.RevisionName(s.repo, pkg, "ws1"); pr.Name != want {
				t.Fatalf("name = %q, want %q", pr.Name, want)
			}
			wantLifecycle(t, pr, draft)
			if pr.Spec.Revision != 0 || len(pr.Spec.Tasks) != 1 || pr.Spec.Tasks[0].Type != porchapi.TaskTypeInit {
				t.Fatalf("revision %d tasks %+v, want 0 and one init task", pr.Spec.Revision, pr.Spec.Tasks)
			}
			if pr.ResourceVersion == "" {
				t.Fatal("no resourceVersion")
			}
		}},
		{"init/keeps-the-create-id", func(t *testing.T, s *suite) {
			// Porch keeps a create's annotations, so the client's
			// CreateIDAnnotation tells a failed create's leftover from
			// another caller's revision of the same name.
			pr := s.init(t, s.pkgName(t, ""), "ws1")
			if id := s.get(t, pr.Name).Annotations[porch.CreateIDAnnotation]; id == "" {
				t.Fatalf("annotations %v: the create's %s is not kept", s.get(t, pr.Name).Annotations, porch.CreateIDAnnotation)
			}
		}},
		{"init/writes-kptfile-readme-and-context", func(t *testing.T, s *suite) {
			pkg := s.pkgName(t, "")
			pr := s.init(t, pkg, "ws1", porch.Description("the description"), porch.Keywords{"a", "b"})
			files := s.pull(t, pr.Name).Resources
			if len(files) != 3 {
				t.Fatalf("files = %v, want Kptfile, README.md, package-context.yaml", keys(files))
			}
			kf := yaml.MustParse(files["Kptfile"])
			if kf.GetName() != pkg || kf.GetKind() != "Kptfile" {
				t.Fatalf("Kptfile names %q (%s)", kf.GetName(), kf.GetKind())
			}
			if d, _ := kf.GetString("info.description"); d != "the description" {
				t.Fatalf("info.description = %q", d)
			}
			ctx := yaml.MustParse(files["package-context.yaml"])
			if v, _ := ctx.GetString("data.name"); ctx.GetName() != "kptfile.kpt.dev" || v != "example" {
				t.Fatalf("package-context: %s", files["package-context.yaml"])
			}
			if _, ok := files["README.md"]; !ok {
				t.Fatal("no README.md")
			}
		}},
		{"init/nested-package-path", func(t *testing.T, s *suite) {
			pkg := "nested/" + s.pkgName(t, "")
			pr := s.init(t, pkg, "ws1")
			if want := s.repo + ".nested." + s.pkgName(t, "") + ".ws1"; pr.Name != want || pr.Spec.PackageName != pkg {
				t.Fatalf("name %q package %q, want %q and %q", pr.Name, pr.Spec.PackageName, want, pkg)
			}
			if kf := yaml.MustParse(s.pull(t, pr.Name).Resources["Kptfile"]); kf.GetName() != pkg {
				t.Fatalf("Kptfile name %q, want the full path %q", kf.GetName(), pkg)
			}
		}},
		{"init/deterministic-uid", func(t *testing.T, s *suite) {
			pr := s.init(t, s.pkgName(t, ""), "ws1")
			want := uuid.NewSHA1(revisionUIDNamespace, []byte("packagerevision:porch.kpt.dev/v1alpha1/"+s.target.Namespace+"/"+pr.Name)).String()
			if string(pr.UID) != want {
				t.Fatalf("uid = %s, want %s", pr.UID, want)
			}
			if err := s.prs.Delete(s.ctx, pr.Name); err != nil {
				t.Fatal(err)
			}
			again := s.init(t, s.pkgName(t, ""), "ws1")
			if again.UID != pr.UID {
				t.Fatalf("re-created revision has uid %s, was %s", again.UID, pr.UID)
			}
		}},
		{"init/duplicate-workspace-already-exists", func(t *testing.T, s *suite) {
			pkg := s.pkgName(t, "")
			s.init(t, pkg, "ws1")
			_, err := s.prs.Init(s.ctx, s.repo, pkg, "ws1")
			wantErr(t, err, porch.ErrAlreadyExists, "second init with the same workspace")
			if list, _ := s.prs.List(s.ctx, porch.InRepository(s.repo), porch.ForPackage(pkg)); len(list) != 1 {
				t.Fatalf("%d revisions after the refused init, want 1", len(list))
			}
		}},
		{"init/same-workspace-other-package-allowed", func(t *testing.T, s *suite) {
			s.init(t, s.pkgName(t, "-a"), "shared")
			s.init(t, s.pkgName(t, "-b"), "shared")
		}},
		{"init/invalid-names-refused", func(t *testing.T, s *suite) {
			_, err := s.prs.Init(s.ctx, s.repo, s.pkgName(t, ""), "Bad_Workspace")
			wantErr(t, err, porch.ErrInvalid, "init with an invalid workspace")
			_, err = s.prs.Init(s.ctx, s.repo, "a//b", "ws1")
			wantErr(t, err, porch.ErrInvalid, "init with an empty path segment")
			_, err = s.prs.Init(s.ctx, s.repo, strings.Repeat("x", 250), "ws1")
			wantErr(t, err, porch.ErrInvalid, "init with a name over 253 characters")
		}},
		{"clone/from-published-revision-records-upstream", func(t *testing.T, s *suite) {
			up := s.init(t, s.pkgName(t, "-up"), "v1")
			s.publish(t, up.Name)
			down, err := s.prs.Clone(s.ctx, porch.FromRevision(up.Name), s.repo, s.pkgName(t, "-down"), "v1")
			if err != nil {
				t.Fatal(err)
			}
			if len(down.Spec.Tasks) != 1 || down.Spec.Tasks[0].Type != porchapi.TaskTypeClone {
				t.Fatalf("tasks = %+v, want one clone task", down.Spec.Tasks)
			}
			kf := yaml.MustParse(s.pull(t, down.Name).Resources["Kptfile"])
			if kf.GetName() != s.pkgName(t, "-down") {
				t.Fatalf("cloned Kptfile named %q", kf.GetName())
			}
			ref, _ := kf.GetString("upstream.git.ref")
			if want := s.pkgName(t, "-up") + "/v1"; ref != want {
				t.Fatalf("upstream ref = %q, want %q", ref, want)
			}
			if dir, _ := kf.GetString("upstreamLock.git.directory"); dir != s.pkgName(t, "-up") {
				t.Fatalf("upstreamLock directory = %q", dir)
			}
		}},
		{"clone/into-deployment-repository-sets-context", func(t *testing.T, s *suite) {
			deploy := s.newRepository(t, "clone-deploy", porch.AsDeployment)
			up := s.init(t, s.pkgName(t, "-up"), "v1")
			s.publish(t, up.Name)
			down, err := s.prs.Clone(s.ctx, porch.FromRevision(up.Name), deploy, "site-a", "v1")
			if err != nil {
				t.Fatal(err)
			}
			ctx := yaml.MustParse(s.pull(t, down.Name).Resources["package-context.yaml"])
			name, _ := ctx.GetString("data.name")
			path, _ := ctx.GetString("data.package-path")
			if name != "site-a" || path != "site-a" {
				t.Fatalf("package context name %q path %q, want site-a", name, path)
			}
		}},
		{"clone/from-git-url", func(t *testing.T, s *suite) {
			up := s.init(t, s.pkgName(t, "-up"), "v1")
			s.publish(t, up.Name)
			repo, err := s.repos.Get(s.ctx, s.repo)
			if err != nil {
				t.Fatal(err)
			}
			var opts []porch.GitOption
			if s.target.GitAuth.Username != "" {
				opts = append(opts, porch.SecretRef(repo.Spec.Git.SecretRef.Name))
			}
			from := porch.FromGit(repo.Spec.Git.Repo, s.pkgName(t, "-up")+"/v1", s.pkgName(t, "-up"), opts...)
			down, err := s.prs.Clone(s.ctx, from, s.repo, s.pkgName(t, "-down"), "v1")
			if err != nil {
				t.Fatal(err)
			}
			kf := yaml.MustParse(s.pull(t, down.Name).Resources["Kptfile"])
			if ref, _ := kf.GetString("upstream.git.ref"); ref != s.pkgName(t, "-up")+"/v1" || kf.GetName() != s.pkgName(t, "-down") {
				t.Fatalf("Kptfile %s upstream ref %q", kf.GetName(), ref)
			}
			if lock := down.Status.UpstreamLock; lock == nil || lock.Git == nil || lock.Git.Commit == "" {
				t.Fatalf("upstreamLock = %+v", lock)
			}
		}},
		{"clone/from-oci-unsupported", func(t *testing.T, s *suite) {
			_, err := s.prs.Clone(s.ctx, porch.FromOCI("example.com/pkg:v1"), s.repo, s.pkgName(t, ""), "v1")
			wantErr(t, err, porch.ErrUnsupported, "clone from OCI")
		}},
		{"clone/unknown-upstream-not-found", func(t *testing.T, s *suite) {
			_, err := s.prs.Clone(s.ctx, porch.FromRevision(s.repo+".nothing.v1"), s.repo, s.pkgName(t, ""), "v1")
			wantErr(t, err, porch.ErrNotFound, "clone from a missing revision")
			if list, _ := s.prs.List(s.ctx, porch.ForPackage(s.pkgName(t, ""))); len(list) != 0 {
				t.Fatalf("a failed clone left %d revisions", len(list))
			}
		}},
		{"copy/new-draft-from-published", func(t *testing.T, s *suite) {
			pkg := s.pkgName(t, "")
			v1 := s.init(t, pkg, "v1")
			if _, err := s.prs.UpdateResources(s.ctx, v1.Name, func(p *porch.Package) error {
				p.Resources["cm.yaml"] = configMap("cm", "one")
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			s.publish(t, v1.Name)
			v2, err := s.prs.Copy(s.ctx, v1.Name, "v2")
			if err != nil {
				t.Fatal(err)
			}
			wantLifecycle(t, v2, draft)
			if v2.Spec.Tasks[0].Type != porchapi.TaskTypeEdit || v2.Spec.PackageName != pkg || v2.Spec.RepositoryName != s.repo {
				t.Fatalf("copy = %+v", v2.Spec)
			}
			if got := s.pull(t, v2.Name).Resources["cm.yaml"]; !strings.Contains(got, "one") {
				t.Fatalf("copy lacks the source's files: %q", got)
			}
		}},
		{"copy/from-draft-refused", func(t *testing.T, s *suite) {
			d := s.init(t, s.pkgName(t, ""), "v1")
			_, err := s.prs.Copy(s.ctx, d.Name, "v2")
			wantErr(t, err, porch.ErrInvalidTransition, "copy of a draft")
		}},
		{"upgrade/merges-new-upstream", func(t *testing.T, s *suite) {
			up := s.pkgName(t, "-up")
			u1 := s.init(t, up, "v1")
			s.publish(t, u1.Name)
			down, err := s.prs.Clone(s.ctx, porch.FromRevision(u1.Name), s.repo, s.pkgName(t, "-down"), "v1")
			if err != nil {
				t.Fatal(err)
			}
			s.publish(t, down.Name)
			u2, err := s.prs.Copy(s.ctx, u1.Name, "v2")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.prs.UpdateResources(s.ctx, u2.Name, func(p *porch.Package) error {
				p.Resources["new.yaml"] = configMap("added-upstream", "x")
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			s.publish(t, u2.Name)
			upgraded, err := s.prs.Upgrade(s.ctx, down.Name, "v2")
			if err != nil {
				t.Fatal(err)
			}
			if upgraded.Spec.Tasks[0].Type != porchapi.TaskTypeUpgrade || upgraded.Spec.Tasks[0].Upgrade.NewUpstream.Name != u2.Name {
				t.Fatalf("upgrade task = %+v", upgraded.Spec.Tasks)
			}
			files := s.pull(t, upgraded.Name).Resources
			if !strings.Contains(files["new.yaml"], "added-upstream") {
				t.Fatalf("upgrade lacks the upstream's new file; files %v", keys(files))
			}
			ref, _ := yaml.MustParse(files["Kptfile"]).GetString("upstream.git.ref")
			if ref != up+"/v2" {
				t.Fatalf("upstream ref after upgrade = %q, want %s/v2", ref, up)
			}
		}},
		{"upgrade/fast-forward-refuses-local-changes", func(t *testing.T, s *suite) {
			u1 := s.init(t, s.pkgName(t, "-up"), "v1")
			s.publish(t, u1.Name)
			down, err := s.prs.Clone(s.ctx, porch.FromRevision(u1.Name), s.repo, s.pkgName(t, "-down"), "v1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.prs.UpdateResources(s.ctx, down.Name, func(p *porch.Package) error {
				p.Resources["local.yaml"] = configMap("local-change", "x")
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			s.publish(t, down.Name)
			u2, err := s.prs.Copy(s.ctx, u1.Name, "v2")
			if err != nil {
				t.Fatal(err)
			}
			s.publish(t, u2.Name)
			_, err = s.prs.Upgrade(s.ctx, down.Name, "v2", porch.MergeStrategy(porchapi.FastForward))
			if err == nil {
				t.Fatal("fast-forward over local changes succeeded")
			}
			if list, _ := s.prs.List(s.ctx, porch.ForPackage(s.pkgName(t, "-down")), porch.InWorkspace("v2")); len(list) != 0 {
				t.Fatal("the failed upgrade left a draft")
			}
		}},
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
