package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	dbgen "schedsvc/gen/db"
	"schedsvc/notify"
	"schedsvc/ptrutil"
	"schedsvc/schedules"
)

// ScheduleCount implements schedules.Store.
func (s *Store) ScheduleCount(ctx context.Context, owner schedules.Owner, status *schedules.Status) (int64, error) {
	var n int64
	var err error
	if status == nil {
		n, err = s.q.ScheduleCountByOwner(ctx, dbgen.ScheduleCountByOwnerParams{TenantID: owner.TenantID, UserID: owner.UserID})
	} else {
		n, err = s.q.ScheduleCountByOwnerStatus(ctx, dbgen.ScheduleCountByOwnerStatusParams{
			TenantID: owner.TenantID, UserID: owner.UserID, Status: ptrutil.Ptr(string(*status)),
		})
	}
	return n, interpret("count schedules", err)
}

// ScheduleCountForLimit implements schedules.Store.
func (s *Store) ScheduleCountForLimit(ctx context.Context, owner schedules.Owner) (int64, error) {
	n, err := s.q.ScheduleCountForLimit(ctx, dbgen.ScheduleCountForLimitParams{TenantID: owner.TenantID, UserID: owner.UserID})
	return n, interpret("count schedules for the limit", err)
}

// ScheduleReserve implements schedules.Store.
func (s *Store) ScheduleReserve(ctx context.Context, owner schedules.Owner, id uuid.UUID, maxPerUser int) (int64, error) {
	n, err := s.q.ScheduleReserve(ctx, dbgen.ScheduleReserveParams{
		ID: id, TenantID: owner.TenantID, UserID: owner.UserID, MaxPerUser: int64(maxPerUser),
	})
	return n, interpret("reserve schedule", err)
}

// ScheduleReservationDelete implements schedules.Store.
func (s *Store) ScheduleReservationDelete(ctx context.Context, id uuid.UUID) error {
	n, err := s.q.ScheduleReservationDelete(ctx, id)
	if err == nil && n == 0 {
		err = pgx.ErrNoRows
	}
	return interpret("end schedule reservation", err)
}

// ScheduleReservationsStale implements schedules.Store.
func (s *Store) ScheduleReservationsStale(ctx context.Context, before time.Time, limit int) ([]uuid.UUID, error) {
	ids, err := s.q.ScheduleReservationsStale(ctx, dbgen.ScheduleReservationsStaleParams{Before: before, BatchSize: int32(limit)})
	return ids, interpret("list stale schedule reservations", err)
}

// ScheduleReservationLockStale implements schedules.Store.
func (s *Store) ScheduleReservationLockStale(ctx context.Context, id uuid.UUID, before time.Time) error {
	_, err := s.q.ScheduleReservationLockStale(ctx, dbgen.ScheduleReservationLockStaleParams{ID: id, Before: before})
	return interpret("lock stale schedule reservation", err)
}

// ScheduleInsert implements schedules.Store.
func (s *Store) ScheduleInsert(ctx context.Context, in schedules.Schedule) (schedules.Schedule, error) {
	taskContext, err := encodeTaskContext(in.TaskContext)
	if err != nil {
		return schedules.Schedule{}, err
	}
	row, err := s.q.ScheduleInsert(ctx, dbgen.ScheduleInsertParams{
		ID:                         in.ID,
		UserID:                     in.Owner.UserID,
		TenantID:                   in.Owner.TenantID,
		Name:                       in.Name,
		Description:                in.Description,
		CronExpression:             in.CronExpression,
		Timezone:                   in.Timezone,
		TaskQuery:                  in.TaskQuery,
		TaskContext:                taskContext,
		MaxBudgetPerRunUsd:         floatToNumeric(in.MaxBudgetPerRunUSD),
		TimeoutSeconds:             int32(in.TimeoutSeconds),
		TemporalScheduleID:         schedules.TemporalScheduleID(in.ID),
		NextRunAt:                  in.NextRunAt,
		Executor:                   string(in.Executor),
		RetryMaxAttempts:           int32(in.Retry.MaxAttempts),
		RetryInitialBackoffSeconds: int32(in.Retry.InitialBackoffSeconds),
		RetryMaxBackoffSeconds:     int32(in.Retry.MaxBackoffSeconds),
		OverlapPolicy:              string(in.Overlap),
		PauseAfterFailures:         int32(in.PauseAfterFailures),
		StartAt:                    in.StartAt,
		EndAt:                      in.EndAt,
		MaxRuns:                    int4From(in.MaxRuns),
		NotifyUrl:                  notifyURL(in.Notify),
		NotifyOn:                   notifyOn(in.Notify),
	})
	return scheduleFrom("insert schedule", row, err)
}

