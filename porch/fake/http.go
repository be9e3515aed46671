package fake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// maxBody is the request size limit Porch's generic apiserver applies.
const maxBody = 6 << 20

// route is a parsed request path.
type route struct {
	group, namespace, resource, name, subresource string
}

func parseRoute(p string) (route, bool) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	var r route
	switch {
	case len(parts) >= 4 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces":
		parts = parts[3:]
	case len(parts) >= 5 && parts[0] == "apis" && parts[3] == "namespaces":
		r.group = parts[1]
		parts = parts[4:]
	default:
		return r, false
	}
	if len(parts) < 2 {
		return r, false
	}
	r.namespace, r.resource = parts[0], parts[1]
	if len(parts) > 2 {
		r.name = parts[2]
	}
	if len(parts) > 3 {
		r.subresource = parts[3]
	}
	return r, len(parts) <= 4
}

func verbOf(req *http.Request, r route) string {
	switch req.Method {
	case http.MethodGet:
		if req.URL.Query().Get("watch") == "true" || req.URL.Query().Get("watch") == "1" {
			return VerbWatch
		}
		if r.name == "" {
			return VerbList
		}
		return VerbGet
	case http.MethodPost:
		return VerbCreate
	case http.MethodPut:
		return VerbUpdate
	case http.MethodPatch:
		return VerbPatch
	case http.MethodDelete:
		return VerbDelete
	}
	return strings.ToLower(req.Method)
}

// ServeHTTP serves the Porch API, discovery and health checks. API requests
// pass through the hooks before the fake serves them.
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if serveHealth(w, req) {
		return
	}
	if s.cfg.bearerToken != "" && req.Header.Get("Authorization") != "Bearer "+s.cfg.bearerToken {
		writeStatus(w, apierrors.NewUnauthorized("Unauthorized"))
		return
	}
	if serveDiscovery(w, req) {
		return
	}
	r, ok := parseRoute(req.URL.Path)
	if !ok {
		writeStatus(w, apierrors.NewNotFound(porchapi.Resource("path"), req.URL.Path))
		return
	}
	resource := r.resource
	if r.subresource != "" {
		resource += "/" + r.subresource
	}
	verb := verbOf(req, r)
	hooks := s.count(verb, resource)
	body, readErr := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	in := &Request{Verb: verb, Resource: resource, Namespace: r.namespace, Name: r.name, Body: body, HTTP: req}
	serve := func(ctx context.Context, in *Request) *Response {
		switch {
		case readErr != nil:
			return errorResponse(apierrors.NewBadRequest(readErr.Error()))
		case len(in.Body) > maxBody:
			return errorResponse(apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBody)))
		case verb == VerbWatch && r.group == porchapi.SchemeGroupVersion.Group && r.resource == "packagerevisions":
			return &Response{Code: http.StatusOK, stream: func(w http.ResponseWriter) { s.serveWatch(w, in.HTTP, r) }}
		}
		out, err := s.handle(ctx, in.HTTP, r, verb, in.Body)
		if err != nil {
			return errorResponse(err)
		}
		code := http.StatusOK
		if verb == VerbCreate {
			code = http.StatusCreated
		}
		return &Response{Code: code, Object: out}
	}
	writeResponse(w, chain(hooks, verb, serve)(req.Context(), in))
}

// writeResponse writes a hook's or the fake's answer.
func writeResponse(w http.ResponseWriter, resp *Response) {
	switch {
	case resp == nil:
		writeStatus(w, internalError("a fake hook answered nothing"))
	case resp.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // net/http closes the connection
	case resp.stream != nil:
		resp.stream(w)
	default:
		writeJSON(w, resp.Code, resp.Object)
	}
}

func reasonFor(code int) string {
	switch code {
	case http.StatusConflict:
		return string(metav1.StatusReasonConflict)
	case http.StatusTooManyRequests:
		return string(metav1.StatusReasonTooManyRequests)
	case http.StatusServiceUnavailable:
		return string(metav1.StatusReasonServiceUnavailable)
	case http.StatusInternalServerError:
		return string(metav1.StatusReasonInternalError)
	}
	return ""
}

