package server_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
	"schedsvc/schedules"
)

// events reads every event of the schedule as the owner of token, page
// by page of size, and the number of pages it took.
func (b *testBundle) events(t *testing.T, token, id string, size int) ([]api.ScheduleEvent, int) {
	t.Helper()
	var all []api.ScheduleEvent
	cursor := ""
	for pages := 1; ; pages++ {
		path := "/api/v1/schedules/" + id + "/events?page_size=" + strconv.Itoa(size)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		resp := b.do(t, request{method: http.MethodGet, path: path, token: token})
		require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
		var page api.ScheduleEventList
		resp.decode(t, &page)
		require.LessOrEqual(t, len(page.Events), size)
		all = append(all, page.Events...)
		if page.NextCursor == nil {
			return all, pages
		}
		cursor = *page.NextCursor
	}
}

// TestAuditTrail: a schedule's whole lifecycle reads back newest first
// with the right kinds, actors, reasons and changes; an update that fails
// leaves no event; the trail outlives the schedule for its owner and for
// nobody else.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	tok := tokenFor(t, o)
	id := b.createSchedule(t, tok, dailyBody("audited"))
	base := "/api/v1/schedules/" + id

	resp := b.do(t, request{method: http.MethodPut, path: base, token: tok, body: map[string]any{"cron_expression": "0 10 * * MON-FRI", "max_budget_per_run_usd": 0.75}})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	resp = b.do(t, request{method: http.MethodPut, path: base, token: tok, body: map[string]any{"name": "renamed", "timezone": "Mars/Olympus_Mons"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status, "body: %s", resp.body)
	resp = b.do(t, request{method: http.MethodPut, path: base, token: tok, body: map[string]any{}})
	require.Equal(t, http.StatusOK, resp.status, "a no-op update")
	resp = b.do(t, request{method: http.MethodPost, path: base + "/pause", token: tok, body: map[string]any{"reason": "Quarter-end freeze"}})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	resp = b.do(t, request{method: http.MethodPost, path: base + "/pause", token: tok, body: map[string]any{"reason": "again"}})
	require.Equal(t, http.StatusOK, resp.status, "pausing a paused schedule changes nothing")
	resp = b.do(t, request{method: http.MethodPost, path: base + "/resume", token: tok, body: map[string]any{"reason": "Freeze over"}})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	resp = b.do(t, request{method: http.MethodDelete, path: base, token: tok})
	require.Equal(t, http.StatusNoContent, resp.status, "body: %s", resp.body)

	events, _ := b.events(t, tok, id, 20)
	kinds := make([]api.ScheduleEventKind, len(events))
	for i, e := range events {
		kinds[i] = e.Kind
		require.Equal(t, o.UserID, e.Actor, "event %d (%s)", i, e.Kind)
		if i > 0 {
			require.Less(t, e.Id, events[i-1].Id, "newest first")
			require.False(t, e.CreatedAt.After(events[i-1].CreatedAt), "newest first")
		}
	}
	require.Equal(t, []api.ScheduleEventKind{api.ScheduleEventKindDeleted, api.ScheduleEventKindResumed, api.ScheduleEventKindPaused, api.ScheduleEventKindUpdated, api.ScheduleEventKindCreated}, kinds,
		"the failed and the no-op update and the second pause recorded nothing")
	require.Equal(t, "Freeze over", *events[1].Reason)
	require.Equal(t, "Quarter-end freeze", *events[2].Reason)
	require.Nil(t, events[0].Reason)
	require.Nil(t, events[4].Changes)
	require.Equal(t, map[string]api.ScheduleFieldChange{
		"cron_expression":        {Old: "0 9 * * MON-FRI", New: "0 10 * * MON-FRI"},
		"max_budget_per_run_usd": {Old: float64(1), New: 0.75},
	}, *events[3].Changes)

	// The schedule is gone, its trail is not; for others it never existed.
	require.Equal(t, http.StatusNotFound, b.do(t, request{method: http.MethodGet, path: base, token: tok}).status)
	for _, other := range []string{tokenFor(t, newOwner()), tokenFor(t, schedules.Owner{UserID: "user-" + randomHex(), TenantID: o.TenantID})} {
		resp = b.do(t, request{method: http.MethodGet, path: base + "/events", token: other})
		require.Equal(t, http.StatusNotFound, resp.status, "body: %s", resp.body)
	}
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules/9a0e7c41-2b6d-4f3e-8a15-c7d2e4b90f16/events", token: tok})
	require.Equal(t, http.StatusNotFound, resp.status)
	resp = b.do(t, request{method: http.MethodGet, path: base + "/events?cursor=bm90LWEtY3Vyc29y", token: tok})
	require.Equal(t, http.StatusBadRequest, resp.status, "a cursor this API did not return")
}

// TestAuditTrailPages: a cursor walk over several pages returns every
// event once, newest first.
func TestAuditTrailPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())
	id := b.createSchedule(t, tok, dailyBody("paged"))
	for i := 0; i < 4; i++ {
		for _, verb := range []string{"pause", "resume"} {
			resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/" + verb, token: tok})
			require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
		}
	}
	events, pages := b.events(t, tok, id, 3)
	require.Len(t, events, 9, "created and eight transitions")
	require.Equal(t, 3, pages)
	for i, e := range events {
		want := api.ScheduleEventKindResumed
		switch {
		case i == 8:
			want = api.ScheduleEventKindCreated
		case i%2 == 1:
			want = api.ScheduleEventKindPaused
		}
		require.Equal(t, want, e.Kind, "event %d", i)
		if i > 0 {
			require.Less(t, e.Id, events[i-1].Id)
		}
	}
	one, pages := b.events(t, tok, id, 20)
	require.Equal(t, 1, pages)
	require.Equal(t, events, one, "cursor pages and one page agree")
}
