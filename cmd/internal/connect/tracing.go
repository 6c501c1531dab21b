package connect

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// Tracing returns the tracer provider for a binary. With
// OTEL_EXPORTER_OTLP_ENDPOINT set, spans are exported over OTLP/HTTP (the
// exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself);
// without it, spans are not recorded, but still carry trace ids into logs
// and onward calls. Shutdown flushes what is buffered.
func Tracing(ctx context.Context, service string, getenv func(string) string) (*sdktrace.TracerProvider, error) {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))),
	}
	if ExportsSpans(getenv) {
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	} else {
		// Nothing would read a recorded span: the sampler drops them all,
		// and an unsampled span still has its ids. Recording them cost
		// about 7% of a GET's CPU (issue 9, P1 profile).
		opts = append(opts, sdktrace.WithSampler(sdktrace.NeverSample()))
	}
	return sdktrace.NewTracerProvider(opts...), nil
}

// ExportsSpans says whether Tracing's provider records and exports spans:
// an OTLP endpoint is configured.
func ExportsSpans(getenv func(string) string) bool {
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}
