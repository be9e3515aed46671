package krm_test

import (
	"context"
	"fmt"
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

// BenchmarkRenderPipeline renders the same 1,000-resource package through
// the same five catalog functions, in-process and as exec'd binaries built
// from the same Go code, side by side. "ms" is the whole render (parse,
// functions, write back); "functions-ms" the five function runs alone:
//
//	go test ./krm -run '^$' -bench RenderPipeline -benchtime 10x
func BenchmarkRenderPipeline(b *testing.B) {
	files := bigPackage()
	ctx := context.Background()
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
	var inTime, execTime, inPipeline, execPipeline time.Duration
	pipeline := func(r *krm.RenderResult) (d time.Duration) {
		for _, run := range r.Runs {
			d += run.Run.Duration
		}
		return d
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		out, res, err := krm.Render(ctx, inProcess, files)
		if err != nil {
			b.Fatal(err)
		}
		inTime += time.Since(start)
		inPipeline += pipeline(res)
		if !strings.Contains(out["res00.yaml"], "namespace: prod") || !strings.Contains(out["res00.yaml"], "replicas: 3") {
			b.Fatal("pipeline did not apply")
		}
		start = time.Now()
		outExec, resExec, err := krm.Render(ctx, exec, files)
		if err != nil {
			b.Fatal(err)
		}
		execTime += time.Since(start)
		execPipeline += pipeline(resExec)
		if outExec["res03.yaml"] != out["res03.yaml"] {
			b.Fatal("exec and in-process renders differ")
		}
	}
	b.ReportMetric(float64(inTime.Milliseconds())/float64(b.N), "inprocess-ms")
	b.ReportMetric(float64(execTime.Milliseconds())/float64(b.N), "exec-ms")
	b.ReportMetric(execTime.Seconds()/inTime.Seconds(), "speedup")
	b.ReportMetric(float64(inPipeline.Microseconds())/1000/float64(b.N), "inprocess-functions-ms")
	b.ReportMetric(float64(execPipeline.Microseconds())/1000/float64(b.N), "exec-functions-ms")
	b.ReportMetric(execPipeline.Seconds()/inPipeline.Seconds(), "functions-speedup")
	b.ReportMetric(float64(peak)/(1<<20), "exec-peak-MiB")
}
