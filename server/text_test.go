package server_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
)

// TestHostileTextRejected: text PostgreSQL cannot store as sent (a NUL, or
// bytes that are not UTF-8) is refused with a problem naming where it
// was, in every field and parameter, and nothing is created or changed.
func TestHostileTextRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	tok := tokenFor(t, o)
	fixture := newOwner()
	fixtureTok := tokenFor(t, fixture)
	id := b.createSchedule(t, fixtureTok, dailyBody("fixture"))
	before := b.getSchedule(t, fixtureTok, id)

	with := func(k string, v any) map[string]any {
		body := dailyBody("hostile")
		body[k] = v
		return body
	}
	const nul = "a\x00b"
	create := func(body map[string]any) request {
		return request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: body}
	}
	fixtureOp := func(method, op string, body map[string]any) request {
		return request{method: method, path: "/api/v1/schedules/" + id + op, token: fixtureTok, body: body}
	}
	nulCases := []struct {
		name  string
		rq    request
		field string
	}{
		{"name", create(with("name", nul)), "name"},
		{"name only NUL", create(with("name", "\x00")), "name"},
		{"description", create(with("description", nul)), "description"},
		{"task_query", create(with("task_query", nul)), "task_query"},
		{"timezone", create(with("timezone", "UTC\x00")), "timezone"},
		{"cron_expression", create(with("cron_expression", "0 9 * * *\x00")), "cron_expression"},
		{"task_context value", create(with("task_context", map[string]any{"foo": nul})), "task_context.foo"},
		{"task_context nested", create(with("task_context", map[string]any{"a": []any{"ok", map[string]any{"b": nul}}})), "task_context.a.1.b"},
		{"task_context key", create(with("task_context", map[string]any{"k\x00": "v"})), "task_context"},
		{"update name", fixtureOp(http.MethodPut, "", map[string]any{"name": nul}), "name"},
		{"update task_context", fixtureOp(http.MethodPut, "", map[string]any{"task_context": map[string]any{"x": nul}}), "task_context.x"},
		{"pause reason", fixtureOp(http.MethodPost, "/pause", map[string]any{"reason": nul}), "reason"},
		{"resume reason", fixtureOp(http.MethodPost, "/resume", map[string]any{"reason": nul}), "reason"},
		{"preview cron", request{method: http.MethodGet, path: "/api/v1/cron/preview?cron_expression=0%209%20*%20*%20*%00", token: tok}, "cron_expression"},
		{"preview timezone", request{method: http.MethodGet, path: "/api/v1/cron/preview?cron_expression=0%209%20*%20*%20*&timezone=UTC%00", token: tok}, "timezone"},
	}
	for _, c := range nulCases {
		resp := b.do(t, c.rq)
		require.Equal(t, http.StatusUnprocessableEntity, resp.status, "%s: %s", c.name, resp.body)
		p := resp.problem(t)
		require.Equal(t, "https://schedsvc.dev/problems/invalid-field", p.Type, c.name)
		require.NotNil(t, p.Errors, c.name)
		require.Equal(t, []string{c.field}, fieldsOf(*p.Errors), c.name)
	}

	utf8Cases := []struct {
		name   string
		rq     request
		detail string
	}{
		{"create body", request{method: http.MethodPost, path: "/api/v1/schedules", token: tok,
			raw: []byte(`{"name":"caf` + "\xe9" + `","cron_expression":"0 9 * * *","task_query":"q"}`)}, "the request body is not valid UTF-8"},
		{"update body", fixtureOp(http.MethodPut, "", nil), "the request body is not valid UTF-8"},
		{"pause body", fixtureOp(http.MethodPost, "/pause", nil), "the request body is not valid UTF-8"},
		{"preview query", request{method: http.MethodGet, path: "/api/v1/cron/preview?cron_expression=0%209%20*%20*%20*&timezone=%ff", token: tok},
			`query parameter "timezone" is not valid UTF-8`},
		{"idempotency key", request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: dailyBody("k"),
			header: map[string]string{"Idempotency-Key": "key-\xff"}}, ""},
	}
	utf8Cases[1].rq.raw = []byte(`{"description":"` + "\xff\xfe" + `"}`)
	utf8Cases[2].rq.raw = []byte(`{"reason":"` + "\xc3" + `"}`)
	for _, c := range utf8Cases {
		resp := b.do(t, c.rq)
		require.Equal(t, http.StatusBadRequest, resp.status, "%s: %s", c.name, resp.body)
		p := resp.problem(t)
		require.Equal(t, "https://schedsvc.dev/problems/invalid-request", p.Type, c.name)
		if c.detail != "" {
			require.Equal(t, c.detail, *p.Detail, c.name)
		}
	}

	require.Zero(t, scheduleRowCount(t, o), "no refused create left a row")
	require.Equal(t, 1, scheduleRowCount(t, fixture))
	after := b.getSchedule(t, fixtureTok, id)
	require.Equal(t, before, after, "no refused update, pause or resume changed the schedule")
}

func fieldsOf(errs []api.ProblemFieldError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Field
	}
	return out
}
