package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Route is one operation of the API: its method, its path template as the
// spec writes it ("/api/v1/schedules/{id}") and its operationId.
type Route struct {
	Method, Path, Operation string
}

// InstrumentHTTP counts and times every request next serves, labelled with
// the operationId of the route it matches (Unmatched otherwise) and the
// status code it was answered with. Wrap it outermost, so that the time
// includes every middleware and the status is the one the client got.
//
// Per request it matches the path against the templates in place, and
// reaches the counter and histogram of an (operation, code) pair through a
// table filled on first use: no label lookups, no per-request allocation
// beyond a pooled response writer.
func (m *Metrics) InstrumentHTTP(routes []Route, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	in := &instrumented{m: m, next: next, unmatched: m.newOperation(Unmatched)}
	for _, r := range routes {
		in.routes = append(in.routes, compiledRoute{method: r.Method, segs: splitTemplate(r.Path), op: m.newOperation(r.Operation)})
	}
	return in
}

type instrumented struct {
	m         *Metrics
	next      http.Handler
	routes    []compiledRoute
	unmatched *operation
}

func (in *instrumented) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	op := in.match(r.Method, r.URL.Path)
	in.m.httpInFlight.Inc()
	cw := codeWriterPool.Get().(*codeWriter)
	cw.ResponseWriter, cw.code = w, 0
	defer func() {
		code := cw.code
		if code == 0 {
			// The handler wrote nothing: net/http answers 200.
			code = http.StatusOK
		}
		cw.ResponseWriter = nil
		codeWriterPool.Put(cw)
		s := op.series(code)
		s.requests.Inc()
		s.duration.Observe(time.Since(start).Seconds())
		in.m.httpInFlight.Dec()
	}()
	in.next.ServeHTTP(cw, r)
}

func (in *instrumented) match(method, path string) *operation {
	n := strings.Count(path, "/")
	for i := range in.routes {
		rt := &in.routes[i]
		// net/http serves HEAD with a GET route's handler.
		if len(rt.segs) == n && (rt.method == method || (method == http.MethodHead && rt.method == http.MethodGet)) && rt.matches(path) {
			return rt.op
		}
	}
	return in.unmatched
}

// compiledRoute is a path template split into segments; a segment that is
// empty stands for a path parameter.
type compiledRoute struct {
	method string
	segs   []string
	op     *operation
}

func splitTemplate(path string) []string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = ""
		}
	}
	return segs
}

// matches walks a path with as many segments as the template without
// splitting it. A parameter matches any non-empty segment, so a trailing
// slash matches nothing, as in the router.
func (rt *compiledRoute) matches(path string) bool {
	p := path
	for _, seg := range rt.segs {
		p = p[1:] // the '/' before the segment: match counted them
		if seg != "" {
			if !strings.HasPrefix(p, seg) || (len(p) > len(seg) && p[len(seg)] != '/') {
				return false
			}
			p = p[len(seg):]
			continue
		}
		i := 0
		for i < len(p) && p[i] != '/' {
			i++
		}
		if i == 0 {
			return false
		}
		p = p[i:]
	}
	return p == ""
}

// operation holds the series of one operationId, one slot per status code,
// filled on first use.
type operation struct {
	name  string
	m     *Metrics
	codes [500]atomic.Pointer[series] // codes 100..599
	other sync.Map                    // any other code: int -> *series
}

type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func (m *Metrics) newOperation(name string) *operation {
	return &operation{name: name, m: m}
}

func (o *operation) series(code int) *series {
	if code < 100 || code > 599 {
		if s, ok := o.other.Load(code); ok {
			return s.(*series)
		}
		s, _ := o.other.LoadOrStore(code, o.newSeries(code))
		return s.(*series)
	}
	slot := &o.codes[code-100]
	if s := slot.Load(); s != nil {
		return s
	}
	// Two first requests may both build the series; the vectors return
	// the same children, so either pointer will do.
	s := o.newSeries(code)
	slot.Store(s)
	return s
}

func (o *operation) newSeries(code int) *series {
	c := strconv.Itoa(code)
	return &series{
		requests: o.m.httpRequests.WithLabelValues(o.name, c),
		duration: o.m.httpDuration.WithLabelValues(o.name, c),
	}
}

// codeWriter notes the status code; Unwrap lets http.ResponseController
// reach the connection's Flush and deadlines.
type codeWriter struct {
	http.ResponseWriter
	code int
}

var codeWriterPool = sync.Pool{New: func() any { return new(codeWriter) }}

func (w *codeWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 { // a 1xx is not the answer
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *codeWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *codeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
