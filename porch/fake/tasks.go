package fake

import (
	"context"
	"fmt"
	"path"
	"strings"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// runTask produces a new draft's files from its one task, as Porch's task
// handlers do (init, clone, edit, upgrade).
func (s *store) runTask(ctx context.Context, ns string, repo *configapi.Repository, spec *porchapi.PackageRevisionSpec, task porchapi.Task) (map[string]string, *porchapi.UpstreamLock, error) {
	switch task.Type {
	case porchapi.TaskTypeInit:
		if task.Init == nil {
			task.Init = &porchapi.PackageInitTaskSpec{}
		}
		return initPackage(spec.PackageName, task.Init), &porchapi.UpstreamLock{}, nil
	case porchapi.TaskTypeClone:
		return s.clone(ctx, ns, repo, spec, task.Clone)
	case porchapi.TaskTypeEdit:
		if task.Edit == nil || task.Edit.Source == nil {
			return nil, nil, internalError("edit task requires a source")
		}
		src, ok := s.revs[key(ns, task.Edit.Source.Name)]
		if !ok {
			return nil, nil, internalError("cannot find package revision %q", task.Edit.Source.Name)
		}
		if src.pr.Spec.RepositoryName != spec.RepositoryName || src.pr.Spec.PackageName != spec.PackageName {
			return nil, nil, internalError("source revision must be from same package %s/%s", spec.RepositoryName, spec.PackageName)
		}
		if !isPublished(src.pr.Spec.Lifecycle) {
			return nil, nil, internalError("source revision must be published")
		}
		return copyResources(src.resources), src.pr.Status.UpstreamLock.DeepCopy(), nil
	case porchapi.TaskTypeUpgrade:
		return s.upgrade(ns, spec, task.Upgrade)
	}
	return nil, nil, internalError("task of type %q not supported", task.Type)
}

// initPackage writes the three files Porch's init task writes.
func initPackage(pkg string, spec *porchapi.PackageInitTaskSpec) map[string]string {
	kptfile := yaml.MustParse(fmt.Sprintf("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: %s\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n", pkg))
	info := map[string]any{}
	if spec.Site != "" {
		info["site"] = spec.Site
	}
	if spec.Description != "" {
		info["description"] = spec.Description
	}
	if len(spec.Keywords) > 0 {
		info["keywords"] = spec.Keywords
	}
	if len(info) > 0 {
		if err := kptfile.PipeE(yaml.SetField("info", yaml.NewMapRNode(nil))); err == nil {
			infoNode, _ := yaml.FromMap(info)
			_ = kptfile.PipeE(yaml.SetField("info", infoNode))
		}
	}
	leaf := path.Base(pkg)
	return map[string]string{
		"Kptfile": kptfile.MustString(),
		"README.md": fmt.Sprintf("# %s\n\n## Description\n%s\n\n## Usage\n\n### Fetch the package\n`kpt pkg get REPO_URI[.git]/PKG_PATH[@VERSION] %s`\n",
			leaf, spec.Description, leaf),
		"package-context.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\ndata:\n  name: example\n",
	}
}

func (s *store) clone(ctx context.Context, ns string, repo *configapi.Repository, spec *porchapi.PackageRevisionSpec, clone *porchapi.PackageCloneTaskSpec) (map[string]string, *porchapi.UpstreamLock, error) {
	if clone == nil {
		return nil, nil, internalError("clone task requires an upstream")
	}
	up := clone.Upstream
	switch {
	case up.Oci != nil || up.Type == porchapi.RepositoryTypeOCI:
		return nil, nil, internalError("clone from OCI is not implemented")
	case up.Git != nil:
		var fetch GitFetcher = GitFetcherFunc(s.fetchOwn)
		if s.opts.gitFetcher != nil {
			fetch = s.opts.gitFetcher
		}
		files, commit, err := fetch.Fetch(ctx, up.Git.Repo, up.Git.Ref, strings.TrimPrefix(up.Git.Directory, "/"))
		if err != nil {
			return nil, nil, internalError("cannot clone from git: %v", err)
		}
		lock := &porchapi.UpstreamLock{Type: porchapi.OriginType(porchapi.RepositoryTypeGit), Git: &porchapi.GitLock{
			Repo: up.Git.Repo, Directory: up.Git.Directory, Ref: up.Git.Ref, Commit: commit,
		}}
		return s.adopt(ns, repo, spec, files, lock)
	case up.UpstreamRef != nil:
		src, ok := s.revs[key(ns, up.UpstreamRef.Name)]
		if !ok {
			return nil, nil, internalError("cannot find package revision %q", up.UpstreamRef.Name)
		}
		return s.adopt(ns, repo, spec, copyResources(src.resources), s.lockOf(ns, src))
	}
	return nil, nil, internalError("clone task requires an upstream")
}

// lockOf is the upstream lock a clone of r records: its repository URL and
// the git ref the revision lives on.
func (s *store) lockOf(ns string, r *revision) *porchapi.UpstreamLock {
	url, branch := "", "main"
	if repo, ok := s.repos[key(ns, r.pr.Spec.RepositoryName)]; ok && repo.Spec.Git != nil {
		url, branch = repo.Spec.Git.Repo, repo.Spec.Git.Branch
	}
	if url != "" && !strings.HasSuffix(url, ".git") {
		url += ".git"
	}
	ref := branch
	switch {
	case r.pr.Spec.Revision > 0:
		ref = fmt.Sprintf("%s/v%d", r.pr.Spec.PackageName, r.pr.Spec.Revision)
	case r.pr.Spec.Lifecycle == draft:
		ref = "drafts/" + r.pr.Spec.PackageName + "/" + r.pr.Spec.WorkspaceName
	case r.pr.Spec.Lifecycle == proposed:
		ref = "proposed/" + r.pr.Spec.PackageName + "/" + r.pr.Spec.WorkspaceName
	}
	return &porchapi.UpstreamLock{Type: porchapi.OriginType(porchapi.RepositoryTypeGit), Git: &porchapi.GitLock{
		Repo: url, Directory: r.pr.Spec.PackageName, Ref: ref, Commit: r.pr.ResourceVersion,
	}}
}

// adopt renames the cloned Kptfile, records the upstream in it and, in a
// deployment repository, regenerates package-context.yaml.
func (s *store) adopt(ns string, repo *configapi.Repository, spec *porchapi.PackageRevisionSpec, files map[string]string, lock *porchapi.UpstreamLock) (map[string]string, *porchapi.UpstreamLock, error) {
	kf, ok := files["Kptfile"]
	if !ok {
		return nil, nil, internalError("package must contain Kptfile at root: file does not exist")
	}
	node, err := yaml.Parse(kf)
	if err != nil {
		return nil, nil, internalError("cannot parse Kptfile: %v", err)
	}
	if err := node.SetName(spec.PackageName); err != nil {
		return nil, nil, internalError("%v", err)
	}
	upstream, _ := yaml.FromMap(map[string]any{"type": "git", "git": map[string]any{
		"repo": lock.Git.Repo, "directory": lock.Git.Directory, "ref": lock.Git.Ref}, "updateStrategy": "resource-merge"})
	upLock, _ := yaml.FromMap(map[string]any{"type": "git", "git": map[string]any{
		"repo": lock.Git.Repo, "directory": lock.Git.Directory, "ref": lock.Git.Ref, "commit": lock.Git.Commit}})
	if err := node.PipeE(yaml.SetField("upstream", upstream)); err != nil {
		return nil, nil, internalError("%v", err)
	}
	if err := node.PipeE(yaml.SetField("upstreamLock", upLock)); err != nil {
		return nil, nil, internalError("%v", err)
	}
	files["Kptfile"] = node.MustString()
	if repo.Spec.Deployment {
		pkgPath := spec.PackageName
		if spec.Parent != nil && spec.Parent.Name != "" {
			pkgPath = spec.Parent.Name + "/" + spec.PackageName
		}
		files["package-context.yaml"] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\ndata:\n  name: %s\n  package-path: %s\n",
			path.Base(spec.PackageName), pkgPath)
	}
	return files, lock, nil
}

