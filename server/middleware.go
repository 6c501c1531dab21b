package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"schedsvc/problem"
	"schedsvc/schedules"
)

type requestIDKey struct{}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// validRequestID accepts a caller's request id only when it is safe to echo
// into headers and logs.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// statusWriter records the status for the access log and pins
// X-Request-Id at header-write time: generated responses set every
// declared header, and would otherwise blank it.
type statusWriter struct {
	http.ResponseWriter
	requestID string
	status    int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.Header().Set("X-Request-Id", w.requestID)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessEntry collects what inner handlers learn about a request (who made
// it, whether a problem kind was missing from the catalogue) for the log
// lines that observe writes when the request is done.
type accessEntry struct {
	owner    *schedules.Owner
	unmapped problem.Kind
}

type accessEntryKey struct{}

// noteOwner records the authenticated owner for the access log.
func noteOwner(ctx context.Context, o schedules.Owner) {
	if e, ok := ctx.Value(accessEntryKey{}).(*accessEntry); ok {
		e.owner = &o
	}
}

// noteUnmappedKind records that the request was answered with a problem
// kind the catalogue lacks, for observe to log as the bug it is.
func noteUnmappedKind(ctx context.Context, k problem.Kind) {
	if e, ok := ctx.Value(accessEntryKey{}).(*accessEntry); ok {
		e.unmapped = k
	}
}

// observe gives every request an id, logs it when done, and turns a panic
// into a 500 problem.
func observe(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			var b [16]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		entry := &accessEntry{}
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		r = r.WithContext(context.WithValue(ctx, accessEntryKey{}, entry))
		sw := &statusWriter{ResponseWriter: w, requestID: id}
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()), "request_id", id)
				if sw.status == 0 {
					writeProblem(sw, r, problem.Internal, "an unexpected error occurred; quote the request id when reporting it", nil)
				}
			}
			if entry.unmapped != "" {
				log.ErrorContext(r.Context(), "problem kind not in the catalogue; answered internal", "kind", string(entry.unmapped), "request_id", id)
			}
			attrs := []any{"method", r.Method, "path", r.URL.Path, "status", sw.status,
				"duration_ms", time.Since(start).Milliseconds(), "request_id", id}
			if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
				attrs = append(attrs, "trace_id", sc.TraceID().String())
			}
			if entry.owner != nil {
				attrs = append(attrs, "user_id", entry.owner.UserID, "tenant_id", entry.owner.TenantID)
			}
			log.InfoContext(r.Context(), "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// limitBody buffers the request body up to max bytes, answering 413 beyond
// it, and requires JSON for any request that carries a body.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeProblem(w, r, problem.BodyTooLarge, fmt.Sprintf("the request body must not exceed %d bytes", max), nil)
			return
		}
		if r.Body == nil || r.Body == http.NoBody {
			// The server's way of saying there is none (no Content-Length,
			// no chunks): nothing to buffer.
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeProblem(w, r, problem.BodyTooLarge, fmt.Sprintf("the request body must not exceed %d bytes", max), nil)
				return
			}
			writeProblem(w, r, problem.InvalidRequest, "the request body could not be read", nil)
			return
		}
		if len(body) > 0 {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeProblem(w, r, problem.UnsupportedMediaType, "request bodies must be sent as Content-Type: application/json", nil)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// unrecordedSpans is otelhttp's span handling for a provider that records
// nothing: the caller's trace context extracted (or a new trace begun) and a
// server span in the request's context, so logs, problems and Temporal calls
// carry its ids; no attributes, wrapped writers or metrics for a span that is
// dropped.
func unrecordedSpans(tp trace.TracerProvider, prop propagation.TextMapPropagator, next http.Handler) http.Handler {
	tracer := tp.Tracer("schedsvc/server")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
