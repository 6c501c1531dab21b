package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Without an exporter the gateway records no span, but a request still
// continues its caller's trace, or begins one, so logs, problems and the
// Temporal calls it makes name a trace.
func TestUnrecordedSpansCarryTheTrace(t *testing.T) {
	t.Parallel()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	var seen trace.SpanContext
	recording := true
	h := unrecordedSpans(tp, prop, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		seen, recording = span.SpanContext(), span.IsRecording()
	}))

	req := httptest.NewRequest(http.MethodGet, "/api/v1/schedules", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", seen.TraceID().String(), "the caller's trace continues")
	require.NotEqual(t, "00f067aa0ba902b7", seen.SpanID().String(), "in a span of its own")
	require.False(t, recording)

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/schedules", nil))
	require.True(t, seen.IsValid(), "a request without a traceparent begins a trace")
	require.NotEqual(t, "4bf92f3577b34da6a3ce929d0e0e4736", seen.TraceID().String())
}
