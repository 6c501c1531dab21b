package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
)

// result is what one command line did.
type result struct {
	err            error
	code           int
	stdout, stderr string
}

// schedctl runs a command line as main would, with env as the whole environment.
func schedctl(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"schedctl"}, args...), func(k string) string { return env[k] },
		strings.NewReader(stdin), &stdout, &stderr)
	return result{err: err, code: exitCode(err), stdout: stdout.String(), stderr: stderr.String()}
}

// fakeAPI answers every request with one canned answer and keeps what it was sent. It stands in
// for the service only where the test is about schedctl's own logic; lifecycle_test.go drives
// the real one.
type fakeAPI struct {
	*httptest.Server
	status      int
	contentType string
	body        string

	mu   sync.Mutex
	reqs []seen
}

type seen struct {
	method, path, query string
	header              http.Header
	body                string
}

func newFakeAPI(t *testing.T, status int, contentType, body string) *fakeAPI {
	f := &fakeAPI{status: status, contentType: contentType, body: body}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		f.mu.Unlock()
		if f.contentType != "" {
			w.Header().Set("Content-Type", f.contentType)
		}
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) env() map[string]string {
	return map[string]string{"SCHEDSVC_URL": f.URL, "SCHEDSVC_TOKEN": "tok"}
}

func (f *fakeAPI) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fakeAPI) last(t *testing.T) seen {
	t.Helper()
	r := f.requests()
	require.NotEmpty(t, r, "no request reached the API")
	return r[len(r)-1]
}

const id = "3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05"

func TestJSONOutputIsTheAnswerAsIs(t *testing.T) {
	t.Parallel()
	fake := newFakeAPI(t, http.StatusOK, "application/json", scheduleJSON)
	r := schedctl(t, fake.env(), "", "schedules", "get", id, "-o", "json")
	require.NoError(t, r.err)
	require.Equal(t, scheduleJSON+"\n", r.stdout, "byte for byte, with a final newline")
	require.Empty(t, r.stderr)
	require.Equal(t, "/api/v1/schedules/"+id, fake.last(t).path)
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	fake := newFakeAPI(t, http.StatusOK, "application/json", listJSON)
	for name, c := range map[string]struct {
		env           map[string]string
		args          []string
		bearer, key   string
		code          int
		stderrContain string
	}{
		"token from env":          {env: map[string]string{"SCHEDSVC_TOKEN": "jwt1"}, bearer: "Bearer jwt1"},
		"api key from env":        {env: map[string]string{"SCHEDSVC_API_KEY": "sk_a"}, key: "sk_a"},
		"flag replaces env":       {env: map[string]string{"SCHEDSVC_API_KEY": "sk_a"}, args: []string{"--token", "jwt2"}, bearer: "Bearer jwt2"},
		"key flag replaces token": {env: map[string]string{"SCHEDSVC_TOKEN": "jwt1"}, args: []string{"--api-key", "sk_b"}, key: "sk_b"},
		"both in env":             {env: map[string]string{"SCHEDSVC_TOKEN": "jwt1", "SCHEDSVC_API_KEY": "sk_a"}, code: exitUsage, stderrContain: "both a token and an API key"},
		"none":                    {env: map[string]string{}, code: exitUsage, stderrContain: "no credentials"},
	} {
		before := len(fake.requests())
		c.env["SCHEDSVC_URL"] = fake.URL
		r := schedctl(t, c.env, "", append([]string{"schedules", "list"}, c.args...)...)
		require.Equal(t, c.code, r.code, name)
		if c.code != exitOK {
			require.Contains(t, r.stderr, c.stderrContain, name)
			require.Len(t, fake.requests(), before, "%s: nothing is sent", name)
			continue
		}
		got := fake.last(t)
		require.Equal(t, c.bearer, got.header.Get("Authorization"), name)
		require.Equal(t, c.key, got.header.Get("X-API-Key"), name)
	}
}

