package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"schedsvc/schedules"
	"schedsvc/store"
)

// TestReservationsCountForTheLimit: the limit counts live schedules and
// reservations (creates in flight), not deleted schedules or another
// owner's; a reservation ends once.
func TestReservationsCountForTheLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	live := b.schedule(t)
	gone := b.schedule(t)
	require.NoError(t, b.store.ScheduleSoftDelete(b.ctx, gone.ID))
	r1, r2 := uuid.New(), uuid.New()
	before, err := b.store.ScheduleReserve(b.ctx, b.owner, r1, 100)
	require.NoError(t, err)
	require.EqualValues(t, 1, before, "the live schedule, not the deleted one")
	before, err = b.store.ScheduleReserve(b.ctx, b.owner, r2, 100)
	require.NoError(t, err)
	require.EqualValues(t, 2, before)
	_, err = b.store.ScheduleReserve(b.ctx, schedules.Owner{UserID: b.owner.UserID, TenantID: "other"}, uuid.New(), 100)
	require.NoError(t, err)
	before, err = b.store.ScheduleReserve(b.ctx, b.owner, uuid.New(), 3)
	require.NoError(t, err)
	require.EqualValues(t, 3, before, "at the limit")

	n, err := b.store.ScheduleCountForLimit(b.ctx, b.owner)
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "one live schedule and two reservations")
	n, err = b.store.ScheduleCount(b.ctx, b.owner, nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "reads count schedules only")
	list, err := b.store.ScheduleList(b.ctx, b.owner, nil, schedules.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []schedules.Schedule{live}, list)
	_, err = b.store.ScheduleGet(b.ctx, b.owner, r1, false)
	require.ErrorIs(t, err, schedules.ErrNotFound)

	require.NoError(t, b.store.ScheduleReservationDelete(b.ctx, r1))
	require.ErrorIs(t, b.store.ScheduleReservationDelete(b.ctx, r1), schedules.ErrNotFound)
	n, err = b.store.ScheduleCountForLimit(b.ctx, b.owner)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	_, err = b.store.ScheduleReserve(b.ctx, b.owner, r2, 100)
	require.ErrorIs(t, err, schedules.ErrConflict)
}

// TestInsertReserved: the row goes in only while its reservation is there,
// and ends it in the same statement.
func TestInsertReserved(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.schedule(t)
	s.ID = uuid.New()
	refresh := time.Date(2027, 3, 28, 1, 0, 0, 0, time.UTC)
	_, err := b.store.ScheduleInsertReserved(b.ctx, s, refresh, b.owner.UserID)
	require.ErrorIs(t, err, schedules.ErrNotFound, "no reservation, no row")
	_, err = b.store.ScheduleGet(b.ctx, b.owner, s.ID, false)
	require.ErrorIs(t, err, schedules.ErrNotFound)

	_, err = b.store.ScheduleReserve(b.ctx, b.owner, s.ID, 100)
	require.NoError(t, err)
	n, err := b.store.ScheduleCountForLimit(b.ctx, b.owner)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	got, err := b.store.ScheduleInsertReserved(b.ctx, s, refresh, b.owner.UserID)
	require.NoError(t, err)
	require.Equal(t, s.ID, got.ID)
	require.Equal(t, schedules.StatusActive, got.Status)
	require.Equal(t, s.CronExpression, got.CronExpression)
	n, err = b.store.ScheduleCountForLimit(b.ctx, b.owner)
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "the reservation became the row")
	require.ErrorIs(t, b.store.ScheduleReservationDelete(b.ctx, s.ID), schedules.ErrNotFound)
	live, err := b.store.ScheduleListLive(b.ctx, uuid.Nil, 100000)
	require.NoError(t, err)
	found := false
	for _, l := range live {
		if l.ID == s.ID {
			found = true
			require.NotNil(t, l.SpecRefreshAt)
			require.True(t, l.SpecRefreshAt.Equal(refresh), "spec refresh stored with the row: %s", l.SpecRefreshAt)
		}
	}
	require.True(t, found)
}