// ScheduleInsertReserved implements schedules.Store.
func (s *Store) ScheduleInsertReserved(ctx context.Context, in schedules.Schedule, specRefreshAt time.Time, actor string) (schedules.Schedule, error) {
	taskContext, err := encodeTaskContext(in.TaskContext)
	if err != nil {
		return schedules.Schedule{}, err
	}
	row, err := s.q.ScheduleInsertReserved(ctx, dbgen.ScheduleInsertReservedParams{
		ID:                         in.ID,
		UserID:                     in.Owner.UserID,
		TenantID:                   in.Owner.TenantID,
		Name:                       in.Name,
		Description:                in.Description,
		CronExpression:             in.CronExpression,
		Timezone:                   in.Timezone,
		TaskQuery:                  in.TaskQuery,
		TaskContext:                taskContext,
		MaxBudgetPerRunUsd:         floatToNumeric(in.MaxBudgetPerRunUSD),
		TimeoutSeconds:             int32(in.TimeoutSeconds),
		TemporalScheduleID:         schedules.TemporalScheduleID(in.ID),
		NextRunAt:                  in.NextRunAt,
		Executor:                   string(in.Executor),
		RetryMaxAttempts:           int32(in.Retry.MaxAttempts),
		RetryInitialBackoffSeconds: int32(in.Retry.InitialBackoffSeconds),
		RetryMaxBackoffSeconds:     int32(in.Retry.MaxBackoffSeconds),
		OverlapPolicy:              string(in.Overlap),
		PauseAfterFailures:         int32(in.PauseAfterFailures),
		SpecRefreshAt:              specRefreshAt,
		NotifyUrl:                  notifyURL(in.Notify),
		NotifyOn:                   notifyOn(in.Notify),
		Actor:                      actor,
		StartAt:                    in.StartAt,
		EndAt:                      in.EndAt,
		MaxRuns:                    int4From(in.MaxRuns),
	})
	return scheduleFrom("insert reserved schedule", dbgen.Schedule(row), err)
}

// ScheduleGet implements schedules.Store.
func (s *Store) ScheduleGet(ctx context.Context, owner schedules.Owner, id uuid.UUID, forUpdate bool) (schedules.Schedule, error) {
	if forUpdate {
		row, err := s.q.ScheduleGetByOwnerForUpdate(ctx, dbgen.ScheduleGetByOwnerForUpdateParams{ID: id, TenantID: owner.TenantID, UserID: owner.UserID})
		return scheduleFrom("get schedule for update", row, err)
	}
	row, err := s.q.ScheduleGetByOwner(ctx, dbgen.ScheduleGetByOwnerParams{ID: id, TenantID: owner.TenantID, UserID: owner.UserID})
	return scheduleFrom("get schedule", row, err)
}

// ScheduleGetByID implements schedules.Store.
func (s *Store) ScheduleGetByID(ctx context.Context, id uuid.UUID, forUpdate bool) (schedules.Schedule, error) {
	if forUpdate {
		row, err := s.q.ScheduleGetByIDForUpdate(ctx, id)
		return scheduleFrom("get schedule by id for update", row, err)
	}
	row, err := s.q.ScheduleGetByID(ctx, id)
	return scheduleFrom("get schedule by id", row, err)
}