// upgrade merges file by file: a file the local revision changed relative to
// the old upstream keeps the local version; otherwise it takes the new
// upstream's. (Porch merges resource by resource; see the README.)
func (s *store) upgrade(ns string, spec *porchapi.PackageRevisionSpec, up *porchapi.PackageUpgradeTaskSpec) (map[string]string, *porchapi.UpstreamLock, error) {
	if up == nil {
		return nil, nil, internalError("upgrade task requires references")
	}
	get := func(name string) (*revision, error) {
		r, ok := s.revs[key(ns, name)]
		if !ok {
			return nil, internalError("cannot find package revision %q", name)
		}
		return r, nil
	}
	oldUp, err := get(up.OldUpstream.Name)
	if err != nil {
		return nil, nil, err
	}
	newUp, err := get(up.NewUpstream.Name)
	if err != nil {
		return nil, nil, err
	}
	local, err := get(up.LocalPackageRevisionRef.Name)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range []*revision{oldUp, newUp, local} {
		if r.pr.Spec.RepositoryName == spec.RepositoryName && r.pr.Spec.PackageName == spec.PackageName && !isPublished(r.pr.Spec.Lifecycle) {
			return nil, nil, internalError("all source PackageRevisions of upgrade task must be published, %q is not", r.pr.Name)
		}
	}
	out := map[string]string{}
	for f, v := range newUp.resources {
		out[f] = v
	}
	for f, v := range local.resources {
		if f == "Kptfile" {
			continue
		}
		if oldV, ok := oldUp.resources[f]; !ok || oldV != v {
			if up.Strategy == porchapi.FastForward {
				return nil, nil, internalError("fast-forward upgrade failed: local package %q has changes in %s", local.pr.Name, f)
			}
			if up.Strategy != porchapi.ForceDeleteReplace {
				out[f] = v
			}
		}
	}
	if up.Strategy != porchapi.ForceDeleteReplace {
		for f := range oldUp.resources {
			if _, inLocal := local.resources[f]; !inLocal {
				delete(out, f)
			}
		}
	}
	out["Kptfile"] = local.resources["Kptfile"]
	repo := s.repos[key(ns, spec.RepositoryName)]
	return s.adopt(ns, repo, spec, out, s.lockOf(ns, newUp))
}

