-- name: TriggerIntentInsert :exec
-- A second intent for the same nominal second is the same run (Temporal
-- derives the workflow id from it): the first one stands.
INSERT INTO schedule_triggers (schedule_id, nominal_time, kind)
VALUES (sqlc.arg(schedule_id), sqlc.arg(nominal_time), sqlc.arg(kind))
ON CONFLICT (schedule_id, nominal_time) DO NOTHING;

-- name: TriggerIntentClaim :one
-- Returns no row for a firing of the schedule's own: nobody asked for it.
DELETE FROM schedule_triggers
WHERE schedule_id = sqlc.arg(schedule_id) AND nominal_time = sqlc.arg(nominal_time)
RETURNING kind;

-- name: TriggerIntentDeleteStale :execrows
-- Intents no run claimed: starts Temporal skipped under the overlap policy.
-- Served by no index on purpose: the table holds only intents in flight.
DELETE FROM schedule_triggers WHERE created_at < sqlc.arg(before);
