package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	dbgen "schedsvc/gen/db"
	"schedsvc/notify"
	"schedsvc/ptrutil"
)

var _ notify.Recorder = (*Store)(nil)

// RecordDelivery implements notify.Recorder: an upsert by event id under
// notify.Delivery's rules (attempts only grow, delivered stays true).
func (s *Store) RecordDelivery(ctx context.Context, d notify.Delivery) error {
	eventID, err := uuid.Parse(d.EventID)
	if err != nil {
		return fmt.Errorf("record notification delivery: event id %q: %w", d.EventID, err)
	}
	scheduleID, err := uuid.Parse(d.ScheduleID)
	if err != nil {
		return fmt.Errorf("record notification delivery: schedule id %q: %w", d.ScheduleID, err)
	}
	status := pgtype.Int4{Int32: int32(d.StatusCode), Valid: d.StatusCode != 0}
	return interpret("record notification delivery", s.q.NotificationDeliveryUpsert(ctx, dbgen.NotificationDeliveryUpsertParams{
		EventID:       eventID,
		ScheduleID:    scheduleID,
		WorkflowID:    ptrutil.NilIfZero(d.WorkflowID),
		Kind:          string(d.Kind),
		Url:           d.URL,
		Attempts:      int32(d.Attempts),
		Delivered:     d.Delivered,
		StatusCode:    status,
		LastError:     ptrutil.NilIfZero(d.LastError),
		LastAttemptAt: d.LastAttemptAt,
		NextAttemptAt: d.NextAttemptAt,
	}))
}

// NotificationDelivery returns the delivery of one event; ErrNotFound when
// none was recorded.
func (s *Store) NotificationDelivery(ctx context.Context, eventID uuid.UUID) (notify.Delivery, error) {
	row, err := s.q.NotificationDeliveryGet(ctx, eventID)
	if err != nil {
		return notify.Delivery{}, interpret("get notification delivery", err)
	}
	return deliveryFromRow(row), nil
}

func deliveryFromRow(r dbgen.NotificationDelivery) notify.Delivery {
	return notify.Delivery{
		EventID:       r.EventID.String(),
		ScheduleID:    r.ScheduleID.String(),
		WorkflowID:    ptrutil.ValOrDefault(r.WorkflowID, ""),
		Kind:          notify.Kind(r.Kind),
		URL:           r.Url,
		Attempts:      int(r.Attempts),
		Delivered:     r.Delivered,
		StatusCode:    int(r.StatusCode.Int32),
		LastError:     ptrutil.ValOrDefault(r.LastError, ""),
		LastAttemptAt: r.LastAttemptAt,
		NextAttemptAt: r.NextAttemptAt,
	}
}