// TestStaleReservations: only reservations made before the cut are stale,
// and one a creator is finishing (its row locked) is skipped, not waited
// for.
func TestStaleReservations(t *testing.T) {
	t.Parallel()
	if pool == nil {
		t.Skip("integration test: needs PostgreSQL (run without -short)")
	}
	ctx := context.Background()
	st := store.New(pool)
	owner := schedules.Owner{UserID: "u-" + uuid.NewString(), TenantID: "t"}
	old, fresh := uuid.New(), uuid.New()
	for _, id := range []uuid.UUID{old, fresh} {
		_, err := st.ScheduleReserve(ctx, owner, id, 100)
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		_ = st.ScheduleReservationDelete(context.Background(), old)
		_ = st.ScheduleReservationDelete(context.Background(), fresh)
	})
	_, err := pool.Exec(ctx, "UPDATE schedule_reservations SET reserved_at = now() - interval '1 hour' WHERE id = $1", old)
	require.NoError(t, err)
	cut := time.Now().Add(-time.Minute)

	stale, err := st.ScheduleReservationsStale(ctx, cut, 1000)
	require.NoError(t, err)
	require.Contains(t, stale, old)
	require.NotContains(t, stale, fresh)
	require.ErrorIs(t, st.ScheduleReservationLockStale(ctx, fresh, cut), schedules.ErrNotFound, "a fresh one is not stale")

	// A creator finishing old holds its row: the reconciler skips it.
	finishing, err := pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, store.New(finishing).ScheduleReservationDelete(ctx, old))
	err = st.InTx(ctx, func(tx schedules.Store) error { return tx.ScheduleReservationLockStale(ctx, old, cut) }, nil)
	require.ErrorIs(t, err, schedules.ErrNotFound, "skipped while locked")
	require.NoError(t, finishing.Rollback(ctx))
	err = st.InTx(ctx, func(tx schedules.Store) error {
		if err := tx.ScheduleReservationLockStale(ctx, old, cut); err != nil {
			return err
		}
		return tx.ScheduleReservationDelete(ctx, old)
	}, nil)
	require.NoError(t, err, "locked and removed once the creator gave up")
	stale, err = st.ScheduleReservationsStale(ctx, cut, 1000)
	require.NoError(t, err)
	require.NotContains(t, stale, old)
}

// TestOwnerCountFollowsEveryChange: the owner's count row (what the limit
// reads) equals live schedules plus reservations after every kind of
// change: a reservation, its row, an undone create, a delete, a status
// written behind the store's back, a row hard-deleted, a row made without a
// reservation.
func TestOwnerCountFollowsEveryChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	check := func(what string) {
		t.Helper()
		var counted, actual int64
		err := b.tx.QueryRow(b.ctx, "SELECT coalesce((SELECT live FROM schedule_owner_counts WHERE tenant_id = $1 AND user_id = $2), 0)",
			b.owner.TenantID, b.owner.UserID).Scan(&counted)
		require.NoError(t, err)
		actual, err = b.store.ScheduleCountForLimit(b.ctx, b.owner)
		require.NoError(t, err)
		require.Equal(t, actual, counted, "after %s", what)
	}
	check("nothing")
	a := b.schedule(t)
	check("a row made without a reservation")
	s := a
	s.ID = uuid.New()
	_, err := b.store.ScheduleReserve(b.ctx, b.owner, s.ID, 100)
	require.NoError(t, err)
	check("a reservation")
	_, err = b.store.ScheduleInsertReserved(b.ctx, s, time.Now(), b.owner.UserID)
	require.NoError(t, err)
	check("the reservation becoming its row")
	var created int
	require.NoError(t, b.tx.QueryRow(b.ctx, "SELECT count(*) FROM schedule_events WHERE schedule_id = $1 AND kind = 'created' AND actor = $2", s.ID, b.owner.UserID).Scan(&created))
	require.Equal(t, 1, created, "the row's created event, in the same statement")
	undone := uuid.New()
	_, err = b.store.ScheduleReserve(b.ctx, b.owner, undone, 100)
	require.NoError(t, err)
	require.NoError(t, b.store.ScheduleReservationDelete(b.ctx, undone))
	check("an undone create")
	require.NoError(t, b.store.ScheduleSoftDelete(b.ctx, a.ID))
	check("a delete")
	require.NoError(t, b.store.ScheduleSoftDelete(b.ctx, a.ID))
	check("a second delete of the same row")
	_, err = b.tx.Exec(b.ctx, "UPDATE schedules SET status = 'PAUSED' WHERE id = $1", a.ID)
	require.NoError(t, err)
	check("a deleted row made live behind the store's back")
	_, err = b.tx.Exec(b.ctx, "UPDATE schedules SET status = 'PAUSED' WHERE id = $1", s.ID)
	require.NoError(t, err)
	check("a live row paused")
	_, err = b.tx.Exec(b.ctx, "DELETE FROM schedule_events WHERE schedule_id = $1", s.ID)
	require.NoError(t, err)
	_, err = b.tx.Exec(b.ctx, "DELETE FROM schedules WHERE id = $1", s.ID)
	require.NoError(t, err)
	check("a live row hard-deleted")

	n, err := b.store.ScheduleReserve(b.ctx, b.owner, uuid.New(), 2)
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the limit reads the count: one live row")
	n, err = b.store.ScheduleReserve(b.ctx, b.owner, uuid.New(), 2)
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "at the limit: not reserved")
	check("a refused reservation")
}
