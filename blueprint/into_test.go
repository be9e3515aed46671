package blueprint

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

const intoDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: amf
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: amf
        image: example.org/amf:1.0
`

const intoInjectionPoint = `apiVersion: v1
kind: ConfigMap
metadata:
  name: amf-site
  annotations:
    kpt.dev/config-injection: required
    config.kubernetes.io/local-config: "true"
data:
  plmn: "000-00"
`

const intoConfig = `apiVersion: v1
kind: ConfigMap
metadata:
  name: amf-config
data:
  logLevel: info
`

// blueprintFiles are the files of version v of the test blueprint.
func blueprintFiles(v int) map[string]string {
	files := map[string]string{"deployment.yaml": intoDeployment, "site.yaml": intoInjectionPoint, "config.yaml": intoConfig}
	if v >= 2 {
		files["deployment.yaml"] = strings.Replace(intoDeployment, "amf:1.0", "amf:2.0", 1)
		files["config.yaml"] = strings.Replace(intoConfig, "logLevel: info", "logLevel: warn\n  timeout: 30s", 1)
	}
	if v >= 3 {
		files["service.yaml"] = "apiVersion: v1\nkind: Service\nmetadata:\n  name: amf\nspec:\n  ports:\n  - name: sbi\n    port: 80\n"
	}
	return files
}

// publish writes files into a new revision (Init, or Copy of from) and
// publishes it.
func publish(t *testing.T, ctx context.Context, prs porch.PackageRevisions, repo, pkg, ws, from string, edit func(*porch.Package)) *porchapi.PackageRevision {
	t.Helper()
	var draft *porchapi.PackageRevision
	var err error
	if from == "" {
		draft, err = prs.Init(ctx, repo, pkg, ws, &porch.InitOptions{Description: "test blueprint"})
	} else {
		draft, err = prs.Copy(ctx, from, ws)
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := prs.Pull(ctx, draft.Name)
	if err != nil {
		t.Fatal(err)
	}
	edit(p)
	if _, err := prs.Push(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Propose(ctx, draft.Name); err != nil {
		t.Fatal(err)
	}
	pr, err := prs.Approve(ctx, draft.Name)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

func setFiles(files map[string]string) func(*porch.Package) {
	return func(p *porch.Package) {
		for k, v := range files {
			p.Resources[k] = v
		}
	}
}

func strp(s string) *string { return &s }

// variantOptions inject ConfigMap "edge" into the blueprint's injection
// point, set a package-context key and add a mutator, as a PackageVariant
// named amf-edge does.
func variantOptions() []GenerateOption {
	return []GenerateOption{
		&PackageContext{Data: map[string]string{"site": "edge-1"}},
		WithPipeline(&kptfilev1.Pipeline{Mutators: []kptfilev1.Function{{Name: "ns", Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", ConfigMap: map[string]string{"namespace": "amf"}}}}),
		&GenerateOptions{
			Variant:          "amf-edge",
			Injectors:        []Injector{{Kind: strp("ConfigMap"), Name: "edge"}},
			InjectionObjects: []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: edge\ndata:\n  plmn: \"208-93\"\n")},
		},
	}
}

func testVariant() IntoOption { return WithGenerateOptions(variantOptions()...) }

type fakeStack struct {
	c   porch.Client
	srv *fake.Server
	prs porch.PackageRevisions
	v1  *porchapi.PackageRevision
}

func newFakeStack(t *testing.T) (context.Context, *fakeStack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	// The fake renders like Porch does on every change: krm's built-in
	// catalog functions, set-namespace among them.
	c, srv := fake.NewClientBuilder().WithRenderer(krm.NewPorchRenderer(krm.NewRunner(krm.RunnerConfig{}))).WithClientOptions(porch.Options{Cache: porch.CacheOptions{Disabled: true}}).Build(t)
	repos := c.Repositories("default")
	if _, err := repos.Register(ctx, "blueprints", "https://git.example.com/blueprints.git"); err != nil {
		t.Fatal(err)
	}
	if _, err := repos.Register(ctx, "edge", "https://git.example.com/edge.git", porch.AsDeployment); err != nil {
		t.Fatal(err)
	}
	if _, err := repos.Register(ctx, "plain", "https://git.example.com/plain.git"); err != nil {
		t.Fatal(err)
	}
	prs := c.PackageRevisions("default")
	s := &fakeStack{c: c, srv: srv, prs: prs}
	s.v1 = publish(t, ctx, prs, "blueprints", "amf", "v1", "", setFiles(blueprintFiles(1)))
	return ctx, s
}

func (s *fakeStack) revisionsIn(t *testing.T, ctx context.Context, repo string) []porchapi.PackageRevision {
	t.Helper()
	list, err := s.prs.List(ctx, porch.InRepository(repo))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestGenerateIntoLeavesSpecialisedDraft(t *testing.T) {
	ctx, s := newFakeStack(t)
	res, err := GenerateInto(ctx, s.c, s.v1.Name, nil, IntoTarget{Repository: "edge", Package: "amf-edge"},
		testVariant(), RequireDeployment(true))
	if err != nil {
		t.Fatal(err)
	}
	pr := res.Revision
	if pr.Spec.Lifecycle != porchapi.PackageRevisionLifecycleDraft || pr.Spec.RepositoryName != "edge" || pr.Spec.PackageName != "amf-edge" {
		t.Fatalf("revision %s %s/%s", pr.Spec.Lifecycle, pr.Spec.RepositoryName, pr.Spec.PackageName)
	}
	if len(pr.Spec.Tasks) == 0 || pr.Spec.Tasks[0].Type != porchapi.TaskTypeClone || pr.Spec.Tasks[0].Clone.Upstream.UpstreamRef.Name != s.v1.Name {
		t.Errorf("not cloned from the upstream revision: %+v", pr.Spec.Tasks)
	}
	if pr.Status.UpstreamLock == nil {
		t.Errorf("no upstream lock recorded")
	}
	stored, err := s.prs.Pull(ctx, pr.Name)
	if err != nil {
		t.Fatal(err)
	}
	files := stored.Resources
	site := ResourceKey{Kind: "ConfigMap", Name: "amf-site"}
	if got := fieldOf(t, files, site, "data.plmn"); got.JSON != `"208-93"` {
		t.Errorf("injected plmn %s", got)
	}
	if got := fieldOf(t, files, site, "metadata.annotations.kpt.dev/injected-resource"); got.JSON != `"edge"` {
		t.Errorf("injected-resource annotation %s", got)
	}
	pc := ResourceKey{Kind: "ConfigMap", Name: "kptfile.kpt.dev"}
	if got := fieldOf(t, files, pc, "data.site"); got.JSON != `"edge-1"` {
		t.Errorf("package context site %s", got)
	}
	if got := fieldOf(t, files, pc, "data.name"); got.JSON != `"amf-edge"` {
		t.Errorf("package context name %s: Porch's own key must stay", got)
	}
	kf := ResourceKey{Group: "kpt.dev", Kind: "Kptfile", Name: "amf-edge"}
	if got := fieldOf(t, files, kf, "pipeline.mutators.[name=PackageVariant.amf-edge.ns.0].image"); got.JSON != `"gcr.io/kpt-fn/set-namespace:v0.4.1"` {
		t.Errorf("prepended mutator: %s", got)
	}
	if got := fieldOf(t, files, kf, "info.readinessGates"); got.JSON != `[{"conditionType":"config.injection.ConfigMap.amf-site"}]` {
		t.Errorf("readiness gates %s", got)
	}
	if got := fieldOf(t, files, kf, "status.conditions"); !strings.Contains(got.JSON, `"reason":"ConfigInjected"`) || !strings.Contains(got.JSON, `"status":"True"`) {
		t.Errorf("conditions %s", got)
	}
}

func TestGenerateIntoPublishes(t *testing.T) {
	ctx, s := newFakeStack(t)
	var decisions []porch.AuditRecord
	m := porch.NewLifecycleManager(s.prs, porch.LifecycleOptions{Actor: "blueprint-test", AuditSink: porch.AuditFunc(func(_ context.Context, r porch.AuditRecord) error {
		decisions = append(decisions, r)
		return nil
	})})
	res, err := GenerateInto(ctx, s.c, s.v1.Name, nil, IntoTarget{Repository: "edge", Package: "amf-edge"},
		testVariant(), AsPublished, WithLifecycleManager(m))
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision.Spec.Lifecycle != porchapi.PackageRevisionLifecyclePublished || res.Revision.Spec.Revision != 1 {
		t.Fatalf("revision %s %d", res.Revision.Spec.Lifecycle, res.Revision.Spec.Revision)
	}
	if len(decisions) != 2 || decisions[1].To != porchapi.PackageRevisionLifecyclePublished {
		t.Errorf("lifecycle manager decisions %+v", decisions)
	}
}

func TestGenerateIntoBadInputCreatesNothing(t *testing.T) {
	ctx, s := newFakeStack(t)
	draft, err := s.prs.Init(ctx, "blueprints", "smf", "v1")
	if err != nil {
		t.Fatal(err)
	}
	unmatched := WithGenerateOptions(append(variantOptions(), &GenerateOptions{Injectors: []Injector{{Name: "nowhere"}}})...)
	reserved := WithGenerateOptions(&PackageContext{Data: map[string]string{"name": "x"}})
	edge := IntoTarget{Repository: "edge", Package: "amf-edge"}
	for name, tc := range map[string]struct {
		upstream string
		values   Values
		target   IntoTarget
		opts     []IntoOption
		want     error
		naming   string
	}{
		"upstream not published":      {upstream: draft.Name, target: edge, opts: []IntoOption{testVariant()}, want: ErrUpstreamNotPublished, naming: "Draft"},
		"not a deployment repository": {upstream: s.v1.Name, target: IntoTarget{Repository: "plain", Package: "amf"}, opts: []IntoOption{RequireDeployment(true)}, want: ErrNotDeploymentRepository, naming: "plain"},
		"unknown value":               {upstream: s.v1.Name, target: edge, values: Values{"replicas": 3}, opts: []IntoOption{testVariant()}, want: ErrInvalidValues, naming: "replicas"},
		"reserved context key":        {upstream: s.v1.Name, target: edge, opts: []IntoOption{reserved}, want: ErrInvalidOptions, naming: `"name"`},
		"unmet readiness gate":        {upstream: s.v1.Name, target: edge, opts: []IntoOption{unmatched, AsPublished}, want: ErrReadinessNotMet, naming: "config.injection.ConfigMap.amf-site"},
		"bad lifecycle":               {upstream: s.v1.Name, target: edge, opts: []IntoOption{EndAs("Archived")}, want: ErrInvalidTarget, naming: "Lifecycle"},
		"no package":                  {upstream: s.v1.Name, target: IntoTarget{Repository: "edge"}, want: ErrInvalidTarget, naming: "Package"},
		"unknown upstream":            {upstream: "blueprints.nothing.v1", target: edge, want: porch.ErrNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			creates := s.srv.RequestsFor(fake.VerbCreate, "packagerevisions")
			_, err := GenerateInto(ctx, s.c, tc.upstream, tc.values, tc.target, tc.opts...)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.naming) {
				t.Fatalf("err %v, want %v naming %q", err, tc.want, tc.naming)
			}
			if n := s.srv.RequestsFor(fake.VerbCreate, "packagerevisions") - creates; n != 0 {
				t.Errorf("%d package revisions created", n)
			}
		})
	}
	var re *ReadinessError
	_, err = GenerateInto(ctx, s.c, s.v1.Name, nil, edge, unmatched, AsProposed)
	if !errors.As(err, &re) || len(re.Missing) != 1 {
		t.Errorf("err %v, want a *ReadinessError with one gate", err)
	}
	if got := s.revisionsIn(t, ctx, "edge"); len(got) != 0 {
		t.Errorf("revisions left in edge: %d", len(got))
	}
}

func TestGenerateIntoFailedStepLeavesNoDraft(t *testing.T) {
	for name, hook := range map[string]fake.Funcs{
		"push fails":    {Update: fake.Fail("packagerevisionresources", http.StatusForbidden, "denied by test", 1)},
		"propose fails": {Update: fake.Fail("packagerevisions", http.StatusForbidden, "denied by test", 1)},
		"push dropped":  {Update: fake.Drop("packagerevisionresources", 0)},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, s := newFakeStack(t)
			s.srv.Intercept(hook)
			_, err := GenerateInto(ctx, s.c, s.v1.Name, nil, IntoTarget{Repository: "edge", Package: "amf-edge"},
				testVariant(), AsPublished)
			if err == nil {
				t.Fatal("GenerateInto succeeded through a failing step")
			}
			if s.srv.RequestsFor(fake.VerbCreate, "packagerevisions") == 0 {
				t.Fatal("the failure came before the clone; the test proves nothing")
			}
			s.srv.ClearFuncs()
			if got := s.revisionsIn(t, ctx, "edge"); len(got) != 0 {
				t.Errorf("a failed GenerateInto left %d revision(s): %s %s", len(got), got[0].Name, got[0].Spec.Lifecycle)
			}
		})
	}
}

func TestUnmetGatesReadsRevisionAndKptfile(t *testing.T) {
	pkg := &porch.Package{Resources: map[string]string{"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\ninfo:\n  readinessGates:\n  - conditionType: a\n  - conditionType: b\nstatus:\n  conditions:\n  - type: a\n    status: \"True\"\n  - type: b\n    status: \"False\"\n"}}
	if got := unmetGates(nil, pkg); strings.Join(got, ",") != "b" {
		t.Errorf("Kptfile only: %v", got)
	}
	pr := &porchapi.PackageRevision{}
	pr.Spec.ReadinessGates = []porchapi.ReadinessGate{{ConditionType: "c"}}
	pr.Status.Conditions = []porchapi.Condition{{Type: "b", Status: porchapi.ConditionTrue}}
	if got := unmetGates(pr, pkg); strings.Join(got, ",") != "c" {
		t.Errorf("revision and Kptfile: %v (the revision's condition b wins, gate c is unmet)", got)
	}
}

func TestGenerateIntoSpecializerFailingOnDraftLeavesNoDraft(t *testing.T) {
	ctx, s := newFakeStack(t)
	calls := 0
	failSecond := SpecializerFunc(func(_ context.Context, name string, pkg *porch.Package, _ Values) error {
		calls++
		if name != "amf-edge" {
			t.Errorf("specialised for %q, want the downstream package name", name)
		}
		if calls == 2 {
			return errors.New("second pass refused by test")
		}
		return nil
	})
	_, err := GenerateInto(ctx, s.c, s.v1.Name, nil, IntoTarget{Repository: "edge", Package: "amf-edge"}, WithSpecializer(failSecond))
	if err == nil || !strings.Contains(err.Error(), "second pass refused") {
		t.Fatalf("err %v", err)
	}
	if calls != 2 {
		t.Fatalf("specializer called %d times, want a trial on the upstream and one on the draft", calls)
	}
	if got := s.revisionsIn(t, ctx, "edge"); len(got) != 0 {
		t.Errorf("%d revision(s) left", len(got))
	}
}
