package fake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

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
			return "watch"
		}
		if r.name == "" {
			return "list"
		}
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return strings.ToLower(req.Method)
}

// ServeHTTP serves the Porch API.
func (f *Fake) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r, ok := parseRoute(req.URL.Path)
	if !ok {
		writeStatus(w, apierrors.NewNotFound(porchapi.Resource("path"), req.URL.Path))
		return
	}
	if f.opts.bearerToken != "" && req.Header.Get("Authorization") != "Bearer "+f.opts.bearerToken {
		writeStatus(w, apierrors.NewUnauthorized("Unauthorized"))
		return
	}
	resource := r.resource
	if r.subresource != "" {
		resource += "/" + r.subresource
	}
	verb := verbOf(req, r)
	fl := f.fault(verb, resource)
	if fl != nil {
		if fl.Latency > 0 {
			select {
			case <-time.After(fl.Latency):
			case <-req.Context().Done():
				return
			}
		}
		switch {
		case fl.Code == -1:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
		case fl.Code != 0 && fl.Code != http.StatusOK:
			msg := fl.Message
			if msg == "" {
				msg = http.StatusText(fl.Code)
			}
			writeStatus(w, &apierrors.StatusError{ErrStatus: statusFor(int32(fl.Code), reasonFor(fl.Code), msg)})
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	if err != nil {
		writeStatus(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	if len(body) > maxBody {
		writeStatus(w, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBody)))
		return
	}
	if verb == "watch" && r.group == porchapi.SchemeGroupVersion.Group && r.resource == "packagerevisions" {
		f.serveWatch(w, req, r)
		return
	}
	out, err := f.handle(req, r, verb, body)
	if err != nil {
		writeStatus(w, err)
		return
	}
	if fl != nil && fl.Code == http.StatusOK {
		// Served, but answered without the object.
		writeJSON(w, http.StatusOK, &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess})
		return
	}
	code := http.StatusOK
	if verb == "create" {
		code = http.StatusCreated
	}
	writeJSON(w, code, out)
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

func (f *Fake) handle(req *http.Request, r route, verb string, body []byte) (any, error) {
	s := f.store
	s.mu.Lock()
	defer s.mu.Unlock()
	q := req.URL.Query()
	switch {
	case r.group == porchapi.SchemeGroupVersion.Group && r.resource == "packagerevisions":
		switch {
		case verb == "list":
			filter, err := parseSelectors(q.Get("fieldSelector"), q.Get("labelSelector"))
			if err != nil {
				return nil, err
			}
			list := &porchapi.PackageRevisionList{TypeMeta: metav1.TypeMeta{APIVersion: porchapi.SchemeGroupVersion.String(), Kind: "PackageRevisionList"}}
			for _, rev := range s.listRevisions(r.namespace, filter) {
				list.Items = append(list.Items, *s.view(rev))
			}
			if list.Items == nil {
				list.Items = []porchapi.PackageRevision{}
			}
			return list, nil
		case verb == "get" && r.subresource == "":
			rev, err := s.getRevision(r.namespace, r.name)
			if err != nil {
				return nil, err
			}
			return s.view(rev), nil
		case verb == "create":
			in := &porchapi.PackageRevision{}
			if err := decode(body, in); err != nil {
				return nil, err
			}
			return s.createRevision(r.namespace, in)
		case verb == "update" && r.subresource == "approval":
			in := &porchapi.PackageRevision{}
			if err := decode(body, in); err != nil {
				return nil, err
			}
			return s.approve(r.namespace, r.name, in)
		case verb == "update" && r.subresource == "":
			in := &porchapi.PackageRevision{}
			if err := decode(body, in); err != nil {
				return nil, err
			}
			return s.updateRevision(r.namespace, r.name, in)
		case verb == "patch" && r.subresource == "":
			rev, err := s.getRevision(r.namespace, r.name)
			if err != nil {
				return nil, err
			}
			in := &porchapi.PackageRevision{}
			if err := applyPatch(req, s.view(rev), body, in); err != nil {
				return nil, err
			}
			in.ResourceVersion = rev.pr.ResourceVersion
			return s.updateRevision(r.namespace, r.name, in)
		case verb == "delete" && r.subresource == "":
			return s.deleteRevision(r.namespace, r.name)
		}
	case r.group == porchapi.SchemeGroupVersion.Group && r.resource == "packagerevisionresources" && r.subresource == "":
		switch verb {
		case "list":
			filter, err := parseSelectors(q.Get("fieldSelector"), q.Get("labelSelector"))
			if err != nil {
				return nil, err
			}
			list := &porchapi.PackageRevisionResourcesList{TypeMeta: metav1.TypeMeta{APIVersion: porchapi.SchemeGroupVersion.String(), Kind: "PackageRevisionResourcesList"}}
			for _, rev := range s.listRevisions(r.namespace, filter) {
				list.Items = append(list.Items, *s.resourcesView(rev))
			}
			if list.Items == nil {
				list.Items = []porchapi.PackageRevisionResources{}
			}
			return list, nil
		case "get":
			rev, err := s.getRevision(r.namespace, r.name)
			if err != nil {
				return nil, err
			}
			return s.resourcesView(rev), nil
		case "update":
			in := &porchapi.PackageRevisionResources{}
			if err := decode(body, in); err != nil {
				return nil, err
			}
			return s.updateResources(r.namespace, r.name, in)
		}
	case r.group == configapi.GroupVersion.Group && r.resource == "repositories":
		return f.handleRepository(req, r, verb, body)
	case r.group == "" && r.resource == "secrets" && r.subresource == "":
		return s.handleSecret(r, verb, body)
	}
	return nil, apierrors.NewMethodNotSupported(porchapi.Resource(r.resource), verb)
}

func (f *Fake) handleRepository(req *http.Request, r route, verb string, body []byte) (any, error) {
	s := f.store
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
	var st metav1.Status
	var apiStatus apierrors.APIStatus
	if errors.As(err, &apiStatus) {
		st = apiStatus.Status()
	} else {
		st = apierrors.NewInternalError(err).Status()
	}
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	writeJSON(w, int(st.Code), &st)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
