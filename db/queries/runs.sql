-- name: RunInsertStart :one
-- Returns no row when the run was already recorded (a retried activity).
-- The run is numbered after its schedule's latest; the caller holds the
-- schedule's row lock, so concurrent starts of one schedule take turns.
INSERT INTO schedule_runs (
    schedule_id, workflow_id, temporal_run_id, query, status, triggered_at, started_at, executor, trigger, seq
) VALUES ($1, $2, $3, $4, 'RUNNING', $5, $6, $7, $8,
    coalesce((SELECT max(r.seq) FROM schedule_runs r WHERE r.schedule_id = $1), 0) + 1)
ON CONFLICT (workflow_id) DO NOTHING
RETURNING id;

-- name: RunComplete :one
-- Returns no row when the run already left RUNNING (a retried activity).
-- Returns, with the run's schedule, when the run was due and began and the
-- schedule's cron: what the recorder needs to tell whether Temporal can
-- have skipped a firing while the run went on.
UPDATE schedule_runs r SET
    status = $2, result = $3, error_message = $4, model_used = $5, provider = $6,
    total_tokens = $7, total_cost_usd = $8, completed_at = $9,
    duration_ms = (extract(epoch FROM ($9::timestamptz - r.started_at)) * 1000)::bigint,
    prompt_tokens = $10, completion_tokens = $11, attempt_count = $12, attempts = $13
FROM schedules s
WHERE r.workflow_id = $1 AND r.status = 'RUNNING' AND s.id = r.schedule_id
RETURNING r.schedule_id, r.triggered_at, r.started_at, s.cron_expression, s.timezone;

-- name: ScheduleRaiseSkippedRuns :exec
-- Copies Temporal's count of firings skipped for overlap; it is a running
-- total, so it only ever moves up. Here rather than in schedules.sql
-- because only the run recorder and the reconciler write it.
UPDATE schedules SET skipped_runs = GREATEST(skipped_runs, sqlc.arg(skipped_runs)::bigint)
WHERE id = sqlc.arg(id);

-- name: RunMarkPausedSchedule :exec
UPDATE schedule_runs SET paused_schedule = true WHERE workflow_id = $1;

-- name: RunHistoryGetBySchedule :one
SELECT * FROM v_schedule_execution_history
WHERE schedule_id = $1 AND id = $2;

-- name: RunHistoryListBySchedule :many
-- Page n starts page_offset runs below the latest; runs are numbered
-- without gaps, so that is an index range, not an OFFSET that reads the
-- rows it skips.
SELECT h.* FROM v_schedule_execution_history h
WHERE h.schedule_id = sqlc.arg(schedule_id)
  AND h.seq <= (SELECT coalesce(max(r.seq), 0) FROM schedule_runs r WHERE r.schedule_id = sqlc.arg(schedule_id)) - sqlc.arg(page_offset)::bigint
ORDER BY h.seq DESC
LIMIT sqlc.arg(page_size);

-- name: RunHistoryListByScheduleAfter :many
SELECT * FROM v_schedule_execution_history
WHERE schedule_id = sqlc.arg(schedule_id) AND seq < sqlc.arg(after_seq)::bigint
ORDER BY seq DESC
LIMIT sqlc.arg(page_size);

-- name: RunWorkflowIDsRecorded :many
-- Which of these workflow ids have a recorded run: a backfill leaves those
-- firings out, since Temporal would start a second workflow of the same id.
SELECT workflow_id FROM schedule_runs WHERE workflow_id = ANY(sqlc.arg(workflow_ids)::text[]);

-- name: RunHistoryGetByWorkflowID :one
-- The run a workflow recorded: what its notifications say about it.
SELECT * FROM v_schedule_execution_history WHERE workflow_id = $1;