// fetchOwn serves clones from git URLs of the fake's own repositories: ref
// "<dir>/v<N>" (or "v<N>") is published revision N of package dir, and the
// branch name is the package on the branch, as in Porch's git layout.
func (s *store) fetchOwn(_ context.Context, url, ref, dir string) (map[string]string, string, error) {
	trim := func(u string) string { return strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git") }
	for _, repo := range s.repos {
		if repo.Spec.Git == nil || trim(repo.Spec.Git.Repo) != trim(url) {
			continue
		}
		for _, r := range s.revs {
			if r.pr.Namespace != repo.Namespace || r.pr.Spec.RepositoryName != repo.Name || r.pr.Spec.PackageName != dir {
				continue
			}
			tag := fmt.Sprintf("v%d", r.pr.Spec.Revision)
			switch {
			case r.pr.Spec.Revision > 0 && (ref == dir+"/"+tag || ref == tag),
				r.pr.Spec.Revision == -1 && ref == repo.Spec.Git.Branch:
				return copyResources(r.resources), r.pr.ResourceVersion, nil
			}
		}
		return nil, "", fmt.Errorf("cannot find ref %q with package %q in %s", ref, dir, url)
	}
	return nil, "", fmt.Errorf("repository %s not found (the fake serves only its registered repositories; see ClientBuilder.WithGitFetcher)", url)
}
