package rbac

import (
	"context"
	"errors"
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
)

// ErrMissingPermissions: the caller's credentials lack rules a component
// needs.
var ErrMissingPermissions = errors.New("rbac: missing permissions")

// Missing is one verb on one resource the caller may not use.
type Missing struct {
	Group, Resource, Subresource, Name, Verb string
	// Namespace is "" for a cluster rule.
	Namespace string
	// Reason is the authorizer's, when it gave one.
	Reason string
}

func (m Missing) String() string {
	res := m.Resource
	if m.Subresource != "" {
		res += "/" + m.Subresource
	}
	if m.Group != "" {
		res += "." + m.Group
	}
	if m.Name != "" {
		res += " " + m.Name
	}
	where := "cluster-wide"
	if m.Namespace != "" {
		where = "in namespace " + m.Namespace
	}
	return fmt.Sprintf("%s %s %s", m.Verb, res, where)
}

// MissingPermissionsError lists every verb the caller lacks; it wraps
// ErrMissingPermissions.
type MissingPermissionsError struct {
	Component Component
	Missing   []Missing
}

// Error implements error.
func (e *MissingPermissionsError) Error() string {
	s := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		s[i] = m.String()
	}
	return fmt.Sprintf("%v for %s: %s", ErrMissingPermissions, e.Component, strings.Join(s, "; "))
}

// Unwrap makes errors.Is(err, ErrMissingPermissions) true.
func (e *MissingPermissionsError) Unwrap() error { return ErrMissingPermissions }

// Check asks the API server (SelfSubjectAccessReview, which every
// authenticated user may create) whether the caller's credentials allow
// every verb of p's rules: the namespaced ones in namespace, the cluster
// ones cluster-wide. It returns a *MissingPermissionsError naming all
// that is missing, so that a component finds out before it starts rather
// than half-way through a flow.
func Check(ctx context.Context, reviews authorizationv1client.SelfSubjectAccessReviewsGetter, p Permissions, namespace string) error {
	if namespace == "" && len(p.Namespaced) > 0 {
		return fmt.Errorf("rbac: check %s: empty namespace for its namespaced rules", p.Component)
	}
	var missing []Missing
	check := func(ns string, rs []Rule) error {
		for _, r := range rs {
			names := r.ResourceNames
			if len(names) == 0 {
				names = []string{""}
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					resource, sub, _ := strings.Cut(res, "/")
					for _, n := range names {
						for _, v := range r.Verbs {
							m := Missing{Group: g, Resource: resource, Subresource: sub, Name: n, Verb: v, Namespace: ns}
							review, err := reviews.SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
								Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
									Namespace: ns, Verb: v, Group: g, Resource: resource, Subresource: sub, Name: n}},
							}, metav1.CreateOptions{})
							if err != nil {
								return fmt.Errorf("rbac: check %s: review of %s: %w", p.Component, m, err)
							}
							if !review.Status.Allowed {
								m.Reason = review.Status.Reason
								missing = append(missing, m)
							}
						}
					}
				}
			}
		}
		return nil
	}
	if err := check(namespace, p.Namespaced); err != nil {
		return err
	}
	if err := check("", p.Cluster); err != nil {
		return err
	}
	if len(missing) > 0 {
		return &MissingPermissionsError{Component: p.Component, Missing: missing}
	}
	return nil
}
