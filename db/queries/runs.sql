-- name: RunInsertStart :one
-- Returns no row when the run was already recorded (a retried activity).
INSERT INTO schedule_runs (
    schedule_id, workflow_id, temporal_run_id, query, status, triggered_at, started_at, executor
) VALUES ($1, $2, $3, $4, 'RUNNING', $5, $6, $7)
ON CONFLICT (workflow_id) DO NOTHING
RETURNING id;

-- name: RunComplete :one
-- Returns no row when the run already left RUNNING (a retried activity).
UPDATE schedule_runs SET
    status = $2, result = $3, error_message = $4, model_used = $5, provider = $6,
    total_tokens = $7, total_cost_usd = $8, completed_at = $9,
    duration_ms = (extract(epoch FROM ($9::timestamptz - started_at)) * 1000)::bigint,
    prompt_tokens = $10, completion_tokens = $11, attempt_count = $12, attempts = $13
WHERE workflow_id = $1 AND status = 'RUNNING'
RETURNING schedule_id;

-- name: RunMarkPausedSchedule :exec
UPDATE schedule_runs SET paused_schedule = true WHERE workflow_id = $1;

-- name: RunHistoryGetBySchedule :one
SELECT * FROM v_schedule_execution_history
WHERE schedule_id = $1 AND id = $2;

-- name: RunHistoryListBySchedule :many
SELECT * FROM v_schedule_execution_history
WHERE schedule_id = $1
ORDER BY triggered_at DESC, id DESC
LIMIT sqlc.arg(page_size) OFFSET sqlc.arg(page_offset);

-- name: RunHistoryListByScheduleAfter :many
SELECT * FROM v_schedule_execution_history
WHERE schedule_id = sqlc.arg(schedule_id)
  AND (triggered_at, id) < (sqlc.arg(after_triggered_at)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY triggered_at DESC, id DESC
LIMIT sqlc.arg(page_size);
