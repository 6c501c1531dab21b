package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"schedsvc/bench/internal/stack"
	"schedsvc/schedules"
)

// runCount compares, for one schedule, the runs PostgreSQL recorded (read
// back row by row through the API, and the schedule's maintained counter)
// with the actions Temporal says it executed.
type runCount struct {
	ScheduleID  string `json:"schedule_id"`
	Firing      bool   `json:"firing"`
	Rows        int    `json:"rows"`         // run rows paged through GET /runs
	Distinct    int    `json:"distinct_ids"` // distinct workflow ids among them
	Total       int64  `json:"runs_total"`   // GET /runs total
	Counter     int64  `json:"total_runs"`   // GET /schedules/{id} total_runs
	NotFinished int    `json:"not_finished"` // rows still RUNNING
	Executed    int    `json:"executed"`     // Temporal Describe NumActions
	Running     int    `json:"running"`      // Temporal RunningWorkflows
}

func (c runCount) exact() bool {
	return c.Rows == c.Executed && c.Distinct == c.Rows && int64(c.Rows) == c.Total &&
		int64(c.Rows) == c.Counter && c.NotFinished == 0 && c.Running == 0
}

// verifyRuns pauses every firing schedule (so the counts stop moving), then
// polls until every surviving schedule's recorded runs equal Temporal's
// executed actions, or wait passes. Churn schedules fire yearly and are
// counted too (0 = 0); deleted ones never fired, so they have nothing to count.
func verifyRuns(ctx context.Context, s *stack.Stack, w *workload, wait time.Duration, say io.Writer) ([]runCount, error) {
	firing, churn := w.allSchedules()
	for _, o := range firing {
		status, err := w.do(ctx, o.user, http.MethodPost, "/api/v1/schedules/"+o.id+"/pause", map[string]any{"reason": "soak: counting"}, true, nil)
		if err != nil || status != http.StatusOK {
			return nil, fmt.Errorf("pause %s for counting: status %d: %v", o.id, status, err)
		}
	}
	deadline := time.Now().Add(wait)
	for {
		var counts []runCount
		allExact := true
		for i, o := range append(firing, churn...) {
			c, err := countOne(ctx, s, w, o)
			if err != nil {
				return nil, err
			}
			c.Firing = i < len(firing)
			allExact = allExact && c.exact()
			counts = append(counts, c)
		}
		if allExact || time.Now().After(deadline) || ctx.Err() != nil {
			return counts, nil
		}
		fmt.Fprintln(say, "  counts still moving; checking again in 5 s")
		time.Sleep(5 * time.Second)
	}
}

func countOne(ctx context.Context, s *stack.Stack, w *workload, o owned) (runCount, error) {
	c := runCount{ScheduleID: o.id}
	seen := map[string]bool{}
	cursor := ""
	for range 1000 { // bounded: at most 100,000 runs per schedule
		q := url.Values{"page_size": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Runs []struct {
				WorkflowID string `json:"workflow_id"`
				Status     string `json:"status"`
			} `json:"runs"`
			NextCursor *string `json:"next_cursor"`
			Total      int64   `json:"total"`
		}
		status, err := w.do(ctx, o.user, http.MethodGet, "/api/v1/schedules/"+o.id+"/runs?"+q.Encode(), nil, false, &page)
		if err != nil || status != http.StatusOK {
			return c, fmt.Errorf("runs of %s: status %d: %v", o.id, status, err)
		}
		c.Total = page.Total
		for _, r := range page.Runs {
			c.Rows++
			seen[r.WorkflowID] = true
			if r.Status == "RUNNING" {
				c.NotFinished++
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			break
		}
		cursor = *page.NextCursor
	}
	c.Distinct = len(seen)
	var sched struct {
		TotalRuns int64 `json:"total_runs"`
	}
	status, err := w.do(ctx, o.user, http.MethodGet, "/api/v1/schedules/"+o.id, nil, false, &sched)
	if err != nil || status != http.StatusOK {
		return c, fmt.Errorf("get %s: status %d: %v", o.id, status, err)
	}
	c.Counter = sched.TotalRuns
	id, err := uuid.Parse(o.id)
	if err != nil {
		return c, err
	}
	desc, err := s.TC.ScheduleClient().GetHandle(ctx, schedules.TemporalScheduleID(id)).Describe(ctx)
	if err != nil {
		return c, fmt.Errorf("describe %s in temporal: %w", o.id, err)
	}
	c.Executed = desc.Info.NumActions
	c.Running = len(desc.Info.RunningWorkflows)
	return c, nil
}
