package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
	"schedsvc/notify"
	"schedsvc/ptrutil"
	"schedsvc/schedules"
	"schedsvc/store"
)

// The mock walk and the proxy contract walk run Prism (pinned in package.json, installed by
// `make tools-node`) against the spec, and the real server built by setup.

const prismBin = "../node_modules/.bin/prism"

// startPrism runs `prism <args>` on a free port and returns its URL once it answers.
func startPrism(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	if _, err := os.Stat(prismBin); err != nil {
		require.Fail(t, "Prism is not installed: run `make tools-node` (make test does)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	logs := &syncBuffer{}
	cmd := exec.Command(prismBin, append(args, "--host", "127.0.0.1", "--port", fmt.Sprint(port))...)
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			return url, logs
		}
		require.True(t, time.Now().Before(deadline), "Prism did not start:\n%s", logs.String())
		time.Sleep(200 * time.Millisecond)
	}
}

// call is one HTTP request of a walk.
type call struct {
	name, method, path string
	header             map[string]string
	body               string // sent as application/json when set
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (c call) send(t *testing.T, base string) answer {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(context.Background(), c.method, base+c.path, body)
	require.NoError(t, err)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{resp.StatusCode, resp.Header, raw}
}

func (a answer) problemType() string {
	var p struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(a.body, &p) != nil || p.Type == "" {
		return "(no problem body)"
	}
	return strings.TrimPrefix(p.Type, "https://schedsvc.dev/problems/")
}

// specOperations lists "METHOD /path" → operation of the embedded spec.
func specOperations(t *testing.T) (map[string]*openapi3.Operation, *openapi3.T) {
	t.Helper()
	doc, err := api.GetSwagger()
	require.NoError(t, err)
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			// The embedded spec names operations as the generated code does (CreateSchedule).
			ops[strings.ToLower(op.OperationID[:1])+op.OperationID[1:]] = op
			_ = path
			_ = method
		}
	}
	return ops, doc
}

// validCalls returns a valid request for every operation of the spec, in an order that works
// on a real server (delete last), with ids for the schedule and the run.
func validCalls(t *testing.T, auth map[string]string, scheduleID, runID string) map[string]call {
	t.Helper()
	s := "/api/v1/schedules/" + scheduleID
	create := `{"name":"Hourly price check","cron_expression":"@hourly","task_query":"Check the prices.",` +
		`"notify":{"url":"https://hooks.example.com/schedsvc","on":["FAILED","SCHEDULE_PAUSED"]}}`
	// The past week: the updated weekday expression fires in it, fewer times than the maximum.
	backfill := fmt.Sprintf(`{"start":%q,"end":%q,"overlap_policy":"ALLOW_ALL"}`,
		time.Now().UTC().AddDate(0, 0, -7).Format(time.RFC3339), time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))
	return map[string]call{
		"createSchedule":     {method: "POST", path: "/api/v1/schedules", header: auth, body: create},
		"listSchedules":      {method: "GET", path: "/api/v1/schedules?page_size=10&status=ACTIVE", header: auth},
		"getSchedule":        {method: "GET", path: s, header: auth},
		"updateSchedule":     {method: "PUT", path: s, header: auth, body: `{"cron_expression":"0 10 * * MON-FRI","max_budget_per_run_usd":0.5}`},
		"pauseSchedule":      {method: "POST", path: s + "/pause", header: auth, body: `{"reason":"Quarter-end freeze"}`},
		"resumeSchedule":     {method: "POST", path: s + "/resume", header: auth},
		"triggerSchedule":    {method: "POST", path: s + "/trigger", header: auth, body: `{"overlap_policy":"ALLOW_ALL"}`},
		"backfillSchedule":   {method: "POST", path: s + "/backfill", header: auth, body: backfill},
		"listScheduleRuns":   {method: "GET", path: s + "/runs?page_size=5", header: auth},
		"getScheduleRun":     {method: "GET", path: s + "/runs/" + runID, header: auth},
		"listScheduleEvents": {method: "GET", path: s + "/events?page_size=5", header: auth},
		"previewCron":        {method: "GET", path: "/api/v1/cron/preview?cron_expression=0%209%20*%20*%20MON-FRI&timezone=Europe/Berlin&count=3", header: auth},
		"getHealthz":         {method: "GET", path: "/healthz"},
		"getReadyz":          {method: "GET", path: "/readyz"},
		"getOpenAPIYAML":     {method: "GET", path: "/openapi.yaml"},
		"getOpenAPIJSON":     {method: "GET", path: "/openapi.json"},
		"getDocs":            {method: "GET", path: "/docs"},
		"getDocsScript":      {method: "GET", path: "/docs/redoc.standalone.js"},
		"deleteSchedule":     {method: "DELETE", path: s, header: auth},
	}
}

