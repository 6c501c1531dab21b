package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
)

// explainSlowest prints, for the slowest runs of a batch, the events of their workflow's history
// up to the run's start (seconds after the nominal time): where a late start waited. Only with
// -profile, after every batch has been measured.
func (b *bench) explainSlowest(ctx context.Context, ids []string, n int) {
	if b.o.profileDir == "" {
		return
	}
	rows, err := b.pool.Query(ctx, `SELECT workflow_id, temporal_run_id, triggered_at, s.temporal_schedule_id FROM schedule_runs r
		JOIN schedules s ON s.id = r.schedule_id
		WHERE r.schedule_id = ANY($1::uuid[]) ORDER BY r.started_at - r.triggered_at DESC LIMIT $2`, ids, n)
	if err != nil {
		fmt.Fprintf(b.say, "  explain: %v\n", err)
		return
	}
	type run struct {
		wf, rid, sched string
		nominal        time.Time
	}
	var runs []run
	for rows.Next() {
		var r run
		if rows.Scan(&r.wf, &r.rid, &r.nominal, &r.sched) == nil {
			runs = append(runs, r)
		}
	}
	rows.Close()
	for _, r := range runs {
		it := b.s.TC.GetWorkflowHistory(ctx, r.wf, r.rid, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var parts []string
		for it.HasNext() && len(parts) < 12 {
			e, err := it.Next()
			if err != nil {
				parts = append(parts, "error: "+err.Error())
				break
			}
			name := strings.TrimPrefix(e.GetEventType().String(), "EVENT_TYPE_")
			parts = append(parts, fmt.Sprintf("%s %+.2fs", name, e.GetEventTime().AsTime().Sub(r.nominal).Seconds()))
		}
		fmt.Fprintf(b.say, "  slow run %s: %s\n", r.wf, strings.Join(parts, ", "))
		// The scheduler's own workflow around the firing: when it woke and started the run.
		sit := b.s.TC.GetWorkflowHistory(ctx, "temporal-sys-scheduler:"+r.sched, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		parts = parts[:0]
		for sit.HasNext() && len(parts) < 16 {
			e, err := sit.Next()
			if err != nil {
				parts = append(parts, "error: "+err.Error())
				break
			}
			if d := e.GetEventTime().AsTime().Sub(r.nominal).Seconds(); d > -2 {
				parts = append(parts, fmt.Sprintf("%s %+.2fs", strings.TrimPrefix(e.GetEventType().String(), "EVENT_TYPE_"), d))
			}
		}
		fmt.Fprintf(b.say, "    its scheduler: %s\n", strings.Join(parts, ", "))
	}
}