// ScheduleList implements schedules.Store.
func (s *Store) ScheduleList(ctx context.Context, owner schedules.Owner, status *schedules.Status, lq schedules.ListQuery) ([]schedules.Schedule, error) {
	var statusText *string
	if status != nil {
		statusText = ptrutil.Ptr(string(*status))
	}
	var rows []dbgen.Schedule
	var err error
	if lq.After != nil {
		rows, err = s.q.ScheduleListByOwnerAfter(ctx, dbgen.ScheduleListByOwnerAfterParams{
			TenantID: owner.TenantID, UserID: owner.UserID, Status: statusText,
			AfterCreatedAt: lq.After.At, AfterID: lq.After.ID, PageSize: int32(lq.Limit),
		})
	} else {
		rows, err = s.q.ScheduleListByOwner(ctx, dbgen.ScheduleListByOwnerParams{
			TenantID: owner.TenantID, UserID: owner.UserID, Status: statusText,
			PageSize: int32(lq.Limit), PageOffset: int32(lq.Offset),
		})
	}
	if err != nil {
		return nil, interpret("list schedules", err)
	}
	return convertAll(rows, scheduleFromRow)
}

// ScheduleUpdateConfig implements schedules.Store.
func (s *Store) ScheduleUpdateConfig(ctx context.Context, in schedules.Schedule) (schedules.Schedule, error) {
	taskContext, err := encodeTaskContext(in.TaskContext)
	if err != nil {
		return schedules.Schedule{}, err
	}
	row, err := s.q.ScheduleUpdateConfig(ctx, dbgen.ScheduleUpdateConfigParams{
		ID:                         in.ID,
		Name:                       in.Name,
		Description:                in.Description,
		CronExpression:             in.CronExpression,
		Timezone:                   in.Timezone,
		TaskQuery:                  in.TaskQuery,
		TaskContext:                taskContext,
		MaxBudgetPerRunUsd:         floatToNumeric(in.MaxBudgetPerRunUSD),
		TimeoutSeconds:             int32(in.TimeoutSeconds),
		NextRunAt:                  in.NextRunAt,
		Executor:                   string(in.Executor),
		RetryMaxAttempts:           int32(in.Retry.MaxAttempts),
		RetryInitialBackoffSeconds: int32(in.Retry.InitialBackoffSeconds),
		RetryMaxBackoffSeconds:     int32(in.Retry.MaxBackoffSeconds),
		OverlapPolicy:              string(in.Overlap),
		PauseAfterFailures:         int32(in.PauseAfterFailures),
		StartAt:                    in.StartAt,
		EndAt:                      in.EndAt,
		MaxRuns:                    int4From(in.MaxRuns),
		Status:                     string(in.Status),
		CompletedAt:                in.CompletedAt,
		NotifyUrl:                  notifyURL(in.Notify),
		NotifyOn:                   notifyOn(in.Notify),
	})
	return scheduleFrom("update schedule", row, err)
}

// SchedulePause implements schedules.Store.
func (s *Store) SchedulePause(ctx context.Context, id uuid.UUID, by, reason string) (schedules.Schedule, error) {
	row, err := s.q.SchedulePause(ctx, dbgen.SchedulePauseParams{ID: id, PausedBy: &by, PauseReason: ptrutil.NilIfZero(reason)})
	return scheduleFrom("pause schedule", row, err)
}

// ScheduleResume implements schedules.Store.
func (s *Store) ScheduleResume(ctx context.Context, id uuid.UUID, by, reason string, next time.Time) (schedules.Schedule, error) {
	row, err := s.q.ScheduleResume(ctx, dbgen.ScheduleResumeParams{ID: id, ResumedBy: &by, ResumeReason: ptrutil.NilIfZero(reason), NextRunAt: &next})
	return scheduleFrom("resume schedule", row, err)
}

// ScheduleSoftDelete implements schedules.Store.
func (s *Store) ScheduleSoftDelete(ctx context.Context, id uuid.UUID) error {
	return interpret("delete schedule", s.q.ScheduleSoftDelete(ctx, id))
}

// ScheduleSetSpecRefresh implements schedules.Store.
func (s *Store) ScheduleSetSpecRefresh(ctx context.Context, id uuid.UUID, at time.Time) error {
	return interpret("record spec refresh", s.q.ScheduleSetSpecRefresh(ctx, dbgen.ScheduleSetSpecRefreshParams{ID: id, SpecRefreshAt: &at}))
}

