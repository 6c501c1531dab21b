-- name: OwnerLock :exec
-- The owner's create lock, as schedule_reserve (migration 00007) takes it;
-- tests hold it to make a create wait.
SELECT pg_advisory_xact_lock(hashtextextended(sqlc.arg(tenant_id)::text || '/' || sqlc.arg(user_id)::text, 0));

-- name: ScheduleCountByOwner :one
SELECT count(*) FROM schedules
WHERE tenant_id = $1 AND user_id = $2 AND status <> 'DELETED';

-- name: ScheduleCountByOwnerStatus :one
SELECT count(*) FROM schedules
WHERE tenant_id = sqlc.arg(tenant_id) AND user_id = sqlc.arg(user_id) AND status <> 'DELETED'
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text);

-- name: ScheduleCountForLimit :one
-- The owner's live schedules plus their creates in flight, read in one
-- statement (one snapshot): a create that moves its reservation into a row
-- in between is counted once, never zero times.
SELECT ((SELECT count(*) FROM schedules s
         WHERE s.tenant_id = sqlc.arg(tenant_id) AND s.user_id = sqlc.arg(user_id) AND s.status <> 'DELETED')
      + (SELECT count(*) FROM schedule_reservations r
         WHERE r.tenant_id = sqlc.arg(tenant_id) AND r.user_id = sqlc.arg(user_id)))::bigint AS n;

-- name: ScheduleReserve :one
-- Takes a slot of the owner's limit for a create in flight when the owner
-- has fewer than the limit, under the owner's lock, in one call (see
-- migration 00007); returns the owner's count before this create.
SELECT schedule_reserve(sqlc.arg(id)::uuid, sqlc.arg(tenant_id)::text, sqlc.arg(user_id)::text, sqlc.arg(max_per_user)::bigint)::bigint AS n;

-- name: ScheduleReservationDelete :execrows
-- Ends a reservation of a create that was undone, or that the reconciler
-- reclaims, and gives its slot back to the owner's count (migration
-- 00009). No row means someone else has ended it.
WITH reservation AS (
    DELETE FROM schedule_reservations WHERE id = $1 RETURNING tenant_id, user_id
)
UPDATE schedule_owner_counts c SET live = greatest(c.live - 1, 0)
FROM reservation
WHERE c.tenant_id = reservation.tenant_id AND c.user_id = reservation.user_id;

-- name: ScheduleInsert :one
-- A row made without a reservation (tests, tooling): it takes a slot of the
-- owner's count in the same statement.
WITH counted AS (
    INSERT INTO schedule_owner_counts AS c (tenant_id, user_id, live) VALUES ($3, $2, 1)
    ON CONFLICT (tenant_id, user_id) DO UPDATE SET live = c.live + 1
)
INSERT INTO schedules (
    id, user_id, tenant_id, name, description, cron_expression, timezone,
    task_query, task_context, max_budget_per_run_usd, timeout_seconds,
    temporal_schedule_id, status, next_run_at,
    executor, retry_max_attempts, retry_initial_backoff_seconds, retry_max_backoff_seconds,
    overlap_policy, pause_after_failures, start_at, end_at, max_runs, notify_url, notify_on
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'ACTIVE', $13,
    $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24
)
RETURNING *;

-- name: ScheduleInsertReserved :one
-- Finishes a create in one statement: ends its reservation, inserts the
-- row with its spec refresh time and its "created" event, atomically. No
-- row comes back when the reservation is gone (the reconciler reclaimed
-- it): nothing is inserted. One statement, not a transaction of four
-- round trips (issue 9, P4).
WITH reservation AS (
    DELETE FROM schedule_reservations WHERE schedule_reservations.id = sqlc.arg(id) RETURNING schedule_reservations.id
), inserted AS (
INSERT INTO schedules (
    id, user_id, tenant_id, name, description, cron_expression, timezone,
    task_query, task_context, max_budget_per_run_usd, timeout_seconds,
    temporal_schedule_id, status, next_run_at,
    executor, retry_max_attempts, retry_initial_backoff_seconds, retry_max_backoff_seconds,
    overlap_policy, pause_after_failures, spec_refresh_at, start_at, end_at, max_runs, notify_url, notify_on
)
SELECT reservation.id, sqlc.arg(user_id), sqlc.arg(tenant_id), sqlc.arg(name), sqlc.arg(description),
       sqlc.arg(cron_expression), sqlc.arg(timezone), sqlc.arg(task_query), sqlc.narg(task_context)::jsonb,
       sqlc.arg(max_budget_per_run_usd)::numeric, sqlc.arg(timeout_seconds)::integer, sqlc.arg(temporal_schedule_id),
       'ACTIVE', sqlc.narg(next_run_at)::timestamptz, sqlc.arg(executor), sqlc.arg(retry_max_attempts)::integer,
       sqlc.arg(retry_initial_backoff_seconds)::integer, sqlc.arg(retry_max_backoff_seconds)::integer,
       sqlc.arg(overlap_policy), sqlc.arg(pause_after_failures)::integer, sqlc.arg(spec_refresh_at)::timestamptz,
       sqlc.narg(start_at)::timestamptz, sqlc.narg(end_at)::timestamptz, sqlc.narg(max_runs)::integer,
       sqlc.narg(notify_url)::text, sqlc.arg(notify_on)::text[]
FROM reservation
RETURNING *
), created AS (
    INSERT INTO schedule_events (schedule_id, kind, actor)
    SELECT inserted.id, 'created', sqlc.arg(actor)::text FROM inserted
)
SELECT * FROM inserted;