func TestURLFromFlagAndDefault(t *testing.T) {
	t.Parallel()
	fake := newFakeAPI(t, http.StatusOK, "application/json", listJSON)
	r := schedctl(t, map[string]string{"SCHEDSVC_URL": "http://127.0.0.1:1", "SCHEDSVC_TOKEN": "t"}, "", "schedules", "list", "--url", fake.URL)
	require.NoError(t, r.err)
	r = schedctl(t, map[string]string{"SCHEDSVC_URL": "127.0.0.1:8080", "SCHEDSVC_TOKEN": "t"}, "", "schedules", "list")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "want http(s)://host[:port]")
}

func TestProblemIsOneLineOnStderr(t *testing.T) {
	t.Parallel()
	fake := newFakeAPI(t, http.StatusUnprocessableEntity, "application/problem+json",
		`{"type":"https://schedsvc.dev/problems/invalid-cron","title":"Invalid cron expression","status":422,
		  "detail":"cron_expression: the day-of-week field does not accept \"L\"","request_id":"abc",
		  "errors":[{"field":"cron_expression","message":"the day-of-week field does not accept \"L\""}]}`)
	for _, output := range []string{"table", "json"} {
		r := schedctl(t, fake.env(), "", "cron", "preview", "0 9 * * 5L", "-o", output)
		require.Equal(t, exitAPI, r.code)
		require.Empty(t, r.stdout)
		require.Equal(t, `schedctl: 422 Invalid cron expression: cron_expression: the day-of-week field does not accept "L" `+
			`[type https://schedsvc.dev/problems/invalid-cron; errors: cron_expression: the day-of-week field does not accept "L"; request_id abc]`+"\n", r.stderr)
	}
}

func TestNoAnswer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	r := schedctl(t, map[string]string{"SCHEDSVC_URL": "http://" + addr, "SCHEDSVC_TOKEN": "t"}, "", "schedules", "list")
	require.Equal(t, exitNoAnswer, r.code)
	require.Contains(t, r.stderr, "cannot reach the service")
	require.Equal(t, 1, strings.Count(r.stderr, "\n"))
}

