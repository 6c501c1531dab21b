-- +goose Up
-- Temporal does not tell a workflow whether its schedule fired it, a user
-- triggered it or a backfill did: the trigger and backfill endpoints write
-- one intent row per nominal time before asking Temporal, and recording the
-- run's start claims it (schedule and nominal second are the workflow id's
-- parts, so they identify the run). A row nobody claimed is a start Temporal
-- skipped under the overlap policy.
CREATE TABLE schedule_triggers (
    schedule_id  uuid        NOT NULL REFERENCES schedules (id),
    nominal_time timestamptz NOT NULL CHECK (nominal_time = date_trunc('second', nominal_time)),
    kind         text        NOT NULL CHECK (kind IN ('MANUAL', 'BACKFILL')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule_id, nominal_time)
);

ALTER TABLE schedule_runs ADD COLUMN trigger text NOT NULL DEFAULT 'SCHEDULED'
    CHECK (trigger IN ('SCHEDULED', 'MANUAL', 'BACKFILL'));

DROP VIEW v_schedule_execution_history;
CREATE VIEW v_schedule_execution_history AS
SELECT r.id,
       r.schedule_id,
       s.name      AS schedule_name,
       s.user_id,
       s.tenant_id,
       r.workflow_id,
       r.query,
       r.status,
       r.result,
       r.error_message,
       r.model_used,
       r.provider,
       r.total_tokens,
       r.total_cost_usd,
       r.duration_ms,
       r.triggered_at,
       r.started_at,
       r.completed_at,
       r.executor,
       r.prompt_tokens,
       r.completion_tokens,
       r.attempt_count,
       r.attempts,
       r.paused_schedule,
       r.seq,
       r.trigger
FROM schedule_runs r
JOIN schedules s ON s.id = r.schedule_id;

-- +goose Down
DROP VIEW v_schedule_execution_history;
CREATE VIEW v_schedule_execution_history AS
SELECT r.id, r.schedule_id, s.name AS schedule_name, s.user_id, s.tenant_id, r.workflow_id,
       r.query, r.status, r.result, r.error_message, r.model_used, r.provider, r.total_tokens,
       r.total_cost_usd, r.duration_ms, r.triggered_at, r.started_at, r.completed_at,
       r.executor, r.prompt_tokens, r.completion_tokens, r.attempt_count, r.attempts, r.paused_schedule,
       r.seq
FROM schedule_runs r
JOIN schedules s ON s.id = r.schedule_id;
ALTER TABLE schedule_runs DROP COLUMN trigger;
DROP TABLE schedule_triggers;
