package porch

import (
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
)

// The options of the verbs, in controller-runtime's shape: each verb takes
// values of an interface with one ApplyToX method, and one option type
// serves every verb it makes sense for (Description serves Init and
// Register; SecretRef serves Register and FromGit; MergeStrategy serves
// Clone and Upgrade; Revision serves List and Upgrade). An *XOptions struct
// is itself an option that applies its non-zero fields, so options
// combine; a later option wins.

// InitOption configures PackageRevisions.Init.
type InitOption interface{ ApplyToInit(*InitOptions) }

// InitOptions is what Init writes into the new package's Kptfile.
type InitOptions struct {
	// Description is the Kptfile's info.description.
	Description string
	// Keywords are the Kptfile's info.keywords.
	Keywords []string
	// Site is the Kptfile's info.site.
	Site string
}

// ApplyToInit applies o's non-zero fields.
func (o *InitOptions) ApplyToInit(t *InitOptions) {
	if o.Description != "" {
		t.Description = o.Description
	}
	if o.Keywords != nil {
		t.Keywords = o.Keywords
	}
	if o.Site != "" {
		t.Site = o.Site
	}
}

// RegisterOption configures Repositories.Register.
type RegisterOption interface{ ApplyToRegister(*RegisterOptions) }

// RegisterOptions is how Register sets up a repository.
type RegisterOptions struct {
	// Branch is the git branch (default main).
	Branch string
	// Directory restricts the repository to a directory of the git tree.
	Directory string
	// CreateBranch lets Porch create the branch if it does not exist
	// (needed for an empty git repository).
	CreateBranch bool
	// Deployment marks the repository as holding deployable packages.
	Deployment bool
	// Description is the repository's description.
	Description string
	// Author is the git commit author Porch uses.
	Author Author
	// BasicAuth makes Register create a kubernetes.io/basic-auth Secret
	// "<name>-auth" and reference it from the repository.
	BasicAuth BasicAuth
	// SecretRef references an existing Secret instead.
	SecretRef string
}

// ApplyToRegister applies o's non-zero fields.
func (o *RegisterOptions) ApplyToRegister(t *RegisterOptions) {
	if o.Branch != "" {
		t.Branch = o.Branch
	}
	if o.Directory != "" {
		t.Directory = o.Directory
	}
	if o.CreateBranch {
		t.CreateBranch = true
	}
	if o.Deployment {
		t.Deployment = true
	}
	if o.Description != "" {
		t.Description = o.Description
	}
	if o.Author != (Author{}) {
		t.Author = o.Author
	}
	if o.BasicAuth != (BasicAuth{}) {
		t.BasicAuth = o.BasicAuth
	}
	if o.SecretRef != "" {
		t.SecretRef = o.SecretRef
	}
}

// UnregisterOption configures Repositories.Unregister.
type UnregisterOption interface{ ApplyToUnregister(*UnregisterOptions) }

// UnregisterOptions is what Unregister removes.
type UnregisterOptions struct {
	// KeepAuthSecret leaves the repository's Secret in place.
	KeepAuthSecret bool
}

// ApplyToUnregister applies o's non-zero fields.
func (o *UnregisterOptions) ApplyToUnregister(t *UnregisterOptions) {
	if o.KeepAuthSecret {
		t.KeepAuthSecret = true
	}
}

// GitOption configures FromGit.
type GitOption interface{ ApplyToGit(*GitOptions) }

// GitOptions is how Porch reads a git upstream.
type GitOptions struct {
	// SecretRef names a Secret holding the git credentials.
	SecretRef string
}

// ApplyToGit applies o's non-zero fields.
func (o *GitOptions) ApplyToGit(t *GitOptions) {
	if o.SecretRef != "" {
		t.SecretRef = o.SecretRef
	}
}

// CloneOption configures PackageRevisions.Clone.
type CloneOption interface{ ApplyToClone(*CloneOptions) }

// CloneOptions is how Clone makes the new package.
type CloneOptions struct {
	// Strategy is the merge strategy later upgrades use; empty means
	// resource-merge, as porchctl sends.
	Strategy porchapi.PackageMergeStrategy
	// Parent sets spec.parent, used for package-path in a deployment clone.
	Parent string
}

// ApplyToClone applies o's non-zero fields.
func (o *CloneOptions) ApplyToClone(t *CloneOptions) {
	if o.Strategy != "" {
		t.Strategy = o.Strategy
	}
	if o.Parent != "" {
		t.Parent = o.Parent
	}
}

// UpgradeOption configures PackageRevisions.Upgrade.
type UpgradeOption interface{ ApplyToUpgrade(*UpgradeOptions) }

// UpgradeOptions is what Upgrade merges and how.
type UpgradeOptions struct {
	// Revision is the upstream revision to upgrade to; zero means the
	// latest.
	Revision int
	// Strategy is the merge: resource-merge (default), fast-forward,
	// force-delete-replace or copy-merge.
	Strategy porchapi.PackageMergeStrategy
}

// ApplyToUpgrade applies o's non-zero fields.
func (o *UpgradeOptions) ApplyToUpgrade(t *UpgradeOptions) {
	if o.Revision != 0 {
		t.Revision = o.Revision
	}
	if o.Strategy != "" {
		t.Strategy = o.Strategy
	}
}

// DeleteOption configures PackageRevisions.Delete.
type DeleteOption interface{ ApplyToDelete(*DeleteOptions) }

