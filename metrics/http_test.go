package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/metrics"
)

var testRoutes = []metrics.Route{
	{Method: "GET", Path: "/api/v1/schedules/preview", Operation: "literalBeforeParam"},
	{Method: "GET", Path: "/api/v1/schedules", Operation: "listSchedules"},
	{Method: "POST", Path: "/api/v1/schedules", Operation: "createSchedule"},
	{Method: "GET", Path: "/api/v1/schedules/{id}", Operation: "getSchedule"},
	{Method: "GET", Path: "/api/v1/schedules/{id}/runs/{run_id}", Operation: "getScheduleRun"},
	{Method: "GET", Path: "/healthz", Operation: "getHealthz"},
}

// answer replies with the status the X-Status header asks for, or writes a
// body without a status (an implicit 200).
var answer = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	switch r.Header.Get("X-Status") {
	case "":
		_, _ = w.Write([]byte("ok"))
	case "none":
	case "201":
		w.WriteHeader(http.StatusContinue) // a 1xx is not the answer
		w.WriteHeader(http.StatusCreated)
	case "404":
		w.WriteHeader(http.StatusNotFound)
		w.WriteHeader(http.StatusInternalServerError) // superfluous: the client got the 404
	}
})

func TestInstrumentHTTPByOperationAndCode(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	h := m.InstrumentHTTP(testRoutes, answer)
	for _, rq := range []struct{ method, path, status string }{
		{"GET", "/api/v1/schedules", ""},
		{"GET", "/api/v1/schedules", ""},
		{"POST", "/api/v1/schedules", "201"},
		{"GET", "/api/v1/schedules/8d9f", "404"},
		{"GET", "/api/v1/schedules/preview", ""},
		{"GET", "/api/v1/schedules/8d9f/runs/r1", "none"},
		{"HEAD", "/healthz", ""},
		{"GET", "/api/v1/schedules/", "404"},           // trailing slash
		{"GET", "/api/v1/schedules/8d9f/runs/", "404"}, // empty parameter
		{"DELETE", "/api/v1/schedules", "404"},         // method the path does not take
		{"GET", "/metrics", "404"},
	} {
		req := httptest.NewRequest(rq.method, rq.path, nil)
		if rq.status != "" {
			req.Header.Set("X-Status", rq.status)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	got := map[string]float64{}
	for _, mt := range family(t, m, "schedsvc_http_requests_total").GetMetric() {
		got[labels(mt)] = mt.GetCounter().GetValue()
	}
	require.Equal(t, map[string]float64{
		"code=200,operation=listSchedules":      2,
		"code=201,operation=createSchedule":     1,
		"code=404,operation=getSchedule":        1,
		"code=200,operation=literalBeforeParam": 1,
		"code=200,operation=getScheduleRun":     1,
		"code=200,operation=getHealthz":         1,
		"code=404,operation=unmatched":          4,
	}, got)

	var samples uint64
	for _, mt := range family(t, m, "schedsvc_http_request_duration_seconds").GetMetric() {
		samples += mt.GetHistogram().GetSampleCount()
	}
	require.EqualValues(t, 11, samples, "every request is timed")
	require.Zero(t, family(t, m, "schedsvc_http_requests_in_flight").GetMetric()[0].GetGauge().GetValue())
}

func TestInstrumentHTTPNilIsTheHandler(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	rec := httptest.NewRecorder()
	m.InstrumentHTTP(testRoutes, answer).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	require.Equal(t, "ok", rec.Body.String())
}

// TestInstrumentHTTPKeepsFlush: streaming handlers reach the connection
// through http.ResponseController, which needs Unwrap.
func TestInstrumentHTTPKeepsFlush(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	h := m.InstrumentHTTP(testRoutes, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, http.NewResponseController(w).Flush())
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	require.True(t, rec.Flushed)
}

// BenchmarkInstrumentHTTP is the middleware's cost per request over a
// handler that does nothing: a route deep in the table, a status code
// already seen.
func BenchmarkInstrumentHTTP(b *testing.B) {
	m := metrics.New()
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", noop},
		{"instrumented", m.InstrumentHTTP(testRoutes, noop)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v1/schedules/8d9f/runs/r1", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}

// TestInstrumentHTTPConcurrentFirstUse: many first requests of the same
// (operation, code) race to fill its slot; all are counted once each.
func TestInstrumentHTTPConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	h := m.InstrumentHTTP(testRoutes, answer)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
		})
	}
	wg.Wait()
	mt := family(t, m, "schedsvc_http_requests_total").GetMetric()
	require.Len(t, mt, 1)
	require.EqualValues(t, 16, mt[0].GetCounter().GetValue())
}