-- name: ScheduleGetByOwner :one
SELECT * FROM schedules
WHERE id = $1 AND tenant_id = $2 AND user_id = $3 AND status <> 'DELETED';

-- name: ScheduleGetByOwnerForUpdate :one
SELECT * FROM schedules
WHERE id = $1 AND tenant_id = $2 AND user_id = $3 AND status <> 'DELETED'
FOR UPDATE;

-- name: ScheduleGetByID :one
SELECT * FROM schedules WHERE id = $1;

-- name: ScheduleGetByIDForUpdate :one
SELECT * FROM schedules WHERE id = $1 FOR UPDATE;

-- name: ScheduleListByOwner :many
SELECT * FROM schedules
WHERE tenant_id = sqlc.arg(tenant_id) AND user_id = sqlc.arg(user_id) AND status <> 'DELETED'
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size) OFFSET sqlc.arg(page_offset);

-- name: ScheduleListByOwnerAfter :many
SELECT * FROM schedules
WHERE tenant_id = sqlc.arg(tenant_id) AND user_id = sqlc.arg(user_id) AND status <> 'DELETED'
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (created_at, id) < (sqlc.arg(after_created_at)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- name: ScheduleUpdateConfig :one
UPDATE schedules SET
    name = $2, description = $3, cron_expression = $4, timezone = $5,
    task_query = $6, task_context = $7, max_budget_per_run_usd = $8,
    timeout_seconds = $9, next_run_at = $10,
    executor = $11, retry_max_attempts = $12, retry_initial_backoff_seconds = $13,
    retry_max_backoff_seconds = $14, overlap_policy = $15, pause_after_failures = $16,
    start_at = $17, end_at = $18, max_runs = $19,
    -- An update of the window or limit can complete a schedule or
    -- reactivate a COMPLETED one; the manager decides under the row lock.
    status = $20, completed_at = $21,
    notify_url = $22, notify_on = $23,
    updated_at = now()
WHERE id = $1
RETURNING *;

-- name: SchedulePause :one
UPDATE schedules SET
    status = 'PAUSED', paused_at = now(), paused_by = $2, pause_reason = $3,
    next_run_at = NULL, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: ScheduleResume :one
UPDATE schedules SET
    status = 'ACTIVE', resumed_at = now(), resumed_by = $2, resume_reason = $3,
    next_run_at = $4, updated_at = now(),
    -- A resumed schedule gets pause_after_failures fresh failures again.
    consecutive_failures = 0
WHERE id = $1
RETURNING *;

-- name: ScheduleSoftDelete :exec
UPDATE schedules SET
    status = 'DELETED', deleted_at = now(), next_run_at = NULL, updated_at = now()
WHERE id = $1;

-- name: ScheduleRecordRunStart :exec
-- Moves the counters of a run that was just inserted; callers run it in the
-- insert's transaction and only when the insert created the row.
UPDATE schedules SET
    total_runs = total_runs + 1,
    scheduled_runs = scheduled_runs + CASE WHEN sqlc.arg(scheduled)::boolean THEN 1 ELSE 0 END,
    last_run_at = GREATEST(coalesce(last_run_at, sqlc.arg(triggered_at)::timestamptz), sqlc.arg(triggered_at)::timestamptz),
    next_run_at = CASE WHEN status = 'ACTIVE' THEN sqlc.narg(next_run_at)::timestamptz ELSE next_run_at END
WHERE id = sqlc.arg(id);

-- name: ScheduleRecordRunCompletion :one
-- Adds a finished run to the counters and totals. consecutive_failures
-- restarts at a completed run; the skipped count is Temporal's running total,
-- so it only ever moves up. Returns what the failure policy needs.
UPDATE schedules SET
    successful_runs = successful_runs + CASE WHEN sqlc.arg(succeeded)::boolean THEN 1 ELSE 0 END,
    failed_runs = failed_runs + CASE WHEN sqlc.arg(succeeded)::boolean THEN 0 ELSE 1 END,
    consecutive_failures = CASE WHEN sqlc.arg(succeeded)::boolean THEN 0 ELSE consecutive_failures + 1 END,
    total_tokens = total_tokens + sqlc.arg(tokens)::bigint,
    total_prompt_tokens = total_prompt_tokens + sqlc.arg(prompt_tokens)::bigint,
    total_completion_tokens = total_completion_tokens + sqlc.arg(completion_tokens)::bigint,
    total_cost_usd = total_cost_usd + sqlc.arg(cost_usd)::numeric,
    skipped_runs = GREATEST(skipped_runs, sqlc.arg(skipped_runs)::bigint)
WHERE id = sqlc.arg(id)
RETURNING status, consecutive_failures, pause_after_failures;

-- name: SchedulePauseAfterFailures :exec
-- The failure policy's pause: like a user's pause, but by the system.
UPDATE schedules SET
    status = 'PAUSED', paused_at = now(), paused_by = 'system', pause_reason = sqlc.arg(pause_reason),
    next_run_at = NULL, updated_at = now()
WHERE id = sqlc.arg(id) AND status = 'ACTIVE';

-- name: ScheduleComplete :exec
-- Ends an active schedule whose window or run limit allows no more runs;
-- the caller holds the row lock and writes the completed event.
UPDATE schedules SET
    status = 'COMPLETED', completed_at = now(), next_run_at = NULL, updated_at = now()
WHERE id = sqlc.arg(id) AND status = 'ACTIVE';