func TestCreateBody(t *testing.T) {
	t.Parallel()
	fake := newFakeAPI(t, http.StatusCreated, "application/json",
		`{"schedule_id":"`+id+`","message":"Schedule created","next_run_at":"2026-11-30T08:00:00Z"}`)

	r := schedctl(t, fake.env(), "", "schedules", "create", "--name", "n", "--cron", "0 9 * * *", "--query", "q",
		"--timezone", "Europe/Berlin", "--budget", "0.25", "--timeout-seconds", "60", "--context", `{"channel":"#ops"}`,
		"--max-attempts", "2", "--overlap", "BUFFER_ONE", "--pause-after-failures", "0", "--executor", "echo",
		"--idempotency-key", "k-1")
	require.NoError(t, r.err, r.stderr)
	got := fake.last(t)
	require.Equal(t, http.MethodPost, got.method)
	require.Equal(t, "/api/v1/schedules", got.path)
	require.Equal(t, "k-1", got.header.Get("Idempotency-Key"))
	require.Equal(t, "application/json", got.header.Get("Content-Type"))
	require.JSONEq(t, `{"name":"n","cron_expression":"0 9 * * *","task_query":"q","timezone":"Europe/Berlin",
		"max_budget_per_run_usd":0.25,"timeout_seconds":60,"task_context":{"channel":"#ops"},"retry_policy":{"max_attempts":2},
		"overlap_policy":"BUFFER_ONE","pause_after_failures":0,"executor":"echo"}`, got.body, "only the flags given, zeros included")
	require.Equal(t, "ID:        "+id+"\nNext run:  2026-11-30T08:00:00Z\nMessage:   Schedule created\n", r.stdout)

	// A body on stdin, a flag over one of its fields; what schedctl does not know passes through.
	r = schedctl(t, fake.env(), `{"name":"from file","cron_expression":"@daily","task_query":"q","retry_policy":{"max_attempts":3},"future_field":1.50}`,
		"schedules", "create", "-f", "-", "--name", "from flag", "--initial-backoff", "5")
	require.NoError(t, r.err, r.stderr)
	got = fake.last(t)
	require.Empty(t, got.header.Get("Idempotency-Key"))
	require.JSONEq(t, `{"name":"from flag","cron_expression":"@daily","task_query":"q",
		"retry_policy":{"max_attempts":3,"initial_backoff_seconds":5},"future_field":1.50}`, got.body)
	require.Contains(t, got.body, `1.50`, "numbers as written")

	path := filepath.Join(t.TempDir(), "s.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"name":"file","cron_expression":"@daily","task_query":"q"}`), 0o600))
	r = schedctl(t, fake.env(), "", "schedules", "create", "-f", path, "-o", "json")
	require.NoError(t, r.err, r.stderr)
	require.JSONEq(t, `{"name":"file","cron_expression":"@daily","task_query":"q"}`, fake.last(t).body)
	require.Equal(t, fake.body+"\n", r.stdout)

	sent := len(fake.requests())
	for name, c := range map[string]struct {
		stdin string
		args  []string
		want  string
	}{
		"required fields":   {args: []string{"--name", "n"}, want: "missing --cron, --query"},
		"context not JSON":  {args: []string{"--name", "n", "--cron", "@daily", "--query", "q", "--context", "[1]"}, want: "--context must be a JSON object"},
		"body not object":   {stdin: `[1,2]`, args: []string{"-f", "-"}, want: "not a JSON object"},
		"no such file":      {args: []string{"-f", filepath.Join(t.TempDir(), "missing.json")}, want: "no such file"},
		"number flag":       {args: []string{"--budget", "cheap"}, want: "not a number"},
		"unknown flag":      {args: []string{"--colour", "red"}, want: "flag provided but not defined: -colour"},
		"positional":        {args: []string{"extra"}, want: "takes no arguments"},
		"output":            {args: []string{"-o", "yaml"}, want: `-o "yaml": use table or json`},
		"update-only flags": {args: []string{"--clear-context"}, want: "flag provided but not defined: -clear-context"},
	} {
		r := schedctl(t, fake.env(), c.stdin, append([]string{"schedules", "create"}, c.args...)...)
		require.Equal(t, exitUsage, r.code, name)
		require.Contains(t, r.stderr, c.want, name)
		require.Contains(t, r.stderr, "run 'schedctl schedules create --help'", name)
		require.Empty(t, r.stdout, name)
	}
	require.Len(t, fake.requests(), sent, "no usage error sends anything")
}

func TestUpdateSendsOnlyTheFieldsGiven(t *testing.T) {
	t.Parallel()
	fake := newFakeAPI(t, http.StatusOK, "application/json", scheduleJSON)
	r := schedctl(t, fake.env(), "", "schedules", "update", id, "--cron", "0 10 * * *", "--clear-context", "--description", "")
	require.NoError(t, r.err, r.stderr)
	got := fake.last(t)
	require.Equal(t, http.MethodPut, got.method)
	require.Equal(t, "/api/v1/schedules/"+id, got.path)
	require.JSONEq(t, `{"cron_expression":"0 10 * * *","clear_task_context":true,"description":""}`, got.body)
	require.Contains(t, r.stdout, "Cron:                  0 9 * * MON-FRI\n", "the schedule the service answered with")

	// `-f -` with `{}` is the API's explicit no-op; no flags and no body is a mistake.
	r = schedctl(t, fake.env(), `{}`, "schedules", "update", id, "-f", "-")
	require.NoError(t, r.err, r.stderr)
	require.JSONEq(t, `{}`, fake.last(t).body)
	r = schedctl(t, fake.env(), "", "schedules", "update", id)
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "nothing to change")
}