// ScheduleSetNextRun implements schedules.Store.
func (s *Store) ScheduleSetNextRun(ctx context.Context, id uuid.UUID, at time.Time) error {
	return interpret("set next run", s.q.ScheduleSetNextRun(ctx, dbgen.ScheduleSetNextRunParams{ID: id, NextRunAt: &at}))
}

// ScheduleListLive implements schedules.Store.
func (s *Store) ScheduleListLive(ctx context.Context, after uuid.UUID, limit int) ([]schedules.LiveSchedule, error) {
	rows, err := s.q.ScheduleListLiveAfter(ctx, dbgen.ScheduleListLiveAfterParams{AfterID: after, BatchSize: int32(limit)})
	if err != nil {
		return nil, interpret("list live schedules", err)
	}
	out := make([]schedules.LiveSchedule, len(rows))
	for i, r := range rows {
		out[i] = schedules.LiveSchedule{ID: r.ID, SpecRefreshAt: r.SpecRefreshAt}
	}
	return out, nil
}

// ScheduleLockLive implements schedules.Store.
func (s *Store) ScheduleLockLive(ctx context.Context, id uuid.UUID) (schedules.Schedule, error) {
	row, err := s.q.ScheduleGetLiveForUpdateSkipLocked(ctx, id)
	return scheduleFrom("lock live schedule", row, err)
}

// ScheduleStatus implements schedules.Store.
func (s *Store) ScheduleStatus(ctx context.Context, id uuid.UUID) (schedules.Status, error) {
	status, err := s.q.ScheduleStatusByID(ctx, id)
	return schedules.Status(status), interpret("schedule status", err)
}

// ScheduleComplete implements schedules.Store.
func (s *Store) ScheduleComplete(ctx context.Context, id uuid.UUID) error {
	return interpret("complete schedule", s.q.ScheduleComplete(ctx, id))
}

// ScheduleRecordRunStart implements schedules.Store.
func (s *Store) ScheduleRecordRunStart(ctx context.Context, id uuid.UUID, triggeredAt time.Time, scheduled bool, next *time.Time) error {
	return interpret("count run start", s.q.ScheduleRecordRunStart(ctx, dbgen.ScheduleRecordRunStartParams{
		ID: id, TriggeredAt: triggeredAt, Scheduled: scheduled, NextRunAt: next,
	}))
}

// ScheduleRecordRunCompletion implements schedules.Store.
func (s *Store) ScheduleRecordRunCompletion(ctx context.Context, c schedules.RunCounted) (schedules.FailureState, error) {
	st, err := s.q.ScheduleRecordRunCompletion(ctx, dbgen.ScheduleRecordRunCompletionParams{
		ID:               c.ScheduleID,
		Succeeded:        c.Succeeded,
		Tokens:           c.Usage.TotalTokens,
		PromptTokens:     c.Usage.PromptTokens,
		CompletionTokens: c.Usage.CompletionTokens,
		CostUsd:          floatToNumeric(c.Usage.TotalCostUSD),
		SkippedRuns:      c.SkippedRuns,
	})
	if err != nil {
		return schedules.FailureState{}, interpret("count run completion", err)
	}
	return schedules.FailureState{
		Status: schedules.Status(st.Status), ConsecutiveFailures: int(st.ConsecutiveFailures), PauseAfterFailures: int(st.PauseAfterFailures),
	}, nil
}

// SchedulePauseAfterFailures implements schedules.Store.
func (s *Store) SchedulePauseAfterFailures(ctx context.Context, id uuid.UUID, reason string) error {
	return interpret("pause schedule after failures", s.q.SchedulePauseAfterFailures(ctx, dbgen.SchedulePauseAfterFailuresParams{ID: id, PauseReason: &reason}))
}

// scheduleFrom converts the row a query returned, or interprets its error.
func scheduleFrom(op string, row dbgen.Schedule, err error) (schedules.Schedule, error) {
	if err != nil {
		return schedules.Schedule{}, interpret(op, err)
	}
	return scheduleFromRow(row)
}

