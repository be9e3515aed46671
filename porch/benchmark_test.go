package porch_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	porchclient "github.com/nephio-project/porch/api/generated/clientset/versioned"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/internal/kubeplane"
	"github.com/nephoran/porchkit/internal/testbin"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/porchenv"
)

// The benchmarks run against the real Porch v1.5.3 that porchenv starts,
// and compare the SDK with plain client-go calls (Porch's generated
// clientset) and with porchctl, side by side in one run:
//
//	go test ./porch -run '^$' -bench . -benchtime 20x

func benchEnv(b *testing.B, repos ...string) (*porchenv.Environment, porchclient.Interface, porch.Client) {
	b.Helper()
	env := porchenv.Setup(b, nil)
	ctx := context.Background()
	for _, r := range repos {
		if _, err := env.RegisterRepository(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	raw, err := porchclient.NewForConfig(env.PorchConfig)
	if err != nil {
		b.Fatal(err)
	}
	sdk, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sdk.Close)
	return env, raw, sdk
}

func rawCreate(ctx context.Context, raw porchclient.Interface, repo, pkg, ws string) (*porchapi.PackageRevision, error) {
	return raw.PorchV1alpha1().PackageRevisions("default").Create(ctx, &porchapi.PackageRevision{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default"},
		Spec: porchapi.PackageRevisionSpec{
			PackageName: pkg, WorkspaceName: ws, RepositoryName: repo, Lifecycle: porchapi.PackageRevisionLifecycleDraft,
			Tasks: []porchapi.Task{{Type: porchapi.TaskTypeInit, Init: &porchapi.PackageInitTaskSpec{}}},
		},
	}, metav1.CreateOptions{})
}

// rawCycle is create, propose and approve with plain client-go calls, each
// using the previous answer, as a careful hand-written client would.
func rawCycle(ctx context.Context, raw porchclient.Interface, repo, pkg string) error {
	prs := raw.PorchV1alpha1().PackageRevisions("default")
	pr, err := rawCreate(ctx, raw, repo, pkg, "v1")
	if err != nil {
		return err
	}
	pr.Spec.Lifecycle = porchapi.PackageRevisionLifecycleProposed
	if pr, err = prs.Update(ctx, pr, metav1.UpdateOptions{}); err != nil {
		return err
	}
	pr.Spec.Lifecycle = porchapi.PackageRevisionLifecyclePublished
	_, err = prs.UpdateApproval(ctx, pr.Name, pr, metav1.UpdateOptions{})
	return err
}

func sdkCycle(ctx context.Context, prs porch.PackageRevisions, repo, pkg string) error {
	pr, err := prs.Init(ctx, repo, pkg, "v1")
	if err != nil {
		return err
	}
	if _, err := prs.Propose(ctx, pr.Name); err != nil {
		return err
	}
	_, err = prs.Approve(ctx, pr.Name)
	return err
}

// BenchmarkSequentialLifecycle: create, propose, approve, one after the
// other; the SDK and plain client-go alternate so both meet the same
// repository size.
func BenchmarkSequentialLifecycle(b *testing.B) {
	_, raw, sdk := benchEnv(b, "seq")
	ctx := context.Background()
	prs := sdk.PackageRevisions("default")
	var rawTime, sdkTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := rawCycle(ctx, raw, "seq", fmt.Sprintf("raw-%d", i)); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(start)
		start = time.Now()
		if err := sdkCycle(ctx, prs, "seq", fmt.Sprintf("sdk-%d", i)); err != nil {
			b.Fatal(err)
		}
		sdkTime += time.Since(start)
	}
	rawRate, sdkRate := float64(b.N)/rawTime.Seconds(), float64(b.N)/sdkTime.Seconds()
	b.ReportMetric(rawRate, "raw-cycles/s")
	b.ReportMetric(sdkRate, "sdk-cycles/s")
	b.ReportMetric(sdkRate/rawRate, "sdk/raw")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkConcurrentCreates: 40 creates into a fresh repository per mode
// and iteration (Porch slows down as a repository's drafts grow): plain
// client-go sequentially, plain client-go from 8 goroutines, and the SDK
// from 8 goroutines (its per-repository limit queues them).
func BenchmarkConcurrentCreates(b *testing.B) {
	env, raw, sdk := benchEnv(b)
	ctx := context.Background()
	prs := sdk.PackageRevisions("default")
	const n, workers = 40, 8
	var seqTime, rawTime, sdkTime time.Duration
	var seqFailed, rawFailed, sdkFailed, sdk2Failed int
	var sdk2Time time.Duration
	two, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig, RepositoryConcurrency: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer two.Close()
	prs2 := two.PackageRevisions("default")
	run := func(create func(i int) error) (time.Duration, int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		failed := 0
		next := make(chan int)
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					if err := create(i); err != nil {
						mu.Lock()
						failed++
						mu.Unlock()
					}
				}
			}()
		}
		for i := 0; i < n; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		return time.Since(start), failed
	}
	fresh := func(name string) string {
		b.StopTimer()
		defer b.StartTimer()
		if _, err := env.RegisterRepository(ctx, name); err != nil {
			b.Fatal(err)
		}
		return name
	}
	sdkMode := func(prefix string, c porch.PackageRevisions, total *time.Duration, failed *int) func(int) {
		return func(it int) {
			repo := fresh(fmt.Sprintf("%s-%d", prefix, it))
			d, f := run(func(i int) error {
				_, err := c.Init(ctx, repo, fmt.Sprintf("p%d", i), "v1")
				return err
			})
			*total, *failed = *total+d, *failed+f
		}
	}
	// The four modes run in turn on fresh repositories; the order rotates
	// every iteration so that none always meets a server holding fewer
	// repositories than the others.
	modes := []func(it int){
		func(it int) {
			repo := fresh(fmt.Sprintf("seq-%d", it))
			start := time.Now()
			for i := 0; i < n; i++ {
				if _, err := rawCreate(ctx, raw, repo, fmt.Sprintf("p%d", i), "v1"); err != nil {
					seqFailed++
				}
			}
			seqTime += time.Since(start)
		},
		func(it int) {
			repo := fresh(fmt.Sprintf("raw-%d", it))
			d, f := run(func(i int) error {
				_, err := rawCreate(ctx, raw, repo, fmt.Sprintf("p%d", i), "v1")
				return err
			})
			rawTime, rawFailed = rawTime+d, rawFailed+f
		},
		sdkMode("sdk", prs, &sdkTime, &sdkFailed),
		sdkMode("sdk2", prs2, &sdk2Time, &sdk2Failed),
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for k := range modes {
			modes[(it+k)%len(modes)](it)
		}
	}
	total := float64(n * b.N)
	b.ReportMetric(total/seqTime.Seconds(), "raw-seq-creates/s")
	b.ReportMetric(total/rawTime.Seconds(), "raw-8way-creates/s")
	b.ReportMetric(total/sdkTime.Seconds(), "sdk-8way-creates/s")
	b.ReportMetric(float64(seqFailed), "raw-seq-failed")
	b.ReportMetric(float64(rawFailed), "raw-8way-failed")
	b.ReportMetric(float64(sdkFailed), "sdk-8way-failed")
	b.ReportMetric(seqTime.Seconds()/sdkTime.Seconds(), "sdk-8way/raw-seq")
	b.ReportMetric(total/sdk2Time.Seconds(), "sdk-limit2-8way-creates/s")
	b.ReportMetric(float64(sdk2Failed), "sdk-limit2-8way-failed")
	b.ReportMetric(0, "ns/op")
	if sdkFailed > 0 {
		b.Errorf("%d SDK creates failed", sdkFailed)
	}
}

