package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"schedsvc/gen/api"
	"schedsvc/schedules"
)

// fuzzOps are the writes (and the preview, which shares their rules) that
// FuzzScheduleRequests drives; the fuzzer's op byte picks one.
var fuzzOps = []struct {
	method, path string // path is relative to the fixture schedule when it starts with "/"
}{
	{http.MethodPost, "schedules"},
	{http.MethodPut, ""},
	{http.MethodPost, "/pause"},
	{http.MethodPost, "/resume"},
	{http.MethodGet, "cron/preview"},
}

// FuzzScheduleRequests sends any body, query and Idempotency-Key to create,
// update, pause, resume and preview through the real handler (validation,
// idempotency, the manager, PostgreSQL and Temporal) and holds every answer
// to the contract: never a 5xx, every response as the spec declares it, and
// a 4xx changes nothing: no new row, no Temporal schedule, the schedule it
// addressed as it was. The seed corpus is in testdata/fuzz.
func FuzzScheduleRequests(f *testing.F) {
	h := newFuzzHarness(f)
	f.Fuzz(func(t *testing.T, op uint8, query string, body []byte, key string) {
		h.check(t, op, query, body, key)
	})
}

// FuzzScheduleFields puts any string, byte for byte, into one field of an
// otherwise valid request. Mutating whole bodies rarely keeps them JSON;
// this reaches the domain and the database with hostile text every time.
func FuzzScheduleFields(f *testing.F) {
	h := newFuzzHarness(f)
	f.Fuzz(func(t *testing.T, op, field uint8, value string) {
		op %= uint8(len(fuzzOps))
		if fuzzOps[op].path == "cron/preview" {
			param := []string{"cron_expression", "timezone", "count", "from"}[int(field)%4]
			q := url.Values{"cron_expression": {"0 9 * * MON-FRI"}}
			q.Set(param, value)
			h.check(t, op, q.Encode(), nil, "")
			return
		}
		if fuzzOps[op].path != "schedules" && fuzzOps[op].path != "" {
			h.check(t, op, "", []byte(`{"reason":`+rawJSONString(value)+`}`), "")
			return
		}
		fields := map[string]string{
			"name": `"digest"`, "cron_expression": `"0 9 * * MON-FRI"`, "timezone": `"Europe/Berlin"`,
			"task_query": `"Summarise yesterday's tickets"`, "task_context": `{"channel":"#support"}`,
		}
		names := []string{"name", "description", "cron_expression", "timezone", "task_query",
			"task_context", "task_context key", "executor", "overlap_policy", "notify.url", "notify.on"}
		switch name := names[int(field)%len(names)]; name {
		case "notify.url":
			fields["notify"] = `{"url":` + rawJSONString(value) + `,"on":["FAILED"]}`
		case "notify.on":
			fields["notify"] = `{"url":"https://hooks.example.com/x","on":[` + rawJSONString(value) + `]}`
		case "task_context":
			fields[name] = `{"channel":` + rawJSONString(value) + `}`
		case "task_context key":
			fields["task_context"] = `{` + rawJSONString(value) + `:"v"}`
		default:
			fields[name] = rawJSONString(value)
		}
		var body bytes.Buffer
		body.WriteString("{")
		for i, k := range sortedKeys(fields) {
			if i > 0 {
				body.WriteString(",")
			}
			body.WriteString(`"` + k + `":` + fields[k])
		}
		body.WriteString("}")
		h.check(t, op, "", body.Bytes(), "")
	})
}

