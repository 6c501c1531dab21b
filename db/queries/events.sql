-- name: EventInsert :exec
INSERT INTO schedule_events (schedule_id, kind, actor, reason, changes)
VALUES (sqlc.arg(schedule_id), sqlc.arg(kind), sqlc.arg(actor), sqlc.narg(reason), sqlc.narg(changes));

-- name: EventListBySchedule :many
-- The first page: the schedule's newest events.
SELECT id, schedule_id, kind, actor, reason, changes, created_at FROM schedule_events
WHERE schedule_id = sqlc.arg(schedule_id)
ORDER BY id DESC
LIMIT sqlc.arg(page_size);

-- name: EventListByScheduleAfter :many
-- A cursor page: the events older than after_id, an index range.
SELECT id, schedule_id, kind, actor, reason, changes, created_at FROM schedule_events
WHERE schedule_id = sqlc.arg(schedule_id) AND id < sqlc.arg(after_id)::bigint
ORDER BY id DESC
LIMIT sqlc.arg(page_size);

-- name: ScheduleExistsForOwner :one
-- Deleted schedules included: their audit trail stays readable by the owner.
SELECT EXISTS (
    SELECT 1 FROM schedules WHERE id = $1 AND tenant_id = $2 AND user_id = $3
);
