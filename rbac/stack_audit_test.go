package rbac_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// readAudit returns the events of an audit log (JSON lines).
func readAudit(t *testing.T, path string) []auditv1.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []auditv1.Event
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var ev auditv1.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit log %s: %v", path, err)
		}
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// find returns the events of u's requests matching verb, resource and
// subresource in namespace ns.
func find(events []auditv1.Event, u, verb, resource, subresource, ns string) []auditv1.Event {
	var out []auditv1.Event
	for _, ev := range events {
		r := ev.ObjectRef
		if ev.User.Username == u && ev.Verb == verb && r != nil && r.Resource == resource && r.Subresource == subresource && r.Namespace == ns {
			out = append(out, ev)
		}
	}
	return out
}

// testAudit checks the audit logs of the flows that ran before: the
// lifecycle ServiceAccount's approval and create at the levels of the
// policy on both servers, the refused approval, no Lease at all, and a
// Secret recorded without its contents.
func (s *stack) testAudit(ctx context.Context, t *testing.T) {
	const password = "s3cr3t-never-logged"
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "git-auth", Namespace: nsA}, StringData: map[string]string{"password": password}}
	if _, err := s.admin.CoreV1().Secrets(nsA).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lifecycle := user(nsA, "lifecycle")
	var kube, porchEvents []auditv1.Event
	// Both servers write their log as requests complete; give the last
	// lines a moment.
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		kube, porchEvents = readAudit(t, s.kubeAudit), readAudit(t, s.porchAudit)
		return len(find(kube, "porchkit-admin", "create", "secrets", "", nsA)) > 0 &&
			len(find(porchEvents, lifecycle, "update", "packagerevisions", "approval", nsA)) > 0, nil
	})
	if err != nil {
		t.Fatalf("the audit logs lack the secret's create or the approval: %v", err)
	}
	t.Logf("audit events: kube-apiserver %d, porch-server %d", len(kube), len(porchEvents))

	// kube-apiserver authorises and proxies porch.kpt.dev: it records the
	// approval at the policy's level, without bodies it never decoded.
	approvals := find(kube, lifecycle, "update", "packagerevisions", "approval", nsA)
	if len(approvals) != 1 {
		t.Fatalf("kube-apiserver: %d approvals by %s, want 1", len(approvals), lifecycle)
	}
	if a := approvals[0]; a.Level != auditv1.LevelRequestResponse || a.Stage != auditv1.StageResponseComplete || a.ResponseStatus == nil || a.ResponseStatus.Code != 200 {
		t.Errorf("kube-apiserver approval: level %s stage %s status %+v", a.Level, a.Stage, a.ResponseStatus)
	}
	// porch-server decodes them: the approval's request asks for
	// Published and its response is the published revision.
	approvals = find(porchEvents, lifecycle, "update", "packagerevisions", "approval", nsA)
	if len(approvals) != 1 {
		t.Fatalf("porch-server: %d approvals by %s, want 1", len(approvals), lifecycle)
	}
	a := approvals[0]
	if a.Level != auditv1.LevelRequestResponse || a.RequestObject == nil || a.ResponseObject == nil {
		t.Fatalf("porch-server approval: level %s, request body %v, response body %v", a.Level, a.RequestObject != nil, a.ResponseObject != nil)
	}
	for what, body := range map[string][]byte{"request": a.RequestObject.Raw, "response": a.ResponseObject.Raw} {
		if !strings.Contains(string(body), `"lifecycle":"Published"`) {
			t.Errorf("porch-server approval's %s does not show the revision Published: %s", what, body)
		}
	}
	if strings.Contains(string(a.ResponseObject.Raw), "managedFields") {
		t.Error("managed fields are recorded")
	}
	// The draft's creation is recorded with its task; a read only as
	// metadata.
	creates := find(porchEvents, lifecycle, "create", "packagerevisions", "", nsA)
	if len(creates) != 1 || creates[0].RequestObject == nil || !strings.Contains(string(creates[0].RequestObject.Raw), `"type":"init"`) {
		t.Errorf("porch-server: the lifecycle's create is not recorded with its init task: %d events", len(creates))
	}
	gets := find(kube, lifecycle, "get", "packagerevisions", "", nsA)
	if len(gets) == 0 {
		t.Error("kube-apiserver: no get of packagerevisions by the lifecycle")
	}
	for _, g := range gets {
		if g.Level != auditv1.LevelMetadata {
			t.Errorf("a read is recorded at %s", g.Level)
		}
	}
	// A refused approval is recorded too, with its 403.
	refused := find(kube, user(nsA, "no-packagerevisions-approval-update"), "update", "packagerevisions", "approval", nsA)
	if len(refused) != 1 || refused[0].ResponseStatus == nil || refused[0].ResponseStatus.Code != 403 {
		t.Errorf("kube-apiserver: the refused approval is not recorded with 403: %+v", refused)
	}
	// Noise is not recorded: the propagator-state flow took and renewed
	// Leases.
	for _, ev := range kube {
		if ev.ObjectRef != nil && ev.ObjectRef.Resource == "leases" {
			t.Fatalf("a Lease request is recorded: %s %s by %s", ev.Verb, ev.ObjectRef.Name, ev.User.Username)
		}
		if ev.Stage == auditv1.StageRequestReceived {
			t.Fatalf("stage RequestReceived is recorded")
		}
	}
	// A Secret's creation is recorded, its contents never.
	if c := find(kube, "porchkit-admin", "create", "secrets", "", nsA); c[0].Level != auditv1.LevelMetadata || c[0].RequestObject != nil {
		t.Errorf("the Secret's create is recorded at %s with a body: %v", c[0].Level, c[0].RequestObject != nil)
	}
	for _, path := range []string{s.kubeAudit, s.porchAudit} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(password)) || bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString([]byte(password)))) {
			t.Errorf("%s holds the Secret's password", path)
		}
	}
}