// rawJSONString quotes s as a JSON string, keeping its bytes as they are
// (json.Marshal would replace invalid UTF-8 before the server saw it).
func rawJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := range len(s) {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ':
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fuzzHarness is one process's server, owner and the schedule that
// update, pause and resume address.
type fuzzHarness struct {
	b       *testBundle
	owner   schedules.Owner
	token   string
	fixture uuid.UUID
	created *createdSchedules
}

func newFuzzHarness(f *testing.F) *fuzzHarness {
	h := &fuzzHarness{created: &createdSchedules{}, owner: newOwner()}
	h.b = setup(f, func(o *setupOptions) {
		o.temporal = recordingTemporal{Client: env.tc, created: h.created}
		// Nothing the fuzzer keeps fires more than hourly.
		o.limits.MinInterval = time.Hour
		withNotify(o)
	})
	h.token = tokenFor(f, h.owner)
	fixture, err := h.b.manager.Create(context.Background(), h.owner, schedules.CreateInput{
		Name: "fuzz fixture", CronExpression: "0 9 * * MON-FRI", Timezone: "Europe/Berlin", TaskQuery: "fuzz",
	})
	require.NoError(f, err)
	h.fixture = fixture.ID
	return h
}

// check sends one request and holds its answer to the contract.
func (h *fuzzHarness) check(t *testing.T, op uint8, query string, body []byte, key string) {
	ctx := context.Background()
	target := fuzzOps[int(op)%len(fuzzOps)]
	path := "/api/v1/" + target.path
	if target.path == "" || target.path[0] == '/' {
		path = "/api/v1/schedules/" + h.fixture.String() + target.path
	}
	if query != "" {
		path += "?" + query
	}
	if _, err := url.Parse(h.b.url + path); err != nil || !validHeaderValue(key) {
		return // no HTTP client can send this
	}
	rq := request{method: target.method, path: path, token: h.token, raw: body}
	if key != "" {
		rq.header = map[string]string{"Idempotency-Key": key}
	}
	rowsBefore := scheduleRowCount(t, h.owner)
	before, err := h.b.manager.Get(ctx, h.owner, h.fixture)
	require.NoError(t, err)
	h.created.reset()

	resp := h.b.do(t, rq)
	require.Less(t, resp.status, 500, "%s %s answered %d: %s", rq.method, rq.path, resp.status, resp.body)
	if resp.status >= 300 {
		require.Equal(t, rowsBefore, scheduleRowCount(t, h.owner), "a refused request left a row: %s", resp.body)
		for _, id := range h.created.ids() {
			_, err := env.tc.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
			var notFound *serviceerror.NotFound
			require.True(t, errors.As(err, &notFound), "a refused request left Temporal schedule %s (describe: %v): %s", id, err, resp.body)
		}
		after, err := h.b.manager.Get(ctx, h.owner, h.fixture)
		require.NoError(t, err)
		require.Equal(t, before, after, "a refused request changed the schedule: %s", resp.body)
		return
	}
	if target.path == "schedules" && resp.header.Get("Idempotent-Replayed") == "" {
		// Keep the owner under the limit, so later creates still reach the
		// insert, and keep the fuzzer's schedules from firing.
		var out api.ScheduleCreated
		resp.decode(t, &out)
		require.NoError(t, h.b.manager.Delete(ctx, h.owner, out.ScheduleId))
	}
}

// validHeaderValue is net/http's rule for what a client may send.
func validHeaderValue(v string) bool {
	for i := range len(v) {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// recordingTemporal notes the id of every Temporal schedule its manager
// creates, so a test can check that none outlived a refused request.
type recordingTemporal struct {
	client.Client
	created *createdSchedules
}

func (c recordingTemporal) ScheduleClient() client.ScheduleClient {
	return recordingSchedules{ScheduleClient: c.Client.ScheduleClient(), created: c.created}
}

type recordingSchedules struct {
	client.ScheduleClient
	created *createdSchedules
}

func (c recordingSchedules) Create(ctx context.Context, opts client.ScheduleOptions) (client.ScheduleHandle, error) {
	h, err := c.ScheduleClient.Create(ctx, opts)
	if err == nil {
		c.created.add(opts.ID)
	}
	return h, err
}

type createdSchedules struct {
	mu   sync.Mutex
	list []string
}

func (c *createdSchedules) add(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, id)
}

func (c *createdSchedules) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = nil
}

func (c *createdSchedules) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.list...)
}
