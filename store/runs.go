package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	dbgen "schedsvc/gen/db"
	"schedsvc/notify"
	"schedsvc/ptrutil"
	"schedsvc/schedules"
)

// RunInsertStart implements schedules.Store.
func (s *Store) RunInsertStart(ctx context.Context, in schedules.RunStart) (bool, error) {
	_, err := s.q.RunInsertStart(ctx, dbgen.RunInsertStartParams{
		ScheduleID:    in.ScheduleID,
		WorkflowID:    in.WorkflowID,
		TemporalRunID: in.TemporalRunID,
		Query:         in.Query,
		TriggeredAt:   in.TriggeredAt,
		StartedAt:     in.StartedAt,
		Executor:      ptrutil.NilIfZero(string(in.Executor)),
		Trigger:       string(cmp.Or(in.Trigger, schedules.TriggerScheduled)),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // ON CONFLICT DO NOTHING: recorded before
	}
	return err == nil, interpret("insert run", err)
}

// RunWorkflowIDsRecorded implements schedules.Store.
func (s *Store) RunWorkflowIDsRecorded(ctx context.Context, workflowIDs []string) ([]string, error) {
	ids, err := s.q.RunWorkflowIDsRecorded(ctx, workflowIDs)
	return ids, interpret("find recorded runs", err)
}

// RunComplete implements schedules.Store.
func (s *Store) RunComplete(ctx context.Context, in schedules.RunCompletion) (schedules.CompletedRun, error) {
	attempts := make([]schedules.Attempt, len(in.Attempts))
	for i, a := range in.Attempts {
		a.ErrorMessage, a.ModelUsed = storableText(a.ErrorMessage), storableText(a.ModelUsed)
		attempts[i] = a
	}
	encoded, err := json.Marshal(attempts)
	if err != nil {
		return schedules.CompletedRun{}, fmt.Errorf("encode attempts: %w", err)
	}
	row, err := s.q.RunComplete(ctx, dbgen.RunCompleteParams{
		WorkflowID:       in.WorkflowID,
		Status:           string(in.Status),
		Result:           storableTextPtr(in.Result),
		ErrorMessage:     storableTextPtr(in.ErrorMessage),
		ModelUsed:        ptrutil.NilIfZero(storableText(in.ModelUsed)),
		Provider:         ptrutil.NilIfZero(storableText(in.Provider)),
		TotalTokens:      in.TotalTokens,
		TotalCostUsd:     floatToNumeric(in.TotalCostUSD),
		CompletedAt:      &in.CompletedAt,
		PromptTokens:     in.PromptTokens,
		CompletionTokens: in.CompletionTokens,
		AttemptCount:     int32(len(in.Attempts)),
		Attempts:         encoded,
	})
	if err != nil {
		return schedules.CompletedRun{}, interpret("complete run", err)
	}
	return schedules.CompletedRun{
		ScheduleID: row.ScheduleID, TriggeredAt: row.TriggeredAt, StartedAt: row.StartedAt,
		CronExpression: row.CronExpression, Timezone: row.Timezone,
	}, nil
}

// ScheduleRaiseSkippedRuns implements schedules.Store.
func (s *Store) ScheduleRaiseSkippedRuns(ctx context.Context, id uuid.UUID, n int64) error {
	return interpret("raise skipped runs", s.q.ScheduleRaiseSkippedRuns(ctx, dbgen.ScheduleRaiseSkippedRunsParams{ID: id, SkippedRuns: n}))
}

// storableText makes text from outside the service (an executor's answer,
// an endpoint's error body) storable: PostgreSQL's text and jsonb hold
// neither NUL nor invalid UTF-8, so those bytes become U+FFFD instead of
// failing the record, which the activity would retry forever.
func storableText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func storableTextPtr(s *string) *string {
	if s == nil {
		return nil
	}
	return ptrutil.Ptr(storableText(*s))
}

// RunMarkPausedSchedule implements schedules.Store.
func (s *Store) RunMarkPausedSchedule(ctx context.Context, workflowID string) error {
	return interpret("mark run as pausing its schedule", s.q.RunMarkPausedSchedule(ctx, workflowID))
}

// RunList implements schedules.Store.
func (s *Store) RunList(ctx context.Context, scheduleID uuid.UUID, lq schedules.ListQuery) ([]schedules.Run, error) {
	var rows []dbgen.VScheduleExecutionHistory
	var err error
	if lq.After != nil {
		rows, err = s.q.RunHistoryListByScheduleAfter(ctx, dbgen.RunHistoryListByScheduleAfterParams{
			ScheduleID: scheduleID, AfterSeq: lq.After.Seq, PageSize: int32(lq.Limit),
		})
	} else {
		rows, err = s.q.RunHistoryListBySchedule(ctx, dbgen.RunHistoryListByScheduleParams{
			ScheduleID: scheduleID, PageSize: int32(lq.Limit), PageOffset: int64(lq.Offset),
		})
	}
	if err != nil {
		return nil, interpret("list runs", err)
	}
	out := make([]schedules.Run, len(rows))
	for i, r := range rows {
		out[i] = runFromRow(r)
	}
	return out, nil
}

// RunGet implements schedules.Store.
func (s *Store) RunGet(ctx context.Context, scheduleID, runID uuid.UUID) (schedules.RunDetail, error) {
	row, err := s.q.RunHistoryGetBySchedule(ctx, dbgen.RunHistoryGetByScheduleParams{ScheduleID: scheduleID, ID: runID})
	if err != nil {
		return schedules.RunDetail{}, interpret("get run", err)
	}
	d := schedules.RunDetail{Run: runFromRow(row), Attempts: []schedules.Attempt{}}
	if len(row.Attempts) > 0 {
		if err := json.Unmarshal(row.Attempts, &d.Attempts); err != nil {
			return schedules.RunDetail{}, fmt.Errorf("decode attempts of run %s: %w", row.ID, err)
		}
	}
	deliveries, err := s.q.NotificationDeliveryListByWorkflow(ctx, &row.WorkflowID)
	if err != nil {
		return schedules.RunDetail{}, interpret("list notification deliveries", err)
	}
	d.Notifications = make([]notify.Delivery, 0, len(deliveries))
	for _, r := range deliveries {
		d.Notifications = append(d.Notifications, deliveryFromRow(r))
	}
	return d, nil
}

func runFromRow(r dbgen.VScheduleExecutionHistory) schedules.Run {
	return schedules.Run{
		ID:           r.ID,
		ScheduleID:   r.ScheduleID,
		WorkflowID:   r.WorkflowID,
		Query:        r.Query,
		Status:       schedules.RunStatus(r.Status),
		Result:       r.Result,
		ErrorMessage: r.ErrorMessage,
		ModelUsed:    r.ModelUsed,
		Provider:     r.Provider,
		TotalTokens:  r.TotalTokens,
		TotalCostUSD: numericToFloat(r.TotalCostUsd),
		DurationMS:   r.DurationMs,
		TriggeredAt:  r.TriggeredAt,
		StartedAt:    r.StartedAt,
		CompletedAt:  r.CompletedAt,

		Executor:         r.Executor,
		PromptTokens:     r.PromptTokens,
		CompletionTokens: r.CompletionTokens,
		AttemptCount:     int(r.AttemptCount),
		PausedSchedule:   r.PausedSchedule,
		Trigger:          schedules.RunTrigger(r.Trigger),
		Seq:              r.Seq,
	}
}

// numericToFloat converts a money column for the API, which speaks JSON
// numbers; the database keeps the exact decimal.
func numericToFloat(n pgtype.Numeric) float64 {
	f, err := n.Float64Value()
	if err != nil || !f.Valid {
		return 0
	}
	return f.Float64
}

// floatToNumeric stores a money amount rounded to the column's six decimals.
func floatToNumeric(f float64) pgtype.Numeric {
	var n pgtype.Numeric
	if err := n.Scan(strconv.FormatFloat(f, 'f', 6, 64)); err != nil {
		panic(fmt.Sprintf("format %v as numeric: %v", f, err)) // FormatFloat output always parses
	}
	return n
}

// RunGetByWorkflowID returns the run a workflow recorded, without its
// attempts; ErrNotFound when there is none.
func (s *Store) RunGetByWorkflowID(ctx context.Context, workflowID string) (schedules.Run, error) {
	row, err := s.q.RunHistoryGetByWorkflowID(ctx, workflowID)
	if err != nil {
		return schedules.Run{}, interpret("get run by workflow id", err)
	}
	return runFromRow(row), nil
}
