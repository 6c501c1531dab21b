package store_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"schedsvc/notify"
	"schedsvc/schedules"
)

// TestRecordDeliveryUpsertRules: attempts only grow and delivered, once
// true, stays true, whatever order the writes arrive in.
func TestRecordDeliveryUpsertRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.schedule(t)
	wf := "scheduled-run-" + s.ID.String() + "-x"
	at := time.Now().UTC().Truncate(time.Millisecond)
	next := at.Add(5 * time.Second)
	d := notify.Delivery{
		EventID: notify.EventID(s.ID.String(), notify.Failed, wf), ScheduleID: s.ID.String(), WorkflowID: wf,
		Kind: notify.Failed, URL: "https://hooks.example.com/x", Attempts: 2, StatusCode: 503,
		LastError: "notification receiver answered 503", LastAttemptAt: at, NextAttemptAt: &next,
	}
	require.NoError(t, b.store.RecordDelivery(b.ctx, d))
	id := uuid.MustParse(d.EventID)
	got, err := b.store.NotificationDelivery(b.ctx, id)
	require.NoError(t, err)
	require.Equal(t, 2, got.Attempts)
	require.False(t, got.Delivered)
	require.Equal(t, 503, got.StatusCode)
	require.NotNil(t, got.NextAttemptAt)

	older := d
	older.Attempts, older.LastError = 1, "older"
	require.NoError(t, b.store.RecordDelivery(b.ctx, older))
	got, err = b.store.NotificationDelivery(b.ctx, id)
	require.NoError(t, err)
	require.Equal(t, 2, got.Attempts, "a late write of an earlier attempt changes nothing")
	require.Equal(t, d.LastError, got.LastError)

	ok := d
	ok.Attempts, ok.Delivered, ok.StatusCode, ok.LastError, ok.NextAttemptAt = 3, true, 204, "", nil
	require.NoError(t, b.store.RecordDelivery(b.ctx, ok))
	late := d
	late.Attempts = 4
	require.NoError(t, b.store.RecordDelivery(b.ctx, late))
	got, err = b.store.NotificationDelivery(b.ctx, id)
	require.NoError(t, err)
	require.True(t, got.Delivered, "delivered stays true")
	require.Equal(t, 3, got.Attempts)
	require.Empty(t, got.LastError)
	require.Nil(t, got.NextAttemptAt)

	_, err = b.store.NotificationDelivery(b.ctx, uuid.New())
	require.ErrorIs(t, err, schedules.ErrNotFound)
}

// TestScheduleNotifyRoundTrip: a schedule's target is stored and read back;
// the zero target is stored as none.
func TestScheduleNotifyRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.schedule(t)
	require.Empty(t, s.Notify.URL)
	s.Notify = notify.Target{URL: "https://hooks.example.com/x", On: []notify.Kind{notify.Failed, notify.SchedulePaused}}
	u, err := b.store.ScheduleUpdateConfig(b.ctx, s)
	require.NoError(t, err)
	require.Equal(t, s.Notify, u.Notify)
	s.Notify = notify.Target{}
	u, err = b.store.ScheduleUpdateConfig(b.ctx, s)
	require.NoError(t, err)
	require.Empty(t, u.Notify.URL)
	require.Empty(t, u.Notify.On)
}
