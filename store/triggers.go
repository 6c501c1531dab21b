package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbgen "schedsvc/gen/db"
	"schedsvc/schedules"
)

// TriggerIntentInsert implements schedules.Store.
func (s *Store) TriggerIntentInsert(ctx context.Context, scheduleID uuid.UUID, at time.Time, kind schedules.RunTrigger) error {
	return interpret("insert trigger intent", s.q.TriggerIntentInsert(ctx, dbgen.TriggerIntentInsertParams{
		ScheduleID: scheduleID, NominalTime: at.Truncate(time.Second), Kind: string(kind),
	}))
}

// TriggerIntentDeleteStale implements schedules.Store.
func (s *Store) TriggerIntentDeleteStale(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.q.TriggerIntentDeleteStale(ctx, before)
	return n, interpret("delete stale trigger intents", err)
}

// TriggerIntentClaim implements schedules.Store.
func (s *Store) TriggerIntentClaim(ctx context.Context, scheduleID uuid.UUID, at time.Time) (schedules.RunTrigger, error) {
	kind, err := s.q.TriggerIntentClaim(ctx, dbgen.TriggerIntentClaimParams{ScheduleID: scheduleID, NominalTime: at.Truncate(time.Second)})
	if errors.Is(err, pgx.ErrNoRows) {
		return schedules.TriggerScheduled, nil
	}
	if err != nil {
		return "", interpret("claim trigger intent", err)
	}
	return schedules.RunTrigger(kind), nil
}