func TestIdsAndParametersReachTheRightRequest(t *testing.T) {
	t.Parallel()
	const runID = "9a0e7c41-2b6d-4f3e-8a15-c7d2e4b90f16"
	fake := newFakeAPI(t, http.StatusOK, "application/json", `{}`)
	for _, c := range []struct {
		args                []string
		method, path, query string
		body, idemKey       string
	}{
		{[]string{"schedules", "list", "--page", "2", "--page-size", "10", "--status", "PAUSED"}, "GET", "/api/v1/schedules", "page=2&page_size=10&status=PAUSED", "", ""},
		{[]string{"schedules", "list", "--cursor", "abc"}, "GET", "/api/v1/schedules", "cursor=abc", "", ""},
		{[]string{"schedules", "pause", id, "--reason", "freeze", "--idempotency-key", "p1"}, "POST", "/api/v1/schedules/" + id + "/pause", "", `{"reason":"freeze"}`, "p1"},
		{[]string{"schedules", "resume", id}, "POST", "/api/v1/schedules/" + id + "/resume", "", `{}`, ""},
		{[]string{"schedules", "trigger", id, "--overlap-policy", "ALLOW_ALL", "--idempotency-key", "t1"}, "POST", "/api/v1/schedules/" + id + "/trigger", "", `{"overlap_policy":"ALLOW_ALL"}`, "t1"},
		{[]string{"schedules", "trigger", id}, "POST", "/api/v1/schedules/" + id + "/trigger", "", `{}`, ""},
		{[]string{"schedules", "backfill", id, "--start", "2026-11-23T00:00:00Z", "--end", "2026-11-25T23:59:59Z", "--overlap-policy", "BUFFER_ALL"},
			"POST", "/api/v1/schedules/" + id + "/backfill", "", `{"start":"2026-11-23T00:00:00Z","end":"2026-11-25T23:59:59Z","overlap_policy":"BUFFER_ALL"}`, ""},
		{[]string{"runs", "list", id, "--page-size", "5", "--cursor", "c1"}, "GET", "/api/v1/schedules/" + id + "/runs", "page_size=5&cursor=c1", "", ""},
		{[]string{"runs", "get", id, runID}, "GET", "/api/v1/schedules/" + id + "/runs/" + runID, "", "", ""},
		{[]string{"schedules", "events", id, "--page-size", "5", "--cursor", "c1"}, "GET", "/api/v1/schedules/" + id + "/events", "page_size=5&cursor=c1", "", ""},
		// Flags before, between and after the arguments; the fields of an expression joined.
		{[]string{"cron", "preview", "--count", "3", "0", "9", "*", "*", "MON-FRI", "--timezone", "Europe/Berlin", "--from", "2026-11-28T10:00:00Z"},
			"GET", "/api/v1/cron/preview", "cron_expression=0 9 * * MON-FRI&timezone=Europe/Berlin&count=3&from=2026-11-28T10:00:00Z", "", ""},
		{[]string{"cron", "preview", "--", "-5 * * * *"}, "GET", "/api/v1/cron/preview", "cron_expression=-5 * * * *", "", ""},
	} {
		args := append(append(append([]string{}, c.args[:2]...), "-o", "json"), c.args[2:]...)
		r := schedctl(t, fake.env(), "", args...)
		require.NoError(t, r.err, "%v: %s", c.args, r.stderr)
		got := fake.last(t)
		require.Equal(t, c.method, got.method, c.args)
		require.Equal(t, c.path, got.path, c.args)
		want, err := url.ParseQuery(c.query)
		require.NoError(t, err)
		query, err := url.ParseQuery(got.query)
		require.NoError(t, err)
		require.Equal(t, want, query, c.args)
		if c.body != "" {
			require.JSONEq(t, c.body, got.body, c.args)
		}
		require.Equal(t, c.idemKey, got.header.Get("Idempotency-Key"), c.args)
	}

	sent := len(fake.requests())
	for _, args := range [][]string{
		{"schedules", "get", "not-a-uuid"},
		{"runs", "get", id, "run-1"},
		{"runs", "get", id},
		{"cron", "preview"},
		{"cron", "preview", "@daily", "--from", "yesterday"},
		{"schedules", "list", "--page", "two"},
	} {
		r := schedctl(t, fake.env(), "", args...)
		require.Equal(t, exitUsage, r.code, args)
		require.Len(t, fake.requests(), sent, "%v sends nothing", args)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	fake := newFakeAPI(t, http.StatusNoContent, "", "")
	r := schedctl(t, fake.env(), "", "schedules", "delete", id, "--idempotency-key", "d1")
	require.NoError(t, r.err, r.stderr)
	require.Equal(t, "deleted "+id+"\n", r.stdout)
	got := fake.last(t)
	require.Equal(t, http.MethodDelete, got.method)
	require.Equal(t, "d1", got.header.Get("Idempotency-Key"))
	r = schedctl(t, fake.env(), "", "schedules", "delete", id, "-o", "json")
	require.NoError(t, r.err)
	require.Empty(t, r.stdout, "a 204 has no body to show")
}

func TestAnswerThatIsNotTheAPIs(t *testing.T) {
	t.Parallel()
	fake := newFakeAPI(t, http.StatusOK, "text/html", "<html>login</html>")
	r := schedctl(t, fake.env(), "", "schedules", "get", id)
	require.Equal(t, exitAPI, r.code)
	require.Contains(t, r.stderr, "not the API's JSON")
}

// TestHelp: every group and command answers --help on stdout with exit 0, and says what it takes.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := schedctl(t, nil, "", args...)
		require.NoError(t, r.err)
		require.Contains(t, r.stdout, "Exit codes:")
		require.Contains(t, r.stdout, "SCHEDSVC_API_KEY")
		require.Empty(t, r.stderr)
	}
	for _, g := range groups {
		r := schedctl(t, nil, "", g.name, "--help")
		require.NoError(t, r.err)
		for _, c := range g.commands {
			require.Contains(t, r.stdout, c.synopsis())
			for _, args := range [][]string{{g.name, c.name, "--help"}, {g.name, c.name, "-h"}, {"help", g.name, c.name}} {
				r := schedctl(t, nil, "", args...)
				require.NoError(t, r.err, args)
				require.True(t, strings.HasPrefix(r.stdout, "Usage: schedctl "+c.synopsis()+" [flags]\n"), "%v: %s", args, r.stdout)
				require.Contains(t, r.stdout, "-request-timeout", args)
				require.Empty(t, r.stderr, args)
			}
		}
	}
	r := schedctl(t, nil, "", "schedules", "create", "--help")
	require.Contains(t, r.stdout, "-f file\n")
	require.Contains(t, r.stdout, "-idempotency-key key\n")
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"nothing":         {nil, "schedctl: no command given\nrun 'schedctl --help' for the commands\n"},
		"unknown group":   {[]string{"schedule"}, "schedctl: unknown command \"schedule\"\nrun 'schedctl --help' for the commands\n"},
		"no subcommand":   {[]string{"runs"}, "schedctl: runs needs a subcommand: list, get\nrun 'schedctl runs --help' for its commands\n"},
		"unknown command": {[]string{"schedules", "frobnicate"}, "schedctl: unknown command \"schedules frobnicate\"; schedules takes list, get, create, update, pause, resume, delete, trigger, backfill, events\nrun 'schedctl schedules --help' for its commands\n"},
	} {
		r := schedctl(t, nil, "", c.args...)
		require.Equal(t, exitUsage, r.code, name)
		require.Equal(t, c.want, r.stderr, name)
		require.Empty(t, r.stdout, name)
	}
}

// TestFixturesAreTheAPIsShapes keeps the formatting fixtures honest: each decodes strictly into
// the generated type it stands for.
func TestFixturesAreTheAPIsShapes(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		body string
		v    any
	}{
		"schedule": {scheduleJSON, new(api.Schedule)},
		"list":     {listJSON, new(api.ScheduleList)},
		"run":      {runJSON, new(api.RunDetail)},
		"runs":     {runsJSON, new(api.RunList)},
		"events":   {eventsJSON, new(api.ScheduleEventList)},
		"preview":  {previewJSON, new(api.CronPreview)},
	} {
		d := json.NewDecoder(strings.NewReader(c.body))
		d.DisallowUnknownFields()
		require.NoError(t, d.Decode(c.v), name)
	}
}
