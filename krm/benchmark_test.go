package krm_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/porchkit/krm"
)

var pipelineFunctions = []string{"set-namespace:v0.4.1", "set-labels:v0.2.0", "set-annotations:v0.1.4", "set-image:v0.1.1", "apply-setters:v0.2.0"}

// bigPackage is 1,000 resources (500 Deployments, 500 ConfigMaps) in ten
// files, with a five-function mutator pipeline.
func bigPackage() map[string]string {
	kf := "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: big\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\npipeline:\n  mutators:\n" +
		"  - image: gcr.io/kpt-fn/set-namespace:v0.4.1\n    configMap:\n      namespace: prod\n" +
		"  - image: gcr.io/kpt-fn/set-labels:v0.2.0\n    configMap:\n      team: blue\n" +
		"  - image: gcr.io/kpt-fn/set-annotations:v0.1.4\n    configMap:\n      owner: ops\n" +
		"  - image: gcr.io/kpt-fn/set-image:v0.1.1\n    configMap:\n      name: nginx\n      newTag: \"1.27\"\n" +
		"  - image: gcr.io/kpt-fn/apply-setters:v0.2.0\n    configMap:\n      replicas: \"3\"\n"
	files := map[string]string{"Kptfile": kf}
	for f := 0; f < 10; f++ {
		var b strings.Builder
		for i := 0; i < 50; i++ {
			fmt.Fprintf(&b, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%d-%d\nspec:\n  replicas: 1 # kpt-set: ${replicas}\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.25\n---\n", f, i)
			fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-%d-%d\ndata:\n  key: value\n---\n", f, i)
		}
		files[fmt.Sprintf("res%02d.yaml", f)] = b.String()
	}
	return files
}

// renderStats sums what a series of renders took.
type renderStats struct {
	wall, functions time.Duration
	bytes, allocs   uint64
	n               int
}

// measure renders files once, timing the whole render and its function
// runs and counting what it allocated.
func (s *renderStats) measure(b *testing.B, exec krm.Executor, files map[string]string) map[string]string {
	b.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	out, res, err := krm.Render(context.Background(), exec, files)
	s.wall += time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		b.Fatal(err)
	}
	for _, run := range res.Runs {
		s.functions += run.Run.Duration
	}
	s.bytes += after.TotalAlloc - before.TotalAlloc
	s.allocs += after.Mallocs - before.Mallocs
	s.n++
	return out
}

func (s *renderStats) report(b *testing.B, prefix string) {
	n := float64(s.n)
	b.ReportMetric(float64(s.wall.Microseconds())/1000/n, prefix+"-ms")
	b.ReportMetric(float64(s.functions.Microseconds())/1000/n, prefix+"-functions-ms")
	b.ReportMetric(float64(s.bytes)/(1<<20)/n, prefix+"-MB/render")
	b.ReportMetric(float64(s.allocs)/n, prefix+"-allocs/render")
}

// BenchmarkRenderPipeline renders the same 1,000-resource package through
// the same five catalog functions, in-process and as exec'd binaries built
// from the same Go code, side by side. "ms" is the whole render (parse,
// functions, write back), "functions-ms" the five function runs alone,
// "MB/render" and "allocs/render" what one render allocates in this
// process (an exec'd function's own memory is exec-peak-MiB); the heap is
// collected before each render so neither pays for the other's garbage:
//
//	go test ./krm -run '^$' -bench RenderPipeline -benchtime 5x
func BenchmarkRenderPipeline(b *testing.B) {
	files := bigPackage()
	inProcess := krm.NewRunner(krm.RunnerConfig{MemoSize: -1})
	reg := krm.NewRegistry()
	for _, fn := range pipelineFunctions {
		name := strings.Split(fn, ":")[0]
		if err := reg.Register(fn, krm.Executable(testfn, krm.ExecConfig{Args: []string{"catalog", name}}), krm.Capabilities{}); err != nil {
			b.Fatal(err)
		}
	}
	var peak int64
	exec := krm.NewRunner(krm.RunnerConfig{MemoSize: -1, Registry: reg, AuditSink: krm.AuditFunc(func(_ context.Context, r krm.AuditRecord) error {
		if r.Run.PeakMemory > peak {
			peak = r.Run.PeakMemory
		}
		return nil
	})})
	var in, ex renderStats
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		out := in.measure(b, inProcess, files)
		if !strings.Contains(out["res00.yaml"], "namespace: prod") || !strings.Contains(out["res00.yaml"], "replicas: 3") {
			b.Fatal("pipeline did not apply")
		}
		runtime.GC()
		if outExec := ex.measure(b, exec, files); outExec["res03.yaml"] != out["res03.yaml"] {
			b.Fatal("exec and in-process renders differ")
		}
	}
	in.report(b, "inprocess")
	ex.report(b, "exec")
	b.ReportMetric(ex.wall.Seconds()/in.wall.Seconds(), "speedup")
	b.ReportMetric(ex.functions.Seconds()/in.functions.Seconds(), "functions-speedup")
	b.ReportMetric(float64(peak)/(1<<20), "exec-peak-MiB")
}

// BenchmarkRender is the in-process render of BenchmarkRenderPipeline
// alone, so ns/op, B/op and allocs/op are one render's:
//
//	go test ./krm -run '^$' -bench 'Render$' -benchtime 20x -benchmem
func BenchmarkRender(b *testing.B) {
	files := bigPackage()
	r := krm.NewRunner(krm.RunnerConfig{MemoSize: -1})
	ctx := context.Background()
	var functions time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, res, err := krm.Render(ctx, r, files)
		if err != nil {
			b.Fatal(err)
		}
		for _, run := range res.Runs {
			functions += run.Run.Duration
		}
	}
	b.ReportMetric(float64(functions.Microseconds())/1000/float64(b.N), "functions-ms")
}
