package config_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/nephoran/porchkit/config"
)

func TestBuildTracing(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		cfg := config.Default()
		cfg.Porch.APIURL, cfg.Porch.Auth.Method, cfg.Porch.Auth.Token = porchServer(t, "t"), config.AuthToken, config.SecretValue("t")
		cfg.Observability.Tracing.Enabled = enabled
		listWorks(t, build(t, cfg, config.BuildOptions{TracerProvider: tp}))
		if got := len(rec.Ended()); (got > 0) != enabled {
			t.Errorf("tracing.enabled %v: %d spans", enabled, got)
		}
	}
}
