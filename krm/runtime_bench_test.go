package krm_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/nephoran/porchkit/krm"
)

// BenchmarkRuntimes renders the same packages with the same catalog code
// in-process, as executables and as containers (podman, runc), side by
// side in one run. "*-ms" is one whole render; the ratios compare the
// runtimes; "container-run-ms" is one function's container run (engine
// start, function, removal):
//
//	go test ./krm -run '^$' -bench Runtimes -benchtime 5x
func BenchmarkRuntimes(b *testing.B) {
	p := newPodman(b)
	images := []string{"set-namespace:v0.4.1", "set-labels:v0.2.0", "set-annotations:v0.1.4", "set-image:v0.1.1",
		"apply-setters:v0.2.0", "validate-structure:v0.1.0"}
	runners := runtimesOf(b, p, images...)
	for _, pkg := range []struct {
		name  string
		files map[string]string
	}{
		{"small-package", pkgFiles()},
		{"1000-resources", bigPackage()},
	} {
		b.Run(pkg.name, func(b *testing.B) {
			ctx := context.Background()
			total := map[string]time.Duration{}
			var containerRuns int
			var containerRunTime time.Duration
			for i := 0; i < b.N; i++ {
				var want map[string]string
				for _, name := range []string{"builtin", "exec", "container"} {
					start := time.Now()
					out, res, err := krm.Render(ctx, runners[name], pkg.files)
					if err != nil {
						b.Fatalf("%s: %v", name, err)
					}
					total[name] += time.Since(start)
					if want == nil {
						want = out
					} else if !maps.Equal(out, want) {
						b.Fatalf("the %s render differs from the in-process one", name)
					}
					if name == "container" {
						for _, run := range res.Runs {
							containerRuns++
							containerRunTime += run.Run.Duration
						}
					}
				}
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(ms(total["builtin"]), "inprocess-ms")
			b.ReportMetric(ms(total["exec"]), "exec-ms")
			b.ReportMetric(ms(total["container"]), "container-ms")
			b.ReportMetric(total["exec"].Seconds()/total["builtin"].Seconds(), "exec/inprocess")
			b.ReportMetric(total["container"].Seconds()/total["builtin"].Seconds(), "container/inprocess")
			b.ReportMetric(total["container"].Seconds()/total["exec"].Seconds(), "container/exec")
			b.ReportMetric(float64(containerRunTime.Microseconds())/1000/float64(containerRuns), "container-run-ms")
		})
	}
}
