package fake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

// newDraft builds a fake with b, registers repository "blueprints" and
// creates draft blueprints.app.v1 on it.
func newDraft(t *testing.T, b *fake.ClientBuilder) (porch.PackageRevisions, *fake.Server, string) {
	t.Helper()
	c, srv := b.WithClientOptions(porch.Options{Cache: porch.CacheOptions{Disabled: true}, Retry: porch.RetryOptions{Disabled: true}}).Build(t)
	ctx := context.Background()
	if _, err := c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/blueprints.git"); err != nil {
		t.Fatal(err)
	}
	d, err := c.PackageRevisions("default").Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	return c.PackageRevisions("default"), srv, d.Name
}

// plain is an HTTP client on a new connection per request: net/http
// repeats a GET that fails on a reused connection, which would hide a
// dropped one.
var plain = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// get reads path on srv with plain and returns the status code and the
// decoded body's kind and message.
func get(t *testing.T, srv *fake.Server, path string) (code int, kind, message string, err error) {
	t.Helper()
	resp, err := plain.Get(srv.Config().Host + path)
	if err != nil {
		return 0, "", "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", "", err
	}
	var head struct{ Kind, Message string }
	if err := json.Unmarshal(body, &head); err != nil {
		t.Fatalf("%s: %v: %s", path, err, body)
	}
	return resp.StatusCode, head.Kind, head.Message, nil
}

const revPath = "/apis/porch.kpt.dev/v1alpha1/namespaces/default/packagerevisions/blueprints.app.v1"

