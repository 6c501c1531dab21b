package server_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
)

func previewPath(q url.Values) string { return "/api/v1/cron/preview?" + q.Encode() }

func TestPreviewCron(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())

	resp := b.do(t, request{method: http.MethodGet, token: tok, path: previewPath(url.Values{
		"cron_expression": {"0 9 * * MON-FRI"}, "timezone": {"Europe/Berlin"}, "count": {"3"}, "from": {"2026-11-28T10:00:00Z"},
	})})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	require.JSONEq(t, `{
		"cron_expression": "0 9 * * MON-FRI",
		"timezone": "Europe/Berlin",
		"description": "At 09:00, Monday through Friday",
		"times": ["2026-11-30T09:00:00+01:00", "2026-12-01T09:00:00+01:00", "2026-12-02T09:00:00+01:00"],
		"previous_run_at": "2026-11-27T09:00:00+01:00"
	}`, string(resp.body))

	// A fixed-time job in the hour a spring-forward skips runs once, at the
	// first minute after the jump (cronie), in the zone's new offset.
	resp = b.do(t, request{method: http.MethodGet, token: tok, path: previewPath(url.Values{
		"cron_expression": {"30 2 * * *"}, "timezone": {"America/New_York"}, "count": {"2"}, "from": {"2027-03-13T12:00:00Z"},
	})})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	var p api.CronPreview
	resp.decode(t, &p)
	require.Equal(t, []string{"2027-03-14T03:00:00-04:00", "2027-03-15T02:30:00-04:00"}, formatAll(p.Times))

	// Defaults: UTC, five times from now.
	resp = b.do(t, request{method: http.MethodGet, token: tok, path: previewPath(url.Values{"cron_expression": {"@hourly"}})})
	require.Equal(t, http.StatusOK, resp.status)
	resp.decode(t, &p)
	require.Equal(t, "UTC", p.Timezone)
	require.Len(t, p.Times, 5)
	require.True(t, p.Times[0].After(time.Now()))

	for _, c := range []struct {
		q      url.Values
		status int
		kind   string
	}{
		{url.Values{"cron_expression": {"0 9 * * 1#2"}}, 422, "invalid-cron"},
		{url.Values{"cron_expression": {"0 9 * * *"}, "timezone": {"Moon/Base"}}, 422, "unknown-timezone"},
		{url.Values{"cron_expression": {"* * * * *"}, "timezone": {"UTC"}}, 200, ""}, // the test minimum is one minute
		{url.Values{"cron_expression": {"0 9 * * *"}, "count": {"101"}}, 400, "invalid-request"},
		{url.Values{"timezone": {"UTC"}}, 400, "invalid-request"},
	} {
		resp := b.do(t, request{method: http.MethodGet, token: tok, path: previewPath(c.q)})
		require.Equal(t, c.status, resp.status, "%v: %s", c.q, resp.body)
		if c.kind != "" {
			require.Equal(t, "https://schedsvc.dev/problems/"+c.kind, resp.problem(t).Type, "%v", c.q)
		}
	}

	strict := setup(t, func(o *setupOptions) { o.limits.MinInterval = 2 * time.Hour })
	resp = strict.do(t, request{method: http.MethodGet, token: tok, path: previewPath(url.Values{"cron_expression": {"0 8,9 * * *"}})})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status, "the minimum interval applies as on create")
	require.Equal(t, "https://schedsvc.dev/problems/interval-too-short", string(resp.problem(t).Type))
}

func formatAll(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format(time.RFC3339)
	}
	return out
}

// TestPreviewAgreesWithSchedule: the preview of an expression and zone and a
// schedule's own next_runs are the same times, and the first of them is the
// schedule's next_run_at and Temporal's next action.
func TestPreviewAgreesWithSchedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())
	for _, c := range []struct{ expr, tz string }{
		{"0 9 * * MON-FRI", "Europe/Berlin"},
		{"30 2 * * *", "America/New_York"},
		{"15 2 * * *", "Australia/Lord_Howe"},
		{"0 0 1 * 1", "Asia/Kathmandu"},
		{"*/20 * * * *", "Australia/Adelaide"},
	} {
		id := b.createSchedule(t, tok, map[string]any{"name": c.expr, "cron_expression": c.expr, "timezone": c.tz, "task_query": "q"})
		s := b.getSchedule(t, tok, id)
		resp := b.do(t, request{method: http.MethodGet, token: tok, path: previewPath(url.Values{"cron_expression": {c.expr}, "timezone": {c.tz}})})
		require.Equal(t, http.StatusOK, resp.status)
		var p api.CronPreview
		resp.decode(t, &p)
		require.Equal(t, formatAll(p.Times), formatAll(s.NextRuns), c.expr)
		require.Equal(t, p.PreviousRunAt.Format(time.RFC3339), s.PreviousRunAt.Format(time.RFC3339), c.expr)
		require.True(t, s.NextRuns[0].Equal(*s.NextRunAt), c.expr)
		d := describeTemporal(t, id)
		for i, want := range s.NextRuns {
			require.True(t, d.Info.NextActionTimes[i].Equal(want), "%s %s: Temporal's action %d is %s, we show %s", c.expr, c.tz, i, d.Info.NextActionTimes[i], want)
		}
		zone, _ := time.LoadLocation(c.tz)
		_, offset := s.NextRuns[0].In(zone).Zone()
		_, shown := s.NextRuns[0].Zone()
		require.Equal(t, offset, shown, "next_runs are in the schedule's offset")
	}
}
