package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-redis/redis_rate/v10"
	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"

	"schedsvc/config"
	"schedsvc/gen/api"
	"schedsvc/problem"
	"schedsvc/schedules"
	"schedsvc/server"
	"schedsvc/store"
	"schedsvc/testenv"
)

const testSecret = "integration-test-secret-of-at-least-32-bytes"

func init() {
	// kin-openapi decodes no HTML or JavaScript bodies, and would parse a
	// YAML one into an object; to the spec all three are text.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/javascript", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
}

// specRouter matches responses to the operation they answer, so every
// response a test sees is checked against api/openapi.yaml.
var specRouter = func() routers.Router {
	doc, err := api.GetSwagger()
	if err != nil {
		panic(err)
	}
	doc.Servers = nil
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		panic(err)
	}
	return r
}()

type testBundle struct {
	url        string
	manager    *schedules.Manager
	reconciler *schedules.Reconciler
	apiKeys    *server.APIKeyStore
}

type setupOptions struct {
	limits    schedules.Limits
	temporal  client.Client
	callTO    time.Duration
	redisURL  string
	rateLimit config.RateLimit
	log       *slog.Logger
	maxBody   int64
	idemTTL   time.Duration
	tracer    trace.TracerProvider
}

// unlimited is the rate-limit tier tests get unless they test limits.
var unlimited = redis_rate.Limit{Rate: 1_000_000, Burst: 1_000_000, Period: time.Minute}

func setup(t testing.TB, opts ...func(*setupOptions)) *testBundle {
	t.Helper()
	if env.temporal == nil {
		t.Skip("integration test: needs PostgreSQL, Redis and Temporal (run without -short)")
	}
	cfg := testConfig(t)
	o := setupOptions{limits: cfg.Limits, temporal: env.tc, callTO: 10 * time.Second, redisURL: testenv.RedisURL(),
		rateLimit: cfg.RateLimit, log: slog.New(slog.NewTextHandler(io.Discard, nil)), maxBody: 16 << 10, idemTTL: cfg.IdempotencyTTL}
	o.rateLimit.Tiers = map[string]redis_rate.Limit{cfg.RateLimit.DefaultTier: unlimited}
	o.limits.MinInterval = time.Minute
	for _, f := range opts {
		f(&o)
	}
	log := o.log
	st := store.New(env.db.Pool)
	tc := schedules.TemporalConfig{Namespace: env.temporal.Namespace(), TaskQueue: env.taskQueue, CallTimeout: o.callTO, CatchupWindow: time.Minute}
	manager := schedules.NewManager(st, o.temporal, o.limits, tc, log)
	apiKeys := server.NewAPIKeyStore(st, log)
	auth, err := server.NewAuthenticator(server.AuthConfig{Secret: []byte(testSecret), Leeway: 5 * time.Second, APIKeys: apiKeys})
	require.NoError(t, err)
	ropts, err := redis.ParseURL(o.redisURL)
	require.NoError(t, err)
	ropts.DialTimeout = 300 * time.Millisecond
	ropts.ContextTimeoutEnabled = true
	rdb := redis.NewClient(ropts)
	t.Cleanup(func() { _ = rdb.Close() })
	h, err := server.NewServer(server.Deps{
		Manager: manager, Auth: auth, Store: st, Redis: rdb, Temporal: o.temporal, Log: log, MaxBodyBytes: o.maxBody,
		RateLimit: o.rateLimit, IdempotencyTTL: o.idemTTL, Tracer: o.tracer,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testBundle{url: srv.URL, manager: manager, reconciler: schedules.NewReconciler(st, o.temporal.ScheduleClient(), tc, log), apiKeys: apiKeys}
}

// testConfig is the configured defaults with every executor the tests'
// worker runs enabled (echo stays off, so tests can ask for one that is not).
func testConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"EXECUTORS_ENABLED": "llm,http,workflow"}[k]
	})
	require.NoError(t, err)
	return cfg
}

// newOwner returns a user of a tenant no other test uses.
func newOwner() schedules.Owner {
	return schedules.Owner{UserID: "user-" + randomHex(), TenantID: "tenant-" + randomHex()}
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func tokenFor(t testing.TB, o schedules.Owner) string {
	t.Helper()
	return signToken(t, jwt.MapClaims{"sub": o.UserID, "tenant_id": o.TenantID, "exp": time.Now().Add(time.Hour).Unix()})
}

func signToken(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testSecret))
	require.NoError(t, err)
	return s
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

func (r response) problem(t *testing.T) api.Problem {
	t.Helper()
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "body: %s", r.body)
	var p api.Problem
	r.decode(t, &p)
	return p
}

