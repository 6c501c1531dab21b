package schedules

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	dbgen "schedsvc/gen/db"
	"schedsvc/problem"
)

// This file is the one boundary between sqlc's rows and the domain types.

func scheduleFromRow(r dbgen.Schedule) (Schedule, error) {
	s := Schedule{
		ID:                 r.ID,
		Owner:              Owner{UserID: r.UserID, TenantID: r.TenantID},
		Name:               r.Name,
		Description:        r.Description,
		CronExpression:     r.CronExpression,
		Timezone:           r.Timezone,
		TaskQuery:          r.TaskQuery,
		MaxBudgetPerRunUSD: numericToFloat(r.MaxBudgetPerRunUsd),
		TimeoutSeconds:     int(r.TimeoutSeconds),
		Status:             Status(r.Status),
		CreatedAt:          r.CreatedAt,
		UpdatedAt:          r.UpdatedAt,
		LastRunAt:          r.LastRunAt,
		NextRunAt:          r.NextRunAt,
		TotalRuns:          r.TotalRuns,
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
		Executor:           Executor(r.Executor),
		Retry: RetryPolicy{
			MaxAttempts:           int(r.RetryMaxAttempts),
			InitialBackoffSeconds: int(r.RetryInitialBackoffSeconds),
			MaxBackoffSeconds:     int(r.RetryMaxBackoffSeconds),
		},
		Overlap:               OverlapPolicy(r.OverlapPolicy),
		PauseAfterFailures:    int(r.PauseAfterFailures),
		ConsecutiveFailures:   int(r.ConsecutiveFailures),
		SkippedRuns:           r.SkippedRuns,
		TotalPromptTokens:     r.TotalPromptTokens,
		TotalCompletionTokens: r.TotalCompletionTokens,
	}
	if len(r.TaskContext) > 0 && string(r.TaskContext) != "null" {
		if err := json.Unmarshal(r.TaskContext, &s.TaskContext); err != nil {
			return Schedule{}, fmt.Errorf("decode task_context of schedule %s: %w", r.ID, err)
		}
	}
	return s, nil
}

func runFromRow(r dbgen.VScheduleExecutionHistory) Run {
	return Run{
		ID:           r.ID,
		ScheduleID:   r.ScheduleID,
		WorkflowID:   r.WorkflowID,
		Query:        r.Query,
		Status:       RunStatus(r.Status),
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
	}
}

func runDetailFromRow(r dbgen.VScheduleExecutionHistory) (RunDetail, error) {
	d := RunDetail{Run: runFromRow(r), Attempts: []Attempt{}}
	if len(r.Attempts) > 0 {
		if err := json.Unmarshal(r.Attempts, &d.Attempts); err != nil {
			return RunDetail{}, fmt.Errorf("decode attempts of run %s: %w", r.ID, err)
		}
	}
	return d, nil
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

// cursor is the keyset position after the last item of a page: the item's
// sort time and id. It is opaque to callers.
type cursor struct {
	At time.Time
	ID uuid.UUID
}

func (c cursor) encode() string {
	raw := c.At.UTC().Format(time.RFC3339Nano) + "," + c.ID.String()
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (cursor, error) {
	bad := problem.Invalid(problem.InvalidRequest, "cursor", "the cursor is not one this API returned; pass next_cursor from a previous page unchanged")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	at, id, ok := strings.Cut(string(raw), ",")
	if !ok {
		return cursor{}, bad
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return cursor{}, bad
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return cursor{}, bad
	}
	return cursor{At: t, ID: u}, nil
}

// dbErr classifies a PostgreSQL error: a missing row becomes ErrNotFound, a
// failure to reach the server ErrUnavailable.
func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return fmt.Errorf("%s: %w: %v", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func pageOffset(p PageRequest) int32 {
	return int32((p.Page - 1) * p.PageSize)
}
