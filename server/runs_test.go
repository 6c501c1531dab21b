package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
)

// TestScheduleFires: an every-minute schedule really fires through the real
// Temporal server and worker, and its runs show in /runs with the
// executor's figures. Successful, failed and timed-out runs are checked side
// by side so the suite waits for one firing only.
func TestScheduleFires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		name, query string
		timeout     int
		check       func(t *testing.T, r api.Run, s api.Schedule)
	}{
		{"completed", "Summarise the news", 30, func(t *testing.T, r api.Run, s api.Schedule) {
			require.Equal(t, api.RunStatusCOMPLETED, r.Status)
			require.Equal(t, "done: Summarise the news", *r.Result)
			require.EqualValues(t, 1234, r.TotalTokens)
			require.InDelta(t, 0.0123, r.TotalCostUsd, 1e-9)
			require.Equal(t, "test-model", *r.ModelUsed)
			require.Equal(t, "test-provider", *r.Provider)
			require.Nil(t, r.ErrorMessage)
			require.EqualValues(t, 1, s.SuccessfulRuns)
			require.EqualValues(t, 0, s.FailedRuns)
			require.EqualValues(t, 1234, s.TotalTokens)
			require.InDelta(t, 0.0123, s.TotalCostUsd, 1e-9)
		}},
		{"failed", "fail please", 30, func(t *testing.T, r api.Run, s api.Schedule) {
			require.Equal(t, api.RunStatusFAILED, r.Status)
			require.Contains(t, *r.ErrorMessage, "502")
			require.Contains(t, *r.ErrorMessage, "upstream model exploded")
			require.EqualValues(t, 0, s.SuccessfulRuns)
			require.EqualValues(t, 1, s.FailedRuns)
		}},
		{"timed out", "slow task", 1, func(t *testing.T, r api.Run, s api.Schedule) {
			require.Equal(t, api.RunStatusTIMEDOUT, r.Status)
			require.Contains(t, *r.ErrorMessage, "timeout_seconds")
			require.EqualValues(t, 1, s.FailedRuns)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := newOwner()
			tok := tokenFor(t, o)
			id := b.createSchedule(t, tok, map[string]any{
				"name": c.name, "cron_expression": "* * * * *", "task_query": c.query, "timeout_seconds": c.timeout,
			})
			created := b.getSchedule(t, tok, id)
			runs := b.waitForRuns(t, tok, id, 150*time.Second, func(rs []api.Run) bool {
				return len(rs) > 0 && rs[len(rs)-1].Status != api.RunStatusRUNNING
			})
			// Stop further firings so the counters can be checked for one run.
			resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/pause", token: tok})
			require.Equal(t, http.StatusOK, resp.status)

			first := runs[len(runs)-1]
			require.True(t, first.TriggeredAt.Equal(*created.NextRunAt), "the run fired at the next_run_at shown: %s vs %s", first.TriggeredAt, created.NextRunAt)
			require.Zero(t, first.TriggeredAt.Second())
			require.NotNil(t, first.CompletedAt)
			require.NotNil(t, first.DurationMs)
			require.Equal(t, c.query, first.Query)
			require.Equal(t, api.RunTriggerSCHEDULED, first.Trigger, "a firing of the cron is recorded as scheduled")

			s := b.getSchedule(t, tok, id)
			runs = b.waitForRuns(t, tok, id, 0, func([]api.Run) bool { return true })
			require.Len(t, runs, 1, "exactly one run before the pause")
			require.EqualValues(t, 1, s.TotalRuns)
			require.True(t, s.LastRunAt.Equal(first.TriggeredAt))
			c.check(t, first, s)
		})
	}
}