// bigRepository writes packages published packages straight into a git
// repository (one commit, a tag per package) and registers it: 2 revisions
// per package (the tag and the branch placeholder).
func bigRepository(b testing.TB, env *porchenv.Environment, c porch.Client, name string, packages int) {
	b.Helper()
	ctx := context.Background()
	url, err := env.Git.CreateRepository(ctx, name, "main", false)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	git := func(args ...string) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir, "-c", "user.email=b@example.com", "-c", "user.name=bench"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("clone", "-q", url, ".")
	for i := 0; i < packages; i++ {
		p := filepath.Join(dir, fmt.Sprintf("pkg%04d", i))
		if err := os.MkdirAll(p, 0o755); err != nil {
			b.Fatal(err)
		}
		kf := fmt.Sprintf("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg%04d\n", i)
		if err := os.WriteFile(filepath.Join(p, "Kptfile"), []byte(kf), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	git("add", ".")
	git("commit", "-q", "-m", "packages")
	for i := 0; i < packages; i++ {
		git("tag", fmt.Sprintf("pkg%04d/v1", i))
	}
	git("push", "-q", "origin", "main", "--tags")
	repos := c.Repositories("default")
	if _, err := repos.Register(ctx, name, url); err != nil {
		b.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := repos.WaitReady(wctx, name); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCachedReads: Get and List of a repository holding 1,000
// revisions, with and without the read cache, and a check that a write is
// seen at once:
//
//	go test ./porch -run '^$' -bench CachedReads -benchtime 1x -timeout 60m
func BenchmarkCachedReads(b *testing.B) {
	env := porchenv.Setup(b, nil)
	rec := newRecorder()
	cached, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig, Instrumentation: rec})
	if err != nil {
		b.Fatal(err)
	}
	defer cached.Close()
	bigRepository(b, env, cached, "big", 500)
	ctx := context.Background()
	uncachedClient, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig, Cache: porch.CacheOptions{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	defer uncachedClient.Close()
	fresh, warm := uncachedClient.PackageRevisions("default"), cached.PackageRevisions("default")
	list, err := fresh.List(ctx, porch.InRepository("big"))
	if err != nil || len(list) != 1000 {
		b.Fatalf("%d revisions (%v), want 1000", len(list), err)
	}
	name := list[0].Name
	// Warm the cache: its watch must be running, and Porch's first burst of
	// 1,000 ADDED events (which invalidate) must have passed, before reads
	// are served from it.
	warmUp := func() {
		streak := 0
		if err := eventually.Poll(ctx, 50*time.Millisecond, 5*time.Minute, func() (bool, string) {
			before := rec.snapshot().hits
			_, _ = warm.List(ctx, porch.InRepository("big"))
			_, _ = warm.Get(ctx, name)
			if rec.snapshot().hits >= before+2 {
				streak++
			} else {
				streak = 0
			}
			return streak >= 20, fmt.Sprintf("%d reads in a row from the cache", streak)
		}); err != nil {
			b.Fatalf("the cache never started serving: %v", err)
		}
	}
	warmUp()
	var times [4]time.Duration
	ops := []func() error{
		func() error { _, err := fresh.Get(ctx, name); return err },
		func() error { _, err := warm.Get(ctx, name); return err },
		func() error { _, err := fresh.List(ctx, porch.InRepository("big")); return err },
		func() error { _, err := warm.List(ctx, porch.InRepository("big")); return err },
	}
	// Setting up 1,000 revisions takes Porch minutes, so each iteration
	// repeats the reads; run it with -benchtime 1x.
	// The uncached reads go first: Porch answers another client's reads of
	// a large repository with watch events, which empty the cache, so the
	// cached reads follow once the cache serves again.
	const reads = 20
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, k := range []int{0, 2, 1, 3} {
			if k == 1 {
				b.StopTimer()
				warmUp()
				b.StartTimer()
			}
			for r := 0; r < reads; r++ {
				start := time.Now()
				if err := ops[k](); err != nil {
					b.Fatal(err)
				}
				times[k] += time.Since(start)
			}
		}
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N*reads) }
	b.ReportMetric(per(times[0]), "get-uncached-µs")
	b.ReportMetric(per(times[1]), "get-cached-µs")
	b.ReportMetric(per(times[2]), "list-uncached-µs")
	b.ReportMetric(per(times[3]), "list-cached-µs")
	b.ReportMetric(times[0].Seconds()/times[1].Seconds(), "get-speedup")
	b.ReportMetric(times[2].Seconds()/times[3].Seconds(), "list-speedup")
	b.ReportMetric(0, "ns/op")

	// Invalidation: the cached client sees its own write at once.
	d, err := warm.Init(ctx, "big", "fresh-one", "v1")
	if err != nil {
		b.Fatal(err)
	}
	after, err := warm.List(ctx, porch.InRepository("big"))
	if err != nil || len(after) != 1001 {
		b.Fatalf("cached list after a write: %d (%v), want 1001", len(after), err)
	}
	if _, err := warm.Propose(ctx, d.Name); err != nil {
		b.Fatal(err)
	}
	if got, _ := warm.Get(ctx, d.Name); got.Spec.Lifecycle != porchapi.PackageRevisionLifecycleProposed {
		b.Fatal("cached get after propose is stale")
	}
}

// BenchmarkVersusPorchctl: the same operations through the SDK and through
// porchctl (built from the same Porch module), per operation.
func BenchmarkVersusPorchctl(b *testing.B) {
	env, _, sdk := benchEnv(b, "cli")
	ctx := context.Background()
	porchctl, err := testbin.New(testbin.Config{}).Path(ctx, "porchctl")
	if err != nil {
		b.Fatal(err)
	}
	// porchctl talks to porch-server directly, as the SDK clients here do
	// (env.KubeconfigPath would go through kube-apiserver's aggregation).
	kubeconfig := filepath.Join(b.TempDir(), "porch.kubeconfig")
	if err := kubeplane.WriteKubeconfig(kubeconfig, env.PorchConfig); err != nil {
		b.Fatal(err)
	}
	cli := func(args ...string) error {
		cmd := exec.CommandContext(ctx, porchctl, append(args, "--kubeconfig", kubeconfig, "-n", "default")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("porchctl %v: %v\n%s", args, err, out)
		}
		return nil
	}
	prs := sdk.PackageRevisions("default")
	base, err := prs.Init(ctx, "cli", "base", "v1")
	if err != nil {
		b.Fatal(err)
	}
	uncachedClient, err := porch.New(env.KubeConfig, porch.Options{PorchConfig: env.PorchConfig, Cache: porch.CacheOptions{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	defer uncachedClient.Close()
	uncached := uncachedClient.PackageRevisions("default")
	type op struct {
		name     string
		sdk, cli func(i int) error
	}
	ops := []op{
		// The SDK's default Get is served by its watch-fed cache between
		// the writes to other packages of the repository.
		{"get", func(int) error { _, err := prs.Get(ctx, base.Name); return err },
			func(int) error { return cli("rpkg", "get", base.Name) }},
		{"get-uncached", func(int) error { _, err := uncached.Get(ctx, base.Name); return err },
			func(int) error { return cli("rpkg", "get", base.Name) }},
		{"init", func(i int) error { _, err := prs.Init(ctx, "cli", fmt.Sprintf("sdk-%d", i), "v1"); return err },
			func(i int) error {
				return cli("rpkg", "init", fmt.Sprintf("cli-%d", i), "--repository", "cli", "--workspace", "v1")
			}},
		{"propose", func(i int) error { _, err := prs.Propose(ctx, fmt.Sprintf("cli.sdk-%d.v1", i)); return err },
			func(i int) error { return cli("rpkg", "propose", fmt.Sprintf("cli.cli-%d.v1", i)) }},
		{"approve", func(i int) error { _, err := prs.Approve(ctx, fmt.Sprintf("cli.sdk-%d.v1", i)); return err },
			func(i int) error { return cli("rpkg", "approve", fmt.Sprintf("cli.cli-%d.v1", i)) }},
	}
	sdkT, cliT := map[string]time.Duration{}, map[string]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, o := range ops {
			start := time.Now()
			if err := o.sdk(i); err != nil {
				b.Fatalf("sdk %s: %v", o.name, err)
			}
			sdkT[o.name] += time.Since(start)
			start = time.Now()
			if err := o.cli(i); err != nil {
				b.Fatal(err)
			}
			cliT[o.name] += time.Since(start)
		}
	}
	b.StopTimer()
	for _, o := range ops {
		b.ReportMetric(float64(sdkT[o.name].Milliseconds())/float64(b.N), o.name+"-sdk-ms")
		b.ReportMetric(float64(cliT[o.name].Milliseconds())/float64(b.N), o.name+"-porchctl-ms")
		b.ReportMetric(cliT[o.name].Seconds()/sdkT[o.name].Seconds(), o.name+"-speedup")
	}
	b.ReportMetric(0, "ns/op")
}
