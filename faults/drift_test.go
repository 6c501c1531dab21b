package faults_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"schedsvc/schedules"
	"schedsvc/schedules/cron"
)

const driftSchedules = 1000

// created is one schedule of the drift row.
type created struct {
	id         uuid.UUID
	expr, zone string
}

// TestDriftAtScale: 1,000 schedules, a random tenth broken behind the
// manager's back — Temporal schedule deleted, Temporal paused while the row
// is active, row deleted (soft, as the service deletes) while Temporal
// keeps the schedule, Temporal's spec replaced by a stale one. One
// reconcile pass repairs all; a second finds nothing.
func TestDriftAtScale(t *testing.T) {
	t.Parallel()
	out := row(t, 6, fmt.Sprintf("drift at scale: %d schedules, a random tenth broken behind the manager's back", driftSchedules))
	ts := startTemporal(t)
	st := newStack(t, ts, nil)
	gw := st.startGateway()
	tc := ts.client()
	ctx := context.Background()
	o := newOwner(t, "drift")

	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"}
	all := make([]created, driftSchedules)
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, driftSchedules)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				c := quietCron(zones[i%len(zones)])
				r, err := call(gw.url, o, http.MethodPost, "/api/v1/schedules", "", map[string]any{
					"name": fmt.Sprintf("drift %d", i), "cron_expression": c.expr, "timezone": c.zone, "task_query": "q"})
				if err == nil && r.status != http.StatusCreated {
					err = fmt.Errorf("create %d: %s", i, r)
				}
				if err != nil {
					errs <- err
					continue
				}
				var v map[string]any
				v = r.json(t)
				c.id = uuid.MustParse(v["schedule_id"].(string))
				all[i] = c
			}
		})
	}
	for i := range driftSchedules {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	out.note(t, "%d schedules created through the API in %s", driftSchedules, time.Since(began).Round(time.Second))

	// Break a random tenth, a quarter of it each way.
	perm := rand.Perm(driftSchedules)[:driftSchedules/10]
	kinds := []string{"Temporal deleted", "Temporal paused", "row deleted", "spec stale"}
	broken := map[string][]uuid.UUID{}
	sc := tc.ScheduleClient()
	for n, i := range perm {
		kind := kinds[n%len(kinds)]
		id := all[i].id
		h := sc.GetHandle(ctx, schedules.TemporalScheduleID(id))
		switch kind {
		case "Temporal deleted":
			require.NoError(t, untilAnswered(func() error { return h.Delete(ctx) }, true))
		case "Temporal paused":
			require.NoError(t, untilAnswered(func() error { return h.Pause(ctx, client.SchedulePauseOptions{Note: "behind the manager's back"}) }, false))
		case "row deleted":
			_, err := st.pool.Exec(ctx, "UPDATE schedules SET status = 'DELETED', deleted_at = now(), next_run_at = NULL WHERE id = $1", id)
			require.NoError(t, err)
		case "spec stale":
			require.NoError(t, untilAnswered(func() error {
				return h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
					in.Description.Schedule.Spec = &client.ScheduleSpec{CronExpressions: []string{"0 0 1 1 *"}}
					return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
				}})
			}, false))
		}
		broken[kind] = append(broken[kind], id)
	}
	out.note(t, "broken: %d Temporal deleted, %d Temporal paused, %d rows deleted, %d specs stale",
		len(broken[kinds[0]]), len(broken[kinds[1]]), len(broken[kinds[2]]), len(broken[kinds[3]]))
	time.Sleep(2 * time.Second) // Temporal's listing is eventually consistent

	rec := st.reconciler(tc)
	began = time.Now()
	first, err := rec.Reconcile(ctx)
	require.NoError(t, err)
	out.note(t, "pass 1 (%s): checked %d, recreated %d, pause fixed %d, orphans deleted %d, spec fixed %d, spec refreshed %d, next run fixed %d, failed %d",
		time.Since(began).Round(100*time.Millisecond), first.Checked, first.Recreated, first.PauseFixed, first.OrphansDeleted,
		first.SpecFixed, first.SpecRefreshed, first.NextRunFixed, first.Failed)
	require.Equal(t, len(broken["Temporal deleted"]), first.Recreated)
	require.Equal(t, len(broken["Temporal paused"]), first.PauseFixed)
	require.Equal(t, len(broken["row deleted"]), first.OrphansDeleted)
	require.Equal(t, len(broken["spec stale"]), first.SpecFixed)
	require.Zero(t, first.Failed)

	// Every row and its Temporal schedule agree: existence, paused state,
	// and the spec (Temporal's next action is the row's cron's next time).
	time.Sleep(2 * time.Second)
	diff, err := st.disagreements(ctx, tc, nil)
	require.NoError(t, err)
	require.Empty(t, diff, "after one pass")
	stale := 0
	for _, c := range all {
		if c.id == uuid.Nil || contains(broken["row deleted"], c.id) {
			continue
		}
		timing, err := cron.Parse(c.expr, c.zone)
		require.NoError(t, err)
		now := time.Now()
		desc, err := describe(ctx, tc, schedules.TemporalScheduleID(c.id))
		require.NoError(t, err)
		n1 := timing.Next(now)
		if got := desc.Info.NextActionTimes; len(got) == 0 || !(got[0].Equal(n1) || got[0].Equal(timing.Next(n1))) {
			stale++
			t.Errorf("schedule %s (%s %s): Temporal next %v, cron next %v", c.id, c.expr, c.zone, got, n1)
		}
	}
	require.Zero(t, stale, "specs that disagree with their row after one pass")

	second, err := rec.Reconcile(ctx)
	require.NoError(t, err)
	out.note(t, "pass 2: checked %d, repaired nothing (recreated %d, pause fixed %d, orphans deleted %d, spec fixed %d, spec refreshed %d, next run fixed %d, failed %d)",
		second.Checked, second.Recreated, second.PauseFixed, second.OrphansDeleted, second.SpecFixed, second.SpecRefreshed, second.NextRunFixed, second.Failed)
	require.Equal(t, schedules.ReconcileReport{Checked: driftSchedules - len(broken["row deleted"])}, second)
}

// untilAnswered makes a Temporal call that breaks a schedule, asking again
// while the server does not answer within the client's deadline: right
// after a burst of creates the dev server is still starting their
// scheduler workflows. Each call is idempotent; a delete retried after one
// that took effect finds the schedule gone, which is what it wanted.
func untilAnswered(call func() error, isDelete bool) error {
	var err error
	for attempt := range 5 {
		err = call()
		var nf *serviceerror.NotFound
		if isDelete && attempt > 0 && errors.As(err, &nf) {
			return nil
		}
		var deadline *serviceerror.DeadlineExceeded
		if !errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &deadline) && status.Code(err) != codes.DeadlineExceeded {
			return err
		}
	}
	return err
}

// quietCron is a random daily cron that does not fire in the next 20
// minutes, so that no firing moves next_run_at during the test.
func quietCron(zone string) created {
	for {
		expr := fmt.Sprintf("%d %d * * *", rand.IntN(60), rand.IntN(24))
		timing, err := cron.Parse(expr, zone)
		if err == nil && time.Until(timing.Next(time.Now())) > 20*time.Minute {
			return created{expr: expr, zone: zone}
		}
	}
}

func contains(ids []uuid.UUID, id uuid.UUID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
