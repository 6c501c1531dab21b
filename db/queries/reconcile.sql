-- name: ReconcileTryLock :one
-- One reconciler at a time across worker replicas; a session lock, so the
-- caller holds one connection for the whole pass.
SELECT pg_try_advisory_lock(hashtextextended('schedsvc/reconcile', 0));

-- name: ReconcileUnlock :exec
SELECT pg_advisory_unlock(hashtextextended('schedsvc/reconcile', 0));

-- name: ScheduleListLiveAfter :many
SELECT id, spec_refresh_at FROM schedules
WHERE status <> 'DELETED' AND id > sqlc.arg(after_id)::uuid
ORDER BY id
LIMIT sqlc.arg(batch_size);

-- name: ScheduleSetNextRun :exec
UPDATE schedules SET next_run_at = sqlc.narg(next_run_at)::timestamptz
WHERE id = sqlc.arg(id) AND status = 'ACTIVE';

-- name: ScheduleStatusByID :one
SELECT status FROM schedules WHERE id = $1;

-- name: ScheduleGetLiveForUpdateSkipLocked :one
-- A schedule a manager call is changing right now is skipped, not waited
-- for: the next pass sees it.
SELECT * FROM schedules
WHERE id = $1 AND status <> 'DELETED'
FOR UPDATE SKIP LOCKED;

-- name: ScheduleSetSpecRefresh :exec
UPDATE schedules SET spec_refresh_at = sqlc.narg(spec_refresh_at)::timestamptz WHERE id = sqlc.arg(id);

-- name: ScheduleReservationsStale :many
-- Creates in flight since before the given time: their creator has died or
-- given up, since a create holds its reservation only for one Temporal call.
SELECT id FROM schedule_reservations
WHERE reserved_at < sqlc.arg(before)::timestamptz
ORDER BY reserved_at, id
LIMIT sqlc.arg(batch_size);

-- name: ScheduleReservationLockStale :one
-- A reservation whose creator is finishing it right now is skipped.
SELECT id FROM schedule_reservations
WHERE id = sqlc.arg(id) AND reserved_at < sqlc.arg(before)::timestamptz
FOR UPDATE SKIP LOCKED;