func scheduleFromRow(r dbgen.Schedule) (schedules.Schedule, error) {
	s := schedules.Schedule{
		ID:                 r.ID,
		Owner:              schedules.Owner{UserID: r.UserID, TenantID: r.TenantID},
		Name:               r.Name,
		Description:        r.Description,
		CronExpression:     r.CronExpression,
		Timezone:           r.Timezone,
		TaskQuery:          r.TaskQuery,
		MaxBudgetPerRunUSD: numericToFloat(r.MaxBudgetPerRunUsd),
		TimeoutSeconds:     int(r.TimeoutSeconds),
		Status:             schedules.Status(r.Status),
		CreatedAt:          r.CreatedAt,
		UpdatedAt:          r.UpdatedAt,
		LastRunAt:          r.LastRunAt,
		NextRunAt:          r.NextRunAt,
		TotalRuns:          r.TotalRuns,
		ScheduledRuns:      r.ScheduledRuns,
		SuccessfulRuns:     r.SuccessfulRuns,
		FailedRuns:         r.FailedRuns,
		TotalTokens:        r.TotalTokens,
		TotalCostUSD:       numericToFloat(r.TotalCostUsd),
		PausedAt:           r.PausedAt,
		PausedBy:           r.PausedBy,
		PauseReason:        r.PauseReason,
		ResumedAt:          r.ResumedAt,
		ResumedBy:          r.ResumedBy,
		ResumeReason:       r.ResumeReason,
		Executor:           schedules.Executor(r.Executor),
		Retry: schedules.RetryPolicy{
			MaxAttempts:           int(r.RetryMaxAttempts),
			InitialBackoffSeconds: int(r.RetryInitialBackoffSeconds),
			MaxBackoffSeconds:     int(r.RetryMaxBackoffSeconds),
		},
		Overlap:               schedules.OverlapPolicy(r.OverlapPolicy),
		PauseAfterFailures:    int(r.PauseAfterFailures),
		ConsecutiveFailures:   int(r.ConsecutiveFailures),
		SkippedRuns:           r.SkippedRuns,
		TotalPromptTokens:     r.TotalPromptTokens,
		TotalCompletionTokens: r.TotalCompletionTokens,
		StartAt:               r.StartAt,
		EndAt:                 r.EndAt,
		CompletedAt:           r.CompletedAt,
	}
	if r.MaxRuns.Valid {
		s.MaxRuns = ptrutil.Ptr(int(r.MaxRuns.Int32))
	}
	if r.NotifyUrl != nil {
		s.Notify.URL = *r.NotifyUrl
		for _, k := range r.NotifyOn {
			s.Notify.On = append(s.Notify.On, notify.Kind(k))
		}
	}
	if len(r.TaskContext) > 0 && string(r.TaskContext) != "null" {
		if err := json.Unmarshal(r.TaskContext, &s.TaskContext); err != nil {
			return schedules.Schedule{}, fmt.Errorf("decode task_context of schedule %s: %w", r.ID, err)
		}
	}
	return s, nil
}

// int4From is a nullable integer column's value; max_runs is bounded by
// the spec well inside int32.
func int4From(n *int) pgtype.Int4 {
	if n == nil {
		return pgtype.Int4{}
	}
	return pgtype.Int4{Int32: int32(*n), Valid: true}
}

// notifyURL and notifyOn store a notification target: no URL and no
// kinds for the zero Target.
func notifyURL(t notify.Target) *string {
	if t.URL == "" {
		return nil
	}
	return &t.URL
}

func notifyOn(t notify.Target) []string {
	on := []string{}
	if t.URL == "" {
		return on
	}
	for _, k := range t.On {
		on = append(on, string(k))
	}
	return on
}

func encodeTaskContext(c map[string]any) ([]byte, error) {
	if c == nil {
		return nil, nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode task_context: %w", err)
	}
	return b, nil
}

func convertAll[R, T any](rows []R, convert func(R) (T, error)) ([]T, error) {
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		item, err := convert(r)
		if err != nil {
			return nil, err
		}
		out = append(out, item)
	}
	return out, nil
}