// request is one call to the API.
type request struct {
	method, path, token string
	body                any    // marshalled as JSON unless raw is set
	raw                 []byte // sent as is
	contentType         string
	apiKey              string            // sent as X-API-Key
	header              map[string]string // further request headers
}

// do sends the request and checks the response against the spec: status,
// headers and body must all be declared for that operation.
func (b *testBundle) do(t *testing.T, rq request) response {
	t.Helper()
	req, out, err := b.send(rq)
	require.NoError(t, err)
	checkResponse(t, rq, req, out)
	return out
}

// send sends the request without checking anything, so that it can run on
// any goroutine; checkResponse checks its answer afterwards.
func (b *testBundle) send(rq request) (*http.Request, response, error) {
	var body io.Reader
	switch {
	case rq.raw != nil:
		body = bytes.NewReader(rq.raw)
	case rq.body != nil:
		raw, err := json.Marshal(rq.body)
		if err != nil {
			return nil, response{}, err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), rq.method, b.url+rq.path, body)
	if err != nil {
		return nil, response{}, err
	}
	if body != nil {
		ct := rq.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	if rq.apiKey != "" {
		req.Header.Set("X-API-Key", rq.apiKey)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, response{}, err
	}
	return req, response{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

// checkResponse checks an answer against the spec: status, headers and
// body must all be declared for the operation. An answer to a request the
// spec has no operation for (an unknown path, a method a path does not
// take) must still be a problem the catalogue declares.
func checkResponse(t *testing.T, rq request, req *http.Request, out response) {
	t.Helper()
	require.NotEmpty(t, out.header.Get("X-Request-Id"), "every response carries X-Request-Id")
	route, params, err := specRouter.FindRoute(req)
	if err != nil || (out.status >= 400 && rq.path != "/readyz") {
		checkProblem(t, rq, out)
	}
	if err != nil {
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 out.status,
		Header:                 out.header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes(out.body)
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), input),
		"%s %s answered %d, which the spec does not allow: %s", rq.method, rq.path, out.status, out.body)
}

// checkProblem requires a problem+json body whose type, status and title
// are the catalogue's. No test expects an internal error: one is a bug,
// such as a kind the catalogue lacks, which the server answers as internal.
func checkProblem(t *testing.T, rq request, out response) {
	t.Helper()
	where := fmt.Sprintf("%s %s answered %d", rq.method, rq.path, out.status)
	require.Equal(t, problem.MediaType, out.header.Get("Content-Type"), "%s; errors are problem+json: %s", where, out.body)
	var p api.Problem
	require.NoError(t, json.Unmarshal(out.body, &p), "%s: %s", where, out.body)
	kind, ok := strings.CutPrefix(string(p.Type), problem.TypeBase)
	e, known := problem.Lookup(problem.Kind(kind))
	require.True(t, ok && known, "%s with problem type %q, which the catalogue does not declare", where, p.Type)
	require.NotEqual(t, problem.Internal, problem.Kind(kind), "%s: an unexpected internal error: %s", where, out.body)
	require.Equal(t, e.Status, out.status, "%s, but the catalogue gives %s status %d", where, kind, e.Status)
	require.Equal(t, e.Status, p.Status, "%s: body status", where)
	require.Equal(t, e.Title, p.Title, "%s: title of %s", where, kind)
	if out.status == http.StatusMethodNotAllowed {
		require.NotEmpty(t, out.header.Get("Allow"), "%s without Allow (RFC 9110)", where)
	}
}

// createSchedule creates a schedule and returns its id.
func (b *testBundle) createSchedule(t *testing.T, token string, body map[string]any) string {
	t.Helper()
	resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: token, body: body})
	require.Equal(t, http.StatusCreated, resp.status, "body: %s", resp.body)
	var created api.ScheduleCreated
	resp.decode(t, &created)
	require.Equal(t, "/api/v1/schedules/"+created.ScheduleId.String(), resp.header.Get("Location"))
	return created.ScheduleId.String()
}

func (b *testBundle) getSchedule(t *testing.T, token, id string) api.Schedule {
	t.Helper()
	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules/" + id, token: token})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	var s api.Schedule
	resp.decode(t, &s)
	return s
}

func dailyBody(name string) map[string]any {
	return map[string]any{
		"name":            name,
		"cron_expression": "0 9 * * MON-FRI",
		"timezone":        "Europe/Berlin",
		"task_query":      "Summarise yesterday's tickets",
		"task_context":    map[string]any{"channel": "#support"},
	}
}
