package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	dbgen "schedsvc/gen/db"
	"schedsvc/ptrutil"
	"schedsvc/schedules"
)

// EventInsert implements schedules.EventStore.
func (s *Store) EventInsert(ctx context.Context, e schedules.Event) error {
	var changes []byte
	if len(e.Changes) > 0 {
		var err error
		if changes, err = json.Marshal(e.Changes); err != nil {
			return fmt.Errorf("encode changes of a %s event: %w", e.Kind, err)
		}
	}
	err := s.q.EventInsert(ctx, dbgen.EventInsertParams{
		ScheduleID: e.ScheduleID, Kind: string(e.Kind), Actor: e.Actor,
		Reason: ptrutil.NilIfZero(e.Reason), Changes: changes,
	})
	return interpret("insert event", err)
}

// EventList implements schedules.EventStore.
func (s *Store) EventList(ctx context.Context, scheduleID uuid.UUID, lq schedules.ListQuery) ([]schedules.Event, error) {
	var rows []dbgen.ScheduleEvent
	var err error
	if lq.After != nil {
		rows, err = s.q.EventListByScheduleAfter(ctx, dbgen.EventListByScheduleAfterParams{
			ScheduleID: scheduleID, AfterID: lq.After.Seq, PageSize: int32(lq.Limit),
		})
	} else {
		rows, err = s.q.EventListBySchedule(ctx, dbgen.EventListByScheduleParams{ScheduleID: scheduleID, PageSize: int32(lq.Limit)})
	}
	if err != nil {
		return nil, interpret("list events", err)
	}
	out := make([]schedules.Event, len(rows))
	for i, r := range rows {
		e := schedules.Event{
			ID: r.ID, ScheduleID: r.ScheduleID, Kind: schedules.EventKind(r.Kind), Actor: r.Actor,
			Reason: ptrutil.ValOrDefault(r.Reason, ""), CreatedAt: r.CreatedAt,
		}
		if len(r.Changes) > 0 {
			if err := json.Unmarshal(r.Changes, &e.Changes); err != nil {
				return nil, fmt.Errorf("decode changes of event %d: %w", r.ID, err)
			}
		}
		out[i] = e
	}
	return out, nil
}

// ScheduleOwned implements schedules.EventStore.
func (s *Store) ScheduleOwned(ctx context.Context, owner schedules.Owner, id uuid.UUID) (bool, error) {
	ok, err := s.q.ScheduleExistsForOwner(ctx, dbgen.ScheduleExistsForOwnerParams{ID: id, TenantID: owner.TenantID, UserID: owner.UserID})
	return ok, interpret("check schedule owner", err)
}