// handle serves an API request. Writes to package revisions take the
// store's lock themselves (they may first wait out the write latency);
// everything else is served under it here.
func (s *Server) handle(ctx context.Context, req *http.Request, r route, verb string, body []byte) (any, error) {
	st := s.store
	isRevisions := r.group == porchapi.SchemeGroupVersion.Group && r.resource == "packagerevisions"
	isResources := r.group == porchapi.SchemeGroupVersion.Group && r.resource == "packagerevisionresources" && r.subresource == ""
	switch {
	case isRevisions && verb == VerbCreate:
		in := &porchapi.PackageRevision{}
		if err := decode(body, in); err != nil {
			return nil, err
		}
		return st.createRevision(ctx, r.namespace, in)
	case isRevisions && verb == VerbUpdate && r.subresource == "approval":
		in := &porchapi.PackageRevision{}
		if err := decode(body, in); err != nil {
			return nil, err
		}
		return st.approve(ctx, r.namespace, r.name, in)
	case isRevisions && verb == VerbUpdate && r.subresource == "":
		in := &porchapi.PackageRevision{}
		if err := decode(body, in); err != nil {
			return nil, err
		}
		return st.updateRevision(ctx, r.namespace, r.name, func(*porchapi.PackageRevision) (*porchapi.PackageRevision, error) { return in, nil })
	case isRevisions && verb == VerbPatch && r.subresource == "":
		return st.updateRevision(ctx, r.namespace, r.name, func(current *porchapi.PackageRevision) (*porchapi.PackageRevision, error) {
			in := &porchapi.PackageRevision{}
			if err := applyPatch(req, current, body, in); err != nil {
				return nil, err
			}
			in.ResourceVersion = current.ResourceVersion
			return in, nil
		})
	case isRevisions && verb == VerbDelete && r.subresource == "":
		return st.deleteRevision(ctx, r.namespace, r.name)
	case isResources && verb == VerbUpdate:
		in := &porchapi.PackageRevisionResources{}
		if err := decode(body, in); err != nil {
			return nil, err
		}
		return st.updateResources(ctx, r.namespace, r.name, in)
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	q := req.URL.Query()
	switch {
	case isRevisions && verb == VerbList:
		filter, err := parseSelectors(q.Get("fieldSelector"), q.Get("labelSelector"))
		if err != nil {
			return nil, err
		}
		list := &porchapi.PackageRevisionList{TypeMeta: metav1.TypeMeta{APIVersion: porchapi.SchemeGroupVersion.String(), Kind: "PackageRevisionList"}}
		for _, rev := range st.listRevisions(r.namespace, filter) {
			list.Items = append(list.Items, *st.view(rev))
		}
		if list.Items == nil {
			list.Items = []porchapi.PackageRevision{}
		}
		return list, nil
	case isRevisions && verb == VerbGet && r.subresource == "":
		rev, err := st.getRevision(r.namespace, r.name)
		if err != nil {
			return nil, err
		}
		return st.view(rev), nil
	case isResources && verb == VerbList:
		filter, err := parseSelectors(q.Get("fieldSelector"), q.Get("labelSelector"))
		if err != nil {
			return nil, err
		}
		list := &porchapi.PackageRevisionResourcesList{TypeMeta: metav1.TypeMeta{APIVersion: porchapi.SchemeGroupVersion.String(), Kind: "PackageRevisionResourcesList"}}
		for _, rev := range st.listRevisions(r.namespace, filter) {
			list.Items = append(list.Items, *st.resourcesView(rev))
		}
		if list.Items == nil {
			list.Items = []porchapi.PackageRevisionResources{}
		}
		return list, nil
	case isResources && verb == VerbGet:
		rev, err := st.getRevision(r.namespace, r.name)
		if err != nil {
			return nil, err
		}
		return st.resourcesView(rev), nil
	case r.group == configapi.GroupVersion.Group && r.resource == "repositories":
		return st.handleRepository(req, r, verb, body)
	case r.group == "" && r.resource == "secrets" && r.subresource == "":
		return st.handleSecret(r, verb, body)
	}
	return nil, apierrors.NewMethodNotSupported(porchapi.Resource(r.resource), verb)
}

// handleRepository serves repositories; called with s.mu held.
func (s *store) handleRepository(req *http.Request, r route, verb string, body []byte) (any, error) {
	switch verb {
	case "list":
		list := &configapi.RepositoryList{TypeMeta: metav1.TypeMeta{APIVersion: configapi.GroupVersion.String(), Kind: "RepositoryList"}, Items: []configapi.Repository{}}
		for k, repo := range s.repos {
			if strings.HasPrefix(k, r.namespace+"/") {
				list.Items = append(list.Items, *repoView(repo))
			}
		}
		return list, nil
	case "get":
		repo, ok := s.repos[key(r.namespace, r.name)]
		if !ok {
			return nil, apierrors.NewNotFound(grRepositories, r.name)
		}
		return repoView(repo), nil
	case "create":
		in := &configapi.Repository{}
		if err := decode(body, in); err != nil {
			return nil, err
		}
		out, err := s.createRepository(r.namespace, in)
		if err != nil {
			return nil, err
		}
		return repoView(out), nil
	case "update", "patch":
		repo, ok := s.repos[key(r.namespace, r.name)]
		if !ok {
			return nil, apierrors.NewNotFound(grRepositories, r.name)
		}
		in := &configapi.Repository{}
		if verb == "patch" {
			if err := applyPatch(req, repoView(repo), body, in); err != nil {
				return nil, err
			}
		} else if err := decode(body, in); err != nil {
			return nil, err
		} else if in.ResourceVersion != "" && in.ResourceVersion != repo.ResourceVersion {
			return nil, apierrors.NewConflict(grRepositories, r.name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		if r.subresource == "status" {
			repo.Status = in.Status
		} else {
			if !equalJSON(repo.Spec, in.Spec) {
				repo.Generation++
			}
			repo.Spec, repo.Labels, repo.Annotations = in.Spec, in.Labels, in.Annotations
		}
		repo.ResourceVersion = s.nextVersion()
		out := repoView(repo)
		// Porch re-reads the repository on every change and then writes its
		// Ready condition (a new resourceVersion).
		msg := s.repositoryError(repo)
		_ = s.setRepositoryReady(r.namespace, r.name, msg == "", msg)
		return out, nil
	case "delete":
		if err := s.deleteRepository(r.namespace, r.name); err != nil {
			return nil, err
		}
		return &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess}, nil
	}
	return nil, apierrors.NewMethodNotSupported(grRepositories, verb)
}

func repoView(r *configapi.Repository) *configapi.Repository {
	out := r.DeepCopy()
	out.TypeMeta = metav1.TypeMeta{APIVersion: configapi.GroupVersion.String(), Kind: "Repository"}
	return out
}

// handleSecret serves secrets; called with s.mu held.
func (s *store) handleSecret(r route, verb string, body []byte) (any, error) {
	switch verb {
	case "create":
		in := &corev1.Secret{}
		if err := decode(body, in); err != nil {
			return nil, err
		}
		if _, ok := s.secrets[key(r.namespace, in.Name)]; ok {
			return nil, apierrors.NewAlreadyExists(grSecrets, in.Name)
		}
		in.Namespace, in.ResourceVersion, in.UID = r.namespace, s.nextVersion(), types.UID(s.nextVersion()[:32])
		for k, v := range in.StringData {
			if in.Data == nil {
				in.Data = map[string][]byte{}
			}
			in.Data[k] = []byte(v)
		}
		in.StringData = nil
		s.secrets[key(r.namespace, in.Name)] = in
		return in, nil
	case "get":
		sec, ok := s.secrets[key(r.namespace, r.name)]
		if !ok {
			return nil, apierrors.NewNotFound(grSecrets, r.name)
		}
		return sec, nil
	case "delete":
		if _, ok := s.secrets[key(r.namespace, r.name)]; !ok {
			return nil, apierrors.NewNotFound(grSecrets, r.name)
		}
		// A dry run (DeleteOptions.DryRun ["All"]) checks and changes
		// nothing, as kube-apiserver's does.
		var opts metav1.DeleteOptions
		if len(body) > 0 && json.Unmarshal(body, &opts) == nil && slices.Contains(opts.DryRun, metav1.DryRunAll) {
			return &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess}, nil
		}
		delete(s.secrets, key(r.namespace, r.name))
		return &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess}, nil
	}
	return nil, apierrors.NewMethodNotSupported(grSecrets, verb)
}

func decode(body []byte, into any) error {
	if err := json.Unmarshal(body, into); err != nil {
		return apierrors.NewBadRequest("invalid request body: " + err.Error())
	}
	return nil
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// applyPatch applies a JSON merge or JSON patch to current. Strategic merge
// is treated as a merge patch (Porch's types have no patch strategies).
func applyPatch(req *http.Request, current any, patch []byte, into any) error {
	doc, err := json.Marshal(current)
	if err != nil {
		return err
	}
	var out []byte
	switch ct := req.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, string(types.JSONPatchType)):
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
		out, err = p.Apply(doc)
		if err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
	default:
		out, err = jsonpatch.MergePatch(doc, patch)
		if err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
	}
	return decode(out, into)
}

func writeStatus(w http.ResponseWriter, err error) {
	writeResponse(w, errorResponse(err))
}

// errorResponse answers err as the apiserver does: its Status, or an
// internal error.
func errorResponse(err error) *Response {
	var st metav1.Status
	var apiStatus apierrors.APIStatus
	if errors.As(err, &apiStatus) {
		st = apiStatus.Status()
	} else {
		st = apierrors.NewInternalError(err).Status()
	}
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	return &Response{Code: int(st.Code), Object: &st}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