// DeleteOptions is how Delete removes a revision.
type DeleteOptions struct {
	// ProposeFirst lets Delete remove a Published revision by proposing it
	// for deletion first, as Porch requires.
	ProposeFirst bool
}

// ApplyToDelete applies o's non-zero fields.
func (o *DeleteOptions) ApplyToDelete(t *DeleteOptions) {
	if o.ProposeFirst {
		t.ProposeFirst = true
	}
}

// Description is a package's Kptfile info.description (Init) or a
// repository's description (Register).
type Description string

// ApplyToInit implements InitOption.
func (d Description) ApplyToInit(o *InitOptions) { o.Description = string(d) }

// ApplyToRegister implements RegisterOption.
func (d Description) ApplyToRegister(o *RegisterOptions) { o.Description = string(d) }

// Keywords are a package's Kptfile info.keywords.
type Keywords []string

// ApplyToInit implements InitOption.
func (k Keywords) ApplyToInit(o *InitOptions) { o.Keywords = k }

// Site is a package's Kptfile info.site.
type Site string

// ApplyToInit implements InitOption.
func (s Site) ApplyToInit(o *InitOptions) { o.Site = string(s) }

// Branch is a repository's git branch.
type Branch string

// ApplyToRegister implements RegisterOption.
func (b Branch) ApplyToRegister(o *RegisterOptions) { o.Branch = string(b) }

// Directory restricts a repository to a directory of its git tree.
type Directory string

// ApplyToRegister implements RegisterOption.
func (d Directory) ApplyToRegister(o *RegisterOptions) { o.Directory = string(d) }

// Author is the git commit author (and email) Porch uses for a repository.
type Author struct {
	// Name is the commit author's name.
	Name string
	// Email is the commit author's email address.
	Email string
}

// ApplyToRegister implements RegisterOption.
func (a Author) ApplyToRegister(o *RegisterOptions) { o.Author = a }

// BasicAuth makes Register create a kubernetes.io/basic-auth Secret
// "<name>-auth" with these credentials and reference it.
type BasicAuth struct {
	// Username is the git user name.
	Username string
	// Password is the user's password or access token.
	Password string
}

// ApplyToRegister implements RegisterOption.
func (b BasicAuth) ApplyToRegister(o *RegisterOptions) { o.BasicAuth = b }

// SecretRef names an existing Secret with credentials: a repository's
// (Register) or a git upstream's (FromGit).
type SecretRef string

// ApplyToRegister implements RegisterOption.
func (s SecretRef) ApplyToRegister(o *RegisterOptions) { o.SecretRef = string(s) }

// ApplyToGit implements GitOption.
func (s SecretRef) ApplyToGit(o *GitOptions) { o.SecretRef = string(s) }

// MergeStrategy is the merge strategy of a clone (recorded for later
// upgrades) or of an upgrade.
type MergeStrategy porchapi.PackageMergeStrategy

// ApplyToClone implements CloneOption.
func (m MergeStrategy) ApplyToClone(o *CloneOptions) { o.Strategy = porchapi.PackageMergeStrategy(m) }

// ApplyToUpgrade implements UpgradeOption.
func (m MergeStrategy) ApplyToUpgrade(o *UpgradeOptions) {
	o.Strategy = porchapi.PackageMergeStrategy(m)
}

// Parent sets a clone's spec.parent, used for package-path in a deployment
// clone.
type Parent string

// ApplyToClone implements CloneOption.
func (p Parent) ApplyToClone(o *CloneOptions) { o.Parent = string(p) }

// Revision is a revision number: the one List selects (-1 is the branch
// placeholder revision), or the upstream revision Upgrade moves to.
type Revision int

// ApplyToList implements ListOption.
func (r Revision) ApplyToList(o *ListOptions) { n := int(r); o.Revision = &n }

// ApplyToUpgrade implements UpgradeOption.
func (r Revision) ApplyToUpgrade(o *UpgradeOptions) { o.Revision = int(r) }

// CreateBranch lets Porch create a repository's branch if it does not exist
// (needed for an empty git repository).
var CreateBranch = createBranch{}

type createBranch struct{}

// ApplyToRegister implements RegisterOption.
func (createBranch) ApplyToRegister(o *RegisterOptions) { o.CreateBranch = true }

// AsDeployment marks a repository as holding deployable packages.
var AsDeployment = asDeployment{}

type asDeployment struct{}

// ApplyToRegister implements RegisterOption.
func (asDeployment) ApplyToRegister(o *RegisterOptions) { o.Deployment = true }

// KeepAuthSecret makes Unregister leave the repository's Secret in place.
var KeepAuthSecret = keepAuthSecret{}

type keepAuthSecret struct{}

// ApplyToUnregister implements UnregisterOption.
func (keepAuthSecret) ApplyToUnregister(o *UnregisterOptions) { o.KeepAuthSecret = true }

// ProposingDeletion lets Delete remove a Published revision by proposing it
// for deletion first, as Porch requires.
var ProposingDeletion = proposingDeletion{}

type proposingDeletion struct{}

// ApplyToDelete implements DeleteOption.
func (proposingDeletion) ApplyToDelete(o *DeleteOptions) { o.ProposeFirst = true }

// LatestOnly makes List and Watch keep only the latest published revision
// of each package, per repository and full package path. In a Watch, a
// package's old latest revision leaves (DELETED) when a newer one is
// published, and the new one enters (ADDED).
var LatestOnly = latestOnly{}

type latestOnly struct{}

// ApplyToList implements ListOption.
func (latestOnly) ApplyToList(o *ListOptions) { o.LatestOnly = true }