// TestHookSeesTheRequest: a hook gets the verb, resource, namespace, name
// and body of the request, and the request's context.
func TestHookSeesTheRequest(t *testing.T) {
	var mu sync.Mutex
	var seen []fake.Request
	record := func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
		mu.Lock()
		seen = append(seen, *req)
		mu.Unlock()
		if ctx.Err() != nil {
			t.Errorf("hook got an ended context: %v", ctx.Err())
		}
		return next(ctx, req)
	}
	prs, _, name := newDraft(t, fake.NewClientBuilder().WithFuncs(fake.Funcs{Update: record}))
	if _, err := prs.UpdateResources(context.Background(), name, func(p *porch.Package) error {
		p.Resources["cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 {
		t.Fatalf("the update hook saw %d requests, want 1 (the push)", len(seen))
	}
	r := seen[0]
	if r.Verb != fake.VerbUpdate || r.Resource != "packagerevisionresources" || r.Namespace != "default" || r.Name != name ||
		!strings.Contains(string(r.Body), "cm.yaml") || r.HTTP == nil || r.HTTP.Method != http.MethodPut {
		t.Fatalf("hook saw %+v (body %q)", r, r.Body)
	}
}

// TestFail: the next n requests on the resource are answered with the code
// and message, unserved; other resources and later requests are served.
func TestFail(t *testing.T) {
	_, srv, _ := newDraft(t, fake.NewClientBuilder())
	srv.Intercept(fake.Funcs{Get: fake.Fail("packagerevisions", http.StatusServiceUnavailable, "come back later", 2)})
	before := srv.RequestsFor(fake.VerbGet, "packagerevisions")
	for i := range 2 {
		code, kind, msg, err := get(t, srv, revPath)
		if err != nil || code != http.StatusServiceUnavailable || kind != "Status" || msg != "come back later" {
			t.Fatalf("request %d: %d %s %q %v", i, code, kind, msg, err)
		}
	}
	if code, _, _, err := get(t, srv, "/apis/config.porch.kpt.dev/v1alpha1/namespaces/default/repositories/blueprints"); err != nil || code != http.StatusOK {
		t.Fatalf("another resource: %d %v", code, err)
	}
	if code, kind, _, err := get(t, srv, revPath); err != nil || code != http.StatusOK || kind != "PackageRevision" {
		t.Fatalf("third request: %d %s %v", code, kind, err)
	}
	if n := srv.RequestsFor(fake.VerbGet, "packagerevisions") - before; n != 3 {
		t.Fatalf("%d requests counted, want 3 (failed ones count)", n)
	}
}

// TestDrop: the connection of the next request is closed without an answer.
func TestDrop(t *testing.T) {
	_, srv, _ := newDraft(t, fake.NewClientBuilder())
	srv.Intercept(fake.Funcs{Get: fake.Drop("", 1)})
	if _, _, _, err := get(t, srv, revPath); err == nil {
		t.Fatal("a dropped request got an answer")
	}
	if code, _, _, err := get(t, srv, revPath); err != nil || code != http.StatusOK {
		t.Fatalf("after the drop: %d %v", code, err)
	}
}

// TestWithoutObject: the request is served, but answered with a bare
// success Status; a write so answered took effect.
func TestWithoutObject(t *testing.T) {
	prs, srv, name := newDraft(t, fake.NewClientBuilder())
	srv.Intercept(fake.Funcs{Get: fake.WithoutObject("packagerevisions", 1)})
	if code, kind, _, err := get(t, srv, revPath); err != nil || code != http.StatusOK || kind != "Status" {
		t.Fatalf("get: %d %s %v", code, kind, err)
	}
	srv.Intercept(fake.Funcs{Update: fake.WithoutObject("packagerevisions", 1)})
	pr, err := prs.Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	pr.Spec.Lifecycle = porchapi.PackageRevisionLifecycleProposed
	body, _ := json.Marshal(pr)
	req, _ := http.NewRequest(http.MethodPut, srv.Config().Host+revPath, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st metav1.Status
	_ = json.NewDecoder(resp.Body).Decode(&st)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || st.Kind != "Status" || st.Status != metav1.StatusSuccess {
		t.Fatalf("update: %d %+v", resp.StatusCode, st)
	}
	if now, err := prs.Get(context.Background(), name); err != nil || now.Spec.Lifecycle != porchapi.PackageRevisionLifecycleProposed {
		t.Fatalf("the update did not take effect: %v", err)
	}
	// A failure is passed on as it is.
	srv.Intercept(fake.Funcs{Get: fake.WithoutObject("", 1)})
	if code, _, _, err := get(t, srv, revPath+"-missing"); err != nil || code != http.StatusNotFound {
		t.Fatalf("a failed get: %d %v", code, err)
	}
}

// TestDelay: the request waits before it is served; one whose client gives
// up meanwhile is not served.
func TestDelay(t *testing.T) {
	prs, srv, name := newDraft(t, fake.NewClientBuilder())
	srv.Intercept(fake.Funcs{Get: fake.Delay("packagerevisions", 100*time.Millisecond, 1)})
	start := time.Now()
	if _, err := prs.Get(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Fatalf("served after %v, want at least 100ms", waited)
	}
	var served atomic.Int32
	srv.Intercept(fake.Funcs{Delete: fake.Delay("", time.Minute, 1)})
	srv.Intercept(fake.Funcs{Delete: func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
		served.Add(1)
		return next(ctx, req)
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := prs.Delete(ctx, name); err == nil {
		t.Fatal("a delete delayed past its deadline succeeded")
	}
	if _, err := prs.Get(context.Background(), name); err != nil {
		t.Fatalf("the abandoned delete was served: %v", err)
	}
	if n := served.Load(); n != 0 {
		t.Fatalf("the delay let %d requests through", n)
	}
}

// TestHooksChainInOrder: hooks run in the order added, each calling the
// next; a spent ready-made hook lets requests through; ClearFuncs removes
// every hook, the builder's too.
func TestHooksChainInOrder(t *testing.T) {
	var mu sync.Mutex
	var order []string
	ran := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(order, ",")
	}
	tag := func(name string) fake.Hook {
		return func(ctx context.Context, req *fake.Request, next fake.Handler) *fake.Response {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			return next(ctx, req)
		}
	}
	_, srv, _ := newDraft(t, fake.NewClientBuilder().WithFuncs(fake.Funcs{Get: tag("builder")}))
	srv.Intercept(fake.Funcs{Get: fake.Fail("", http.StatusTeapot, "", 1)})
	srv.Intercept(fake.Funcs{Get: tag("second")})
	if code, _, _, _ := get(t, srv, revPath); code != http.StatusTeapot {
		t.Fatalf("first get: %d", code)
	}
	if code, _, _, _ := get(t, srv, revPath); code != http.StatusOK {
		t.Fatalf("second get: %d", code)
	}
	if got := ran(); got != "builder,builder,second" {
		t.Fatalf("hooks ran %s", got)
	}
	srv.ClearFuncs()
	if code, _, _, _ := get(t, srv, revPath); code != http.StatusOK || ran() != "builder,builder,second" {
		t.Fatalf("after ClearFuncs: %d, hooks ran %s", code, ran())
	}
}

// TestEveryAndAnswers: Every puts one hook on every verb, sharing its
// budget; a hook may answer a Status of its own.
func TestEveryAndAnswers(t *testing.T) {
	prs, srv, name := newDraft(t, fake.NewClientBuilder())
	srv.Intercept(fake.Every(fake.Fail("", http.StatusTooManyRequests, "slow down", 2)))
	ctx := context.Background()
	if _, err := prs.List(ctx); err == nil {
		t.Fatal("list: no error from the failing hook")
	}
	if code, _, msg, _ := get(t, srv, revPath); code != http.StatusTooManyRequests || msg != "slow down" {
		t.Fatalf("get: %d %q", code, msg)
	}
	if _, err := prs.Get(ctx, name); err != nil {
		t.Fatalf("after the budget: %v", err)
	}
	if r := fake.StatusResponse(http.StatusConflict, ""); r.Code != http.StatusConflict || r.Object.(*metav1.Status).Reason != metav1.StatusReasonConflict {
		t.Fatalf("StatusResponse %+v", r.Object)
	}
}
