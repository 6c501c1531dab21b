-- name: NotificationDeliveryUpsert :exec
-- One row per event. A write that is older than the row (fewer attempts)
-- or comes after the delivery succeeded changes nothing: attempts only
-- grow and delivered, once true, stays true.
INSERT INTO notification_deliveries AS d (
    event_id, schedule_id, workflow_id, kind, url, attempts, delivered,
    status_code, last_error, last_attempt_at, next_attempt_at
) VALUES (
    sqlc.arg(event_id), sqlc.arg(schedule_id), sqlc.narg(workflow_id), sqlc.arg(kind), sqlc.arg(url),
    sqlc.arg(attempts), sqlc.arg(delivered), sqlc.narg(status_code), sqlc.narg(last_error),
    sqlc.arg(last_attempt_at), sqlc.narg(next_attempt_at)
)
ON CONFLICT (event_id) DO UPDATE SET
    attempts = EXCLUDED.attempts, delivered = EXCLUDED.delivered, status_code = EXCLUDED.status_code,
    last_error = EXCLUDED.last_error, last_attempt_at = EXCLUDED.last_attempt_at,
    next_attempt_at = EXCLUDED.next_attempt_at
WHERE NOT d.delivered AND EXCLUDED.attempts >= d.attempts;

-- name: NotificationDeliveryListByWorkflow :many
SELECT * FROM notification_deliveries
WHERE workflow_id = sqlc.arg(workflow_id)
ORDER BY created_at, event_id;

-- name: NotificationDeliveryGet :one
SELECT * FROM notification_deliveries WHERE event_id = sqlc.arg(event_id);
