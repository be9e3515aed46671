package fake

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The verbs a Request carries, as the Kubernetes API names them.
const (
	VerbGet    = "get"
	VerbList   = "list"
	VerbWatch  = "watch"
	VerbCreate = "create"
	VerbUpdate = "update"
	VerbPatch  = "patch"
	VerbDelete = "delete"
)

// Request is what a hook sees of one API request.
type Request struct {
	// Verb is one of the Verb constants.
	Verb string
	// Resource is the resource with its subresource, if any:
	// "packagerevisions", "packagerevisions/approval",
	// "packagerevisionresources", "repositories", "repositories/status",
	// "secrets".
	Resource string
	// Namespace and Name address the object; Name is empty for lists,
	// watches and creates.
	Namespace, Name string
	// Body is the request body (empty for reads).
	Body []byte
	// HTTP is the request itself, for headers and query parameters.
	HTTP *http.Request
}

// Response is the fake's answer to a request, as a hook may replace it.
type Response struct {
	// Code is the HTTP status code.
	Code int
	// Object is written as the JSON body: the served object, or a
	// metav1.Status for an error.
	Object any
	// Drop closes the connection without an answer, as when the server or
	// a proxy in between dies mid-request; Code and Object are ignored.
	Drop bool

	// stream writes a watch's events; set on the fake's own answer to a
	// watch.
	stream func(http.ResponseWriter)
}

// Handler serves a request: the next hook, or at the end of the chain the
// fake itself.
type Handler func(ctx context.Context, req *Request) *Response

// Hook intercepts the requests of one verb. It may answer itself (see
// StatusResponse and DropResponse), wait, or call next (which serves the
// request) and return or replace next's answer. ctx is the request's
// context: it ends when the client gives up.
type Hook func(ctx context.Context, req *Request, next Handler) *Response

// Funcs holds one hook per verb, in the manner of controller-runtime's
// interceptor.Funcs; a nil hook lets the verb through. Pass Funcs to
// ClientBuilder.WithFuncs, or to Server.Intercept at run time.
type Funcs struct {
	Get, List, Watch, Create, Update, Patch, Delete Hook
}

func (f Funcs) hook(verb string) Hook {
	switch verb {
	case VerbGet:
		return f.Get
	case VerbList:
		return f.List
	case VerbWatch:
		return f.Watch
	case VerbCreate:
		return f.Create
	case VerbUpdate:
		return f.Update
	case VerbPatch:
		return f.Patch
	case VerbDelete:
		return f.Delete
	}
	return nil
}

// chain runs a request of verb through the hooks of funcs, first to last,
// and then through serve.
func chain(funcs []Funcs, verb string, serve Handler) Handler {
	h := serve
	for i := len(funcs) - 1; i >= 0; i-- {
		hook, next := funcs[i].hook(verb), h
		if hook == nil {
			continue
		}
		h = func(ctx context.Context, req *Request) *Response { return hook(ctx, req, next) }
	}
	return h
}

// StatusResponse is an answer with HTTP status code and a metav1.Status
// carrying message (the status text when empty) and, for the codes the
// Kubernetes API names, its reason.
func StatusResponse(code int, message string) *Response {
	if message == "" {
		message = http.StatusText(code)
	}
	st := statusFor(int32(code), reasonFor(code), message)
	if code < http.StatusBadRequest {
		st.Status = metav1.StatusSuccess
	}
	return &Response{Code: code, Object: &st}
}

// DropResponse is an answer that closes the connection without a
// response.
func DropResponse() *Response { return &Response{Drop: true} }

// budget counts down the requests a ready-made hook still applies to;
// times <= 0 applies to every request.
type budget struct {
	left    atomic.Int64
	forever bool
}

func newBudget(times int) *budget {
	b := &budget{forever: times <= 0}
	b.left.Store(int64(times))
	return b
}

func (b *budget) take() bool {
	return b.forever || b.left.Add(-1) >= 0
}

// matches reports whether req is on resource ("" matches every resource).
func matches(resource string, req *Request) bool {
	return resource == "" || resource == req.Resource
}

// Fail answers the next times requests on resource ("" for every resource;
// times <= 0 for every request) with HTTP status code and message, without
// serving them.
func Fail(resource string, code int, message string, times int) Hook {
	b := newBudget(times)
	return func(ctx context.Context, req *Request, next Handler) *Response {
		if matches(resource, req) && b.take() {
			return StatusResponse(code, message)
		}
		return next(ctx, req)
	}
}

// Drop closes the connection of the next times requests on resource ("" for
// every resource; times <= 0 for every request) without serving them.
func Drop(resource string, times int) Hook {
	b := newBudget(times)
	return func(ctx context.Context, req *Request, next Handler) *Response {
		if matches(resource, req) && b.take() {
			return DropResponse()
		}
		return next(ctx, req)
	}
}

// WithoutObject serves the next times requests on resource ("" for every
// resource; times <= 0 for every request) but answers each that succeeds
// with a bare success Status instead of the object, which client-go decodes
// to an empty object.
func WithoutObject(resource string, times int) Hook {
	b := newBudget(times)
	return func(ctx context.Context, req *Request, next Handler) *Response {
		if !matches(resource, req) || !b.take() {
			return next(ctx, req)
		}
		resp := next(ctx, req)
		if resp.Drop || resp.Code >= http.StatusBadRequest {
			return resp
		}
		return &Response{Code: http.StatusOK, Object: &metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess}}
	}
}

// Delay makes the next times requests on resource ("" for every resource;
// times <= 0 for every request) wait d before they are served. A request
// whose client gives up meanwhile is dropped unserved.
func Delay(resource string, d time.Duration, times int) Hook {
	b := newBudget(times)
	return func(ctx context.Context, req *Request, next Handler) *Response {
		if matches(resource, req) && b.take() {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return DropResponse()
			}
		}
		return next(ctx, req)
	}
}

// Every is Funcs with hook on every verb, watches included.
func Every(hook Hook) Funcs {
	return Funcs{Get: hook, List: hook, Watch: hook, Create: hook, Update: hook, Patch: hook, Delete: hook}
}
