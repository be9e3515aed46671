package porchtest

import (
	"github.com/google/uuid"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
)

// Short names for the lifecycles the conformance suite checks.
const (
	draft            = porchapi.PackageRevisionLifecycleDraft
	proposed         = porchapi.PackageRevisionLifecycleProposed
	published        = porchapi.PackageRevisionLifecyclePublished
	deletionProposed = porchapi.PackageRevisionLifecycleDeletionProposed
)

// uidNamespace is the UUIDv5 namespace Porch derives revision UIDs in.
var uidNamespace = uuid.MustParse("aac71d91-5c67-456f-8fd2-902ef6da820e")
