package faults_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTemporalOutage: Temporal stalled (SIGSTOP) or down (SIGKILL) during
// create, update, pause, resume and delete. Each must answer 503 with
// Retry-After; the same request with the same Idempotency-Key after that
// wait succeeds; afterwards rows and Temporal agree (after at most one
// reconcile pass) and nothing is orphaned.
func TestTemporalOutage(t *testing.T) {
	t.Parallel()
	out := row(t, 1, "Temporal stalled or down during create, update, pause, resume, delete")
	ts := startTemporal(t)
	// The default TEMPORAL_CALL_TIMEOUT (5s): what production runs with.
	st := newStack(t, ts, nil)
	gw := st.startGateway()
	tc := ts.client()
	o := newOwner(t, "temporal")
	ctx := context.Background()

	create := func(name string) string {
		r := mustCall(t, gw.url, o, http.MethodPost, "/api/v1/schedules", "", map[string]any{
			"name": name, "cron_expression": "0 3 * * *", "task_query": "q",
		})
		require.Equal(t, http.StatusCreated, r.status, "%s", r)
		return r.json(t)["schedule_id"].(string)
	}

	type op struct {
		name    string
		prepare func() string // returns the schedule id the op acts on
		send    func(id, key string) (response, error)
		ok      int
	}
	ops := []op{
		{"create", func() string { return "" }, func(_, key string) (response, error) {
			return call(gw.url, o, http.MethodPost, "/api/v1/schedules", key, map[string]any{
				"name": "created in outage", "cron_expression": "0 3 * * *", "task_query": "q"})
		}, http.StatusCreated},
		{"update", func() string { return create("to update") }, func(id, _ string) (response, error) {
			// PUT takes no Idempotency-Key; the same body again is its retry.
			return call(gw.url, o, http.MethodPut, "/api/v1/schedules/"+id, "", map[string]any{"cron_expression": "30 4 * * *"})
		}, http.StatusOK},
		{"pause", func() string { return create("to pause") }, func(id, key string) (response, error) {
			return call(gw.url, o, http.MethodPost, "/api/v1/schedules/"+id+"/pause", key, map[string]any{"reason": "outage"})
		}, http.StatusOK},
		{"resume", func() string {
			id := create("to resume")
			r := mustCall(t, gw.url, o, http.MethodPost, "/api/v1/schedules/"+id+"/pause", "", nil)
			require.Equal(t, http.StatusOK, r.status, "%s", r)
			return id
		}, func(id, key string) (response, error) {
			return call(gw.url, o, http.MethodPost, "/api/v1/schedules/"+id+"/resume", key, nil)
		}, http.StatusOK},
		{"delete", func() string { return create("to delete") }, func(id, key string) (response, error) {
			return call(gw.url, o, http.MethodDelete, "/api/v1/schedules/"+id, key, nil)
		}, http.StatusNoContent},
	}
	modes := []struct {
		name        string
		fault, heal func()
	}{
		{"stalled", ts.stall, ts.unstall},
		{"down", ts.kill, ts.restart},
	}
	for _, m := range modes {
		for _, o := range ops {
			id := o.prepare()
			key := fmt.Sprintf("%s-%s-%d", m.name, o.name, time.Now().UnixNano())
			m.fault()
			began := time.Now()
			r, err := o.send(id, key)
			took := time.Since(began)
			m.heal()
			require.NoError(t, err)
			if !assertUnavailable(t, r, m.name+" "+o.name) {
				out.note(t, "%s/%s: FAILED, answered %d instead of 503", m.name, o.name, r.status)
				continue
			}
			wait, _ := strconv.Atoi(r.header.Get("Retry-After"))
			time.Sleep(time.Duration(wait) * time.Second)
			retry, err := o.send(id, key)
			require.NoError(t, err)
			verdict := ""
			if !assertSucceeded(t, retry, o.ok, m.name+" "+o.name) {
				verdict = " FAILED (want " + strconv.Itoa(o.ok) + ")"
			}
			out.note(t, "%s/%s: 503 after %s, Retry-After %ds, same-key retry %d%s", m.name, o.name, took.Round(100*time.Millisecond), wait, retry.status, verdict)
		}
	}

	// Rows and Temporal agree, after at most one reconcile pass.
	time.Sleep(2 * time.Second) // Temporal's listing is eventually consistent
	diff, err := st.disagreements(ctx, tc, nil)
	require.NoError(t, err)
	if len(diff) > 0 {
		t.Logf("before the reconcile pass: %v", diff)
		rep, err := st.reconciler(tc).Reconcile(ctx)
		require.NoError(t, err)
		t.Logf("reconcile pass: %+v", rep)
		time.Sleep(2 * time.Second)
		diff, err = st.disagreements(ctx, tc, nil)
		require.NoError(t, err)
		out.note(t, "rows and Temporal agree after one reconcile pass (%d disagreements before it)", len(diff))
	} else {
		out.note(t, "rows and Temporal agree with no reconcile pass; no orphans")
	}
	require.Empty(t, diff, "rows and Temporal disagree")
}

func assertUnavailable(t *testing.T, r response, what string) bool {
	t.Helper()
	ok := r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") != ""
	if !ok {
		t.Errorf("%s: want 503 with Retry-After, got %s (Retry-After %q)", what, r, r.header.Get("Retry-After"))
	}
	return ok
}

func assertSucceeded(t *testing.T, r response, want int, what string) bool {
	t.Helper()
	if r.status != want {
		t.Errorf("%s: the retry after Retry-After answered %s, want %d", what, r, want)
		return false
	}
	return true
}
