package server_test

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"schedsvc/gen/api"
	"schedsvc/schedules"
)

// isolationCall is how the isolation matrix calls an operation.
type isolationCall struct {
	query string // appended to the path
	body  any    // nil: none
}

// isolationCalls has a row for every operation of api/openapi.yaml that
// needs credentials: a new endpoint fails TestIsolationMatrix until it
// joins.
var isolationCalls = map[string]isolationCall{
	"createSchedule":     {body: dailyBody("intruder's")},
	"listSchedules":      {},
	"getSchedule":        {},
	"updateSchedule":     {body: map[string]any{"name": "stolen"}},
	"deleteSchedule":     {},
	"pauseSchedule":      {body: map[string]any{"reason": "mine now"}},
	"resumeSchedule":     {body: map[string]any{"reason": "mine now"}},
	"listScheduleRuns":   {},
	"getScheduleRun":     {},
	"listScheduleEvents": {},
	"triggerSchedule":    {body: map[string]any{"overlap_policy": "ALLOW_ALL"}},
	// Three weekday firings, a valid backfill for A: an intruder's must be 404, not 202 or 422.
	"backfillSchedule": {body: map[string]any{"start": "2026-11-23T00:00:00Z", "end": "2026-11-25T23:59:59Z", "overlap_policy": "ALLOW_ALL"}},
	"previewCron":      {query: "?cron_expression=0+9+*+*+MON-FRI&timezone=Europe/Berlin"},
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestIsolationMatrix walks every operation of the spec: without
// credentials it is 401; for another user of the same tenant (by JWT and by
// API key) and for a user of another tenant, an operation on A's schedule
// or run is 404 and shows nothing of A's, and a collection operation shows
// nothing of A's. A's schedule is unchanged afterwards.
func TestIsolationMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	a := newOwner()
	tokA := tokenFor(t, a)
	scheduleID := b.createSchedule(t, tokA, dailyBody("a's secret schedule"))
	runID := runOnce(t, b, tokA, scheduleID)
	before := b.getSchedule(t, tokA, scheduleID)
	params := map[string]string{"id": scheduleID, "run_id": runID}

	sameTenant := newOwner()
	sameTenant.TenantID = a.TenantID
	otherTenant := newOwner()
	otherTenant.UserID = a.UserID
	sameTenantKey, _, err := b.apiKeys.Create(ctx, schedules.Owner{UserID: "key-user-" + randomHex(), TenantID: a.TenantID}, "default", "intruder")
	require.NoError(t, err)
	intruders := map[string]request{
		"same tenant, other user (JWT)":     {token: tokenFor(t, sameTenant)},
		"same tenant, other user (API key)": {apiKey: sameTenantKey},
		"other tenant, same user id (JWT)":  {token: tokenFor(t, otherTenant)},
	}

	doc, err := api.GetSwagger()
	require.NoError(t, err)
	covered := 0
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		for method, op := range doc.Paths.Value(path).Operations() {
			// The embedded spec capitalises operation ids; the table uses the spec's spelling.
			opID := strings.ToLower(op.OperationID[:1]) + op.OperationID[1:]
			name := method + " " + path + " (" + opID + ")"
			if op.Security != nil && len(*op.Security) == 0 {
				resp := b.do(t, request{method: method, path: path})
				require.NotEqual(t, http.StatusUnauthorized, resp.status, "%s is public", name)
				continue
			}
			call, ok := isolationCalls[opID]
			require.True(t, ok, "%s has no row in isolationCalls: add one so it is tested for isolation", name)
			body := call.body
			covered++
			concrete := pathParam.ReplaceAllStringFunc(path, func(m string) string {
				v, ok := params[strings.Trim(m, "{}")]
				require.True(t, ok, "%s: no value for path parameter %s", name, m)
				return v
			}) + call.query

			resp := b.do(t, request{method: method, path: concrete, body: body})
			require.Equal(t, http.StatusUnauthorized, resp.status, "%s without credentials", name)

			for who, creds := range intruders {
				rq := request{method: method, path: concrete, body: body, token: creds.token, apiKey: creds.apiKey}
				resp := b.do(t, rq)
				if strings.Contains(path, "{") {
					require.Equal(t, http.StatusNotFound, resp.status, "%s as %s: %s", name, who, resp.body)
				} else {
					require.Less(t, resp.status, 300, "%s as %s: %s", name, who, resp.body)
				}
				// A problem's instance echoes the caller's own path; nothing else may name A's data.
				shown := strings.ReplaceAll(string(resp.body), concrete, "")
				require.NotContains(t, shown, scheduleID, "%s as %s", name, who)
				require.NotContains(t, shown, runID, "%s as %s", name, who)
				require.NotContains(t, shown, "a's secret", "%s as %s", name, who)
			}
		}
	}
	require.Equal(t, len(isolationCalls), covered, "isolationCalls has rows for operations the spec no longer has")

	after := b.getSchedule(t, tokA, scheduleID)
	require.Equal(t, before, after, "A's schedule is untouched")
	list := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tokA})
	var l api.ScheduleList
	list.decode(t, &l)
	require.EqualValues(t, 1, l.Total, "intruders' creates landed in their own scope")
}

// runOnce triggers the schedule in Temporal and waits until its run has
// finished, returning the run's id.
func runOnce(t *testing.T, b *testBundle, token, scheduleID string) string {
	t.Helper()
	ctx := context.Background()
	h := env.tc.ScheduleClient().GetHandle(ctx, schedules.TemporalScheduleID(uuid.MustParse(scheduleID)))
	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
	var runID string
	require.Eventually(t, func() bool {
		resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules/" + scheduleID + "/runs", token: token})
		var runs api.RunList
		resp.decode(t, &runs)
		if len(runs.Runs) == 0 || runs.Runs[0].Status == api.RunStatusRUNNING {
			return false
		}
		runID = runs.Runs[0].Id.String()
		return true
	}, 30*time.Second, 200*time.Millisecond, "the triggered run finishes")
	// The run's counters are written with its completion; let them settle.
	require.Eventually(t, func() bool { return b.getSchedule(t, token, scheduleID).TotalRuns == 1 }, 10*time.Second, 100*time.Millisecond)
	return runID
}