var walkOrder = []string{"createSchedule", "listSchedules", "getSchedule", "updateSchedule", "pauseSchedule",
	"resumeSchedule", "triggerSchedule", "backfillSchedule", "listScheduleRuns", "getScheduleRun", "listScheduleEvents", "previewCron", "getHealthz", "getReadyz",
	"getOpenAPIYAML", "getOpenAPIJSON", "getDocs", "getDocsScript", "deleteSchedule"}

// invalidCalls are requests the server refuses before any handler; the mock must refuse them
// with the same status and problem type. scheduleID must exist on the real server.
func invalidCalls(auth map[string]string, scheduleID string) []call {
	s := "/api/v1/schedules/" + scheduleID
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range auth {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	return []call{
		{name: "create without name", method: "POST", path: "/api/v1/schedules", header: auth, body: `{"cron_expression":"@hourly","task_query":"q"}`},
		{name: "create with an unknown field", method: "POST", path: "/api/v1/schedules", header: auth, body: `{"name":"n","cron_expression":"@hourly","task_query":"q","cronExpression":"x"}`},
		{name: "create with a bad enum", method: "POST", path: "/api/v1/schedules", header: auth, body: `{"name":"n","cron_expression":"@hourly","task_query":"q","overlap_policy":"NEVER"}`},
		{name: "create with timeout out of range", method: "POST", path: "/api/v1/schedules", header: auth, body: `{"name":"n","cron_expression":"@hourly","task_query":"q","timeout_seconds":0}`},
		{name: "create with a bad Idempotency-Key", method: "POST", path: "/api/v1/schedules", header: with(map[string]string{"Idempotency-Key": "two words"}), body: `{"name":"n","cron_expression":"@hourly","task_query":"q"}`},
		{name: "create with malformed JSON", method: "POST", path: "/api/v1/schedules", header: auth, body: `{"name":`},
		{name: "create with an empty notify.on", method: "POST", path: "/api/v1/schedules", header: auth, body: `{"name":"n","cron_expression":"@hourly","task_query":"q","notify":{"url":"https://hooks.example.com/x","on":[]}}`},
		{name: "create with a notify kind twice", method: "POST", path: "/api/v1/schedules", header: auth, body: `{"name":"n","cron_expression":"@hourly","task_query":"q","notify":{"url":"https://hooks.example.com/x","on":["FAILED","FAILED"]}}`},
		{name: "update with null name", method: "PUT", path: s, header: auth, body: `{"name":null}`},
		{name: "pause with an unknown field", method: "POST", path: s + "/pause", header: auth, body: `{"why":"x"}`},
		{name: "trigger with a bad enum", method: "POST", path: s + "/trigger", header: auth, body: `{"overlap_policy":"NEVER"}`},
		{name: "backfill without end", method: "POST", path: s + "/backfill", header: auth, body: `{"start":"2026-11-23T00:00:00Z"}`},
		{name: "delete with a bad Idempotency-Key", method: "DELETE", path: s, header: with(map[string]string{"Idempotency-Key": "two words"})},
		{name: "list with page_size 500", method: "GET", path: "/api/v1/schedules?page_size=500", header: auth},
		{name: "get with a malformed id", method: "GET", path: "/api/v1/schedules/not-a-uuid", header: auth},
		{name: "preview without cron_expression", method: "GET", path: "/api/v1/cron/preview", header: auth},
		{name: "preview with count 0", method: "GET", path: "/api/v1/cron/preview?cron_expression=@hourly&count=0", header: auth},
		{name: "list without credentials", method: "GET", path: "/api/v1/schedules"},
	}
}

// mockTypeDiffers names the invalid requests whose problem type the mock cannot match, with
// the reason; their status must still match.
var mockTypeDiffers = map[string]string{
	"create with an unknown field": "Prism answers every schema violation with the first example of the declared 400 (invalid-request); it cannot tell an undeclared field apart",
	"pause with an unknown field":  "same as above",
	"create with malformed JSON":   "Prism's HTTP server rejects unparsable JSON itself, before validation, with its own non-problem body (stoplightio/prism#2664)",
}

func requireAllOperations(t *testing.T, calls map[string]call) {
	t.Helper()
	ops, _ := specOperations(t)
	var missing []string
	for id := range ops {
		if _, ok := calls[id]; !ok {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "operations of the spec the walk does not call")
	require.Len(t, walkOrder, len(ops))
}

// firstExample is the lowest 2xx of the operation and its first example body (nil without body).
func firstExample(t *testing.T, op *openapi3.Operation) (int, any) {
	t.Helper()
	for code := 200; code < 300; code++ {
		r := op.Responses.Status(code)
		if r == nil {
			continue
		}
		m := r.Value.Content.Get("application/json")
		if m == nil {
			return code, nil
		}
		if m.Example != nil {
			return code, m.Example
		}
		var names []string
		for n := range m.Examples {
			names = append(names, n)
		}
		require.NotEmpty(t, names, "%s %d has no example", op.OperationID, code)
		// Prism takes the first example in document order; the spec keeps one per 2xx or
		// puts the default first, so compare with any.
		return code, m.Examples
	}
	t.Fatalf("%s has no 2xx", op.OperationID)
	return 0, nil
}

func TestMockWalk(t *testing.T) {
	b := setup(t)
	mock, logs := startPrism(t, "mock", "../api/openapi.yaml")
	ops, _ := specOperations(t)

	mockAuth := map[string]string{"Authorization": "Bearer mock"}
	calls := validCalls(t, mockAuth, "3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05", "5d3b9f20-8e4a-4c61-b7d9-0a2f6e1c8b47")
	requireAllOperations(t, calls)
	for _, id := range walkOrder {
		c := calls[id]
		got := c.send(t, mock)
		code, want := firstExample(t, ops[id])
		require.Equal(t, code, got.status, "mock %s: %s\n%s", id, got.body, logs.String())
		require.Empty(t, got.header.Get("Idempotent-Replayed"), "mock %s marks a first answer as replayed", id)
		if want == nil {
			continue
		}
		var body any
		require.NoError(t, json.Unmarshal(got.body, &body), "mock %s: %s", id, got.body)
		if exs, ok := want.(openapi3.Examples); ok {
			var match bool
			for _, ex := range exs {
				match = match || equalJSON(t, ex.Value.Value, body)
			}
			require.True(t, match, "mock %s answered none of the declared examples: %s", id, got.body)
		} else {
			require.True(t, equalJSON(t, want, body), "mock %s: %s", id, got.body)
		}
		t.Logf("mock %-17s %s %s → %d, the declared example", id, c.method, c.path, got.status)
	}

	token := tokenFor(t, newOwner())
	realAuth := map[string]string{"Authorization": "Bearer " + token}
	id := b.createSchedule(t, token, dailyBody("walk"))
	var table []string
	for _, c := range invalidCalls(mockAuth, "3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05") {
		m := c.send(t, mock)
		rc := c
		if c.header != nil {
			rc.header = map[string]string{}
			for k, v := range c.header {
				rc.header[k] = v
			}
			if _, ok := rc.header["Authorization"]; ok {
				rc.header["Authorization"] = realAuth["Authorization"]
			}
		}
		rc.path = strings.ReplaceAll(c.path, "3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05", id)
		s := rc.send(t, b.url)
		require.Equal(t, s.status, m.status, "%s: server %d %s, mock %d %s", c.name, s.status, s.body, m.status, m.body)
		note := "same"
		if why, ok := mockTypeDiffers[c.name]; ok {
			note = "type differs: " + why
		} else {
			require.Equal(t, s.problemType(), m.problemType(), "%s: server %s, mock %s", c.name, s.body, m.body)
		}
		table = append(table, fmt.Sprintf("| %s | %d %s | %d %s | %s |", c.name, m.status, m.problemType(), s.status, s.problemType(), note))
	}
	t.Logf("\n| request | mock | server | |\n|---|---|---|---|\n%s", strings.Join(table, "\n"))
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ra, err := json.Marshal(a)
	require.NoError(t, err)
	rb, err := json.Marshal(b)
	require.NoError(t, err)
	var x, y any
	require.NoError(t, json.Unmarshal(ra, &x))
	require.NoError(t, json.Unmarshal(rb, &y))
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// TestContractWalk sends a valid request for every operation through Prism's validating proxy
// to the real server; with --errors Prism turns any response violation into an error answer,
// and it logs request violations: both must be absent.
func TestContractWalk(t *testing.T) {
	b := setup(t, withNotify)
	proxy, logs := startPrism(t, "proxy", "../api/openapi.yaml", b.url, "--errors")
	token := tokenFor(t, newOwner())
	auth := map[string]string{"Authorization": "Bearer " + token}

	created := validCalls(t, auth, "", "")["createSchedule"].send(t, proxy)
	require.Equal(t, http.StatusCreated, created.status, "%s\n%s", created.body, logs.String())
	var c api.ScheduleCreated
	require.NoError(t, json.Unmarshal(created.body, &c))
	runID := recordRun(t, c.ScheduleId)
	calls := validCalls(t, auth, c.ScheduleId.String(), runID.String())
	requireAllOperations(t, calls)
	for _, id := range walkOrder[1:] {
		cl := calls[id]
		got := cl.send(t, proxy)
		require.Empty(t, got.header.Get("sl-violations"), "%s: Prism reports violations", id)
		require.Less(t, got.status, 300, "%s: %d %s", id, got.status, got.body)
		t.Logf("proxy %-17s %s %s → %d", id, cl.method, cl.path, got.status)
	}
	require.NotContains(t, logs.String(), "Violation:", "Prism logged violations:\n%s", logs.String())
}

// recordRun records one finished run of the schedule the way the worker
// does, so the run endpoints answer with a body to check rather than 404.
func recordRun(t *testing.T, scheduleID uuid.UUID) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	st := store.New(env.db.Pool)
	rec := schedules.NewRecorder(st, nil)
	at := time.Now().UTC().Truncate(time.Minute)
	wf := "scheduled-run-" + scheduleID.String() + "-" + at.Format(time.RFC3339)
	require.NoError(t, rec.RecordStart(ctx, schedules.RunStart{ScheduleID: scheduleID, WorkflowID: wf, TemporalRunID: "contract", Query: "q",
		Executor: schedules.ExecutorHTTP, TriggeredAt: at, StartedAt: at}))
	require.NoError(t, rec.RecordCompletion(ctx, schedules.RunCompletion{ScheduleID: scheduleID, WorkflowID: wf, Status: schedules.RunCompleted,
		Result: ptrutil.Ptr("ok"), Usage: schedules.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3, TotalCostUSD: 0.001, ModelUsed: "m", Provider: "p"},
		Attempts:    []schedules.Attempt{{Number: 1, Status: schedules.RunCompleted, TotalTokens: 3, StartedAt: at, CompletedAt: at.Add(time.Second)}},
		CompletedAt: at.Add(time.Second)}))
	// A notification about it, so the run detail's notifications are walked too.
	require.NoError(t, st.RecordDelivery(ctx, notify.Delivery{
		EventID: notify.EventID(scheduleID.String(), notify.Completed, wf), ScheduleID: scheduleID.String(), WorkflowID: wf,
		Kind: notify.Completed, URL: "https://hooks.example.com/schedsvc", Attempts: 1, Delivered: true, StatusCode: http.StatusNoContent,
		LastAttemptAt: at.Add(2 * time.Second),
	}))
	runs, err := st.RunList(ctx, scheduleID, schedules.ListQuery{Limit: 1})
	require.NoError(t, err)
	require.Len(t, runs, 1)
	return runs[0].ID
}
