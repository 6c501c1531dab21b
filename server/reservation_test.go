package server_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"schedsvc/gen/api"
	"schedsvc/schedules"
)

// flakyCreate is the real Temporal client whose schedule creates can be
// made to fail: "lost" creates the schedule and then reports a timeout, as
// when the answer is lost or the gateway dies right after the call;
// "refused" is an answer that says nothing was created.
type flakyCreate struct {
	client.Client
	mode *atomic.Value // "", "lost" or "refused"
}

func (f flakyCreate) ScheduleClient() client.ScheduleClient {
	return flakySchedules{f.Client.ScheduleClient(), f.mode}
}

type flakySchedules struct {
	client.ScheduleClient
	mode *atomic.Value
}

func (f flakySchedules) Create(ctx context.Context, o client.ScheduleOptions) (client.ScheduleHandle, error) {
	switch f.mode.Load() {
	case "refused":
		return nil, serviceerror.NewInvalidArgument("refused by the test")
	case "lost":
		if _, err := f.ScheduleClient.Create(ctx, o); err != nil {
			return nil, err
		}
		return nil, serviceerror.NewDeadlineExceeded("answer lost by the test")
	}
	return f.ScheduleClient.Create(ctx, o)
}

func reservationsOf(t *testing.T, o schedules.Owner) []uuid.UUID {
	t.Helper()
	rows, err := env.db.Pool.Query(context.Background(),
		"SELECT id FROM schedule_reservations WHERE tenant_id = $1 AND user_id = $2", o.TenantID, o.UserID)
	require.NoError(t, err)
	defer rows.Close()
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

// TestCreateInFlight: a create that dies between reserving its slot and
// inserting its row (here: Temporal made the schedule but the answer was
// lost) leaves a reservation that no read shows, that counts against the
// limit, and that the reconciler removes with its Temporal schedule once it
// is stale, giving the slot back. A create Temporal refuses gives its slot
// back at once. It is not parallel: a pass looks at every schedule.
func TestCreateInFlight(t *testing.T) {
	mode := &atomic.Value{}
	mode.Store("")
	b := setup(t, func(o *setupOptions) {
		o.limits.MaxPerUser = 2
		o.temporal = flakyCreate{env.tc, mode}
	})
	ctx := context.Background()
	o := newOwner()
	tok := tokenFor(t, o)
	create := func(name string) response {
		return b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: dailyBody(name)})
	}

	// Refused (through the manager: the API answers this one 500, which
	// the harness fails on): nothing is left, not even the reservation.
	mode.Store("refused")
	_, err := b.manager.Create(ctx, o, schedules.CreateInput{Name: "refused", CronExpression: "0 9 * * *", Timezone: "UTC", TaskQuery: "q"})
	require.ErrorContains(t, err, "refused by the test")
	require.Empty(t, reservationsOf(t, o))
	require.Zero(t, scheduleRowCount(t, o))

	// Lost: 503, no row, a reservation and a Temporal schedule.
	mode.Store("lost")
	resp := create("lost")
	require.Equal(t, http.StatusServiceUnavailable, resp.status, "body: %s", resp.body)
	require.Zero(t, scheduleRowCount(t, o))
	pending := reservationsOf(t, o)
	require.Len(t, pending, 1)
	id := pending[0].String()
	describeTemporal(t, id) // the create reached Temporal

	// Every read and write of the owner answers 404 for it, as for any
	// unknown id, and the list does not show it.
	for _, rq := range []request{
		{method: http.MethodGet, path: "/api/v1/schedules/" + id},
		{method: http.MethodPut, path: "/api/v1/schedules/" + id, body: map[string]any{"name": "renamed"}},
		{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/pause", body: map[string]any{}},
		{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/resume", body: map[string]any{}},
		{method: http.MethodGet, path: "/api/v1/schedules/" + id + "/runs"},
		{method: http.MethodDelete, path: "/api/v1/schedules/" + id},
	} {
		rq.token = tok
		resp := b.do(t, rq)
		require.Equal(t, http.StatusNotFound, resp.status, "%s %s: %s", rq.method, rq.path, resp.body)
		require.Equal(t, "https://schedsvc.dev/problems/not-found", string(resp.problem(t).Type))
	}
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
	var list api.ScheduleList
	resp.decode(t, &list)
	require.Zero(t, list.Total)
	require.Empty(t, list.Schedules)

	// It holds one of the owner's two slots.
	mode.Store("")
	kept := b.createSchedule(t, tok, dailyBody("kept"))
	resp = create("over the limit")
	require.Equal(t, http.StatusConflict, resp.status, "body: %s", resp.body)
	require.Equal(t, "https://schedsvc.dev/problems/schedule-limit-reached", string(resp.problem(t).Type))

	// A fresh reservation is a create that may still finish: a pass leaves
	// it alone.
	rep, err := b.reconciler.Reconcile(ctx)
	require.NoError(t, err)
	require.False(t, rep.Skipped)
	require.Zero(t, rep.ReservationsRemoved)
	require.Len(t, reservationsOf(t, o), 1)

	// Stale, it is removed with its Temporal schedule; the slot is free.
	_, err = env.db.Pool.Exec(ctx, "UPDATE schedule_reservations SET reserved_at = now() - interval '1 hour' WHERE id = $1", id)
	require.NoError(t, err)
	rep, err = b.reconciler.Reconcile(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, rep.ReservationsRemoved, "%+v", rep)
	require.Zero(t, rep.Failed)
	require.Empty(t, reservationsOf(t, o))
	_, err = env.tc.ScheduleClient().GetHandle(ctx, "schedule-"+id).Describe(ctx)
	var notFound *serviceerror.NotFound
	require.ErrorAs(t, err, &notFound, "the dead create's Temporal schedule is removed")
	b.createSchedule(t, tok, dailyBody("fits again"))
	require.Equal(t, 2, scheduleRowCount(t, o))
	describeTemporal(t, kept)
}
