package server_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestRequestsAreTraced: each request gets a span named after its
// operation that continues the caller's W3C trace, and the access log names
// the trace and the caller.
func TestRequestsAreTraced(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	logs := &syncBuffer{}
	b := setup(t, func(o *setupOptions) {
		o.tracer = tp
		o.log = slog.New(slog.NewJSONHandler(logs, nil))
	})
	o := newOwner()
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tokenFor(t, o),
		header: map[string]string{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"}})
	require.Equal(t, http.StatusOK, resp.status)

	ended := spans.Ended()
	require.Len(t, ended, 1)
	span := ended[0]
	require.Equal(t, "GET /api/v1/schedules", span.Name())
	require.Equal(t, traceID, span.SpanContext().TraceID().String(), "the caller's trace continues")
	require.Equal(t, "00f067aa0ba902b7", span.Parent().SpanID().String())
	attrs := map[attribute.Key]attribute.Value{}
	for _, a := range span.Attributes() {
		attrs[a.Key] = a.Value
	}
	require.True(t, strings.EqualFold("listSchedules", attrs["openapi.operation_id"].AsString()), attrs["openapi.operation_id"].AsString())
	require.EqualValues(t, 200, attrs["http.response.status_code"].AsInt64())

	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			line = l
		}
	}
	require.Contains(t, line, `"trace_id":"`+traceID+`"`)
	require.Contains(t, line, `"user_id":"`+o.UserID+`"`)
	require.Contains(t, line, `"tenant_id":"`+o.TenantID+`"`)
}
