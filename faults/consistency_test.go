package faults_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"schedsvc/schedules"
)

// disagreements compares the stack's live rows with the Temporal schedules
// of the namespace: a live row without its Temporal schedule, a paused
// state that differs, and a Temporal schedule without a live row (an
// orphan) are each one line. only, when set, limits orphans to these ids.
func (s *stack) disagreements(ctx context.Context, tc client.Client, only map[uuid.UUID]bool) ([]string, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, status FROM schedules WHERE status <> 'DELETED'")
	if err != nil {
		return nil, err
	}
	type liveRow struct {
		ID     uuid.UUID
		Status string
	}
	live, err := pgx.CollectRows(rows, pgx.RowToStructByPos[liveRow])
	if err != nil {
		return nil, err
	}
	var out []string
	isLive := map[uuid.UUID]bool{}
	for _, r := range live {
		isLive[r.ID] = true
		desc, err := describe(ctx, tc, schedules.TemporalScheduleID(r.ID))
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			out = append(out, fmt.Sprintf("row %s (%s) has no Temporal schedule", r.ID, r.Status))
		case err != nil:
			return nil, fmt.Errorf("describe %s: %w", r.ID, err)
		case desc.Schedule.State.Paused != (r.Status == "PAUSED"):
			out = append(out, fmt.Sprintf("row %s is %s, Temporal paused=%v", r.ID, r.Status, desc.Schedule.State.Paused))
		}
	}
	iter, err := tc.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 200})
	if err != nil {
		return nil, fmt.Errorf("list temporal schedules: %w", err)
	}
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			return nil, fmt.Errorf("list temporal schedules: %w", err)
		}
		raw, ok := strings.CutPrefix(e.ID, "schedule-")
		id, perr := uuid.Parse(raw)
		if !ok || perr != nil || isLive[id] || (only != nil && !only[id]) {
			continue
		}
		// The listing is eventually consistent: only a schedule that
		// still describes is an orphan.
		_, err = describe(ctx, tc, e.ID)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", e.ID, err)
		}
		out = append(out, fmt.Sprintf("Temporal schedule %s has no live row", e.ID))
	}
	sort.Strings(out)
	return out, nil
}

// describe reads a Temporal schedule, asking again when the server (one of
// several sharing this machine's two cores while the suite runs) does not
// answer within the client's deadline; any other answer is final.
func describe(ctx context.Context, tc client.Client, id string) (*client.ScheduleDescription, error) {
	var err error
	for range 3 {
		var d *client.ScheduleDescription
		d, err = tc.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
		var deadline *serviceerror.DeadlineExceeded
		if !errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &deadline) && status.Code(err) != codes.DeadlineExceeded {
			return d, err
		}
	}
	return nil, err
}
