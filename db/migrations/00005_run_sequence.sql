-- +goose Up
-- Each run gets its schedule's next sequence number when it is recorded, so
-- a page of history, by number or by cursor, is an index range: neither
-- reads the rows it skips. Existing runs are numbered in the order the
-- history was shown in (triggered_at, id).
ALTER TABLE schedule_runs ADD COLUMN seq bigint;
UPDATE schedule_runs r SET seq = n.seq
FROM (SELECT id, row_number() OVER (PARTITION BY schedule_id ORDER BY triggered_at, id) AS seq FROM schedule_runs) n
WHERE r.id = n.id;
ALTER TABLE schedule_runs ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX schedule_runs_schedule_seq_idx ON schedule_runs (schedule_id, seq);
DROP INDEX schedule_runs_schedule_triggered_idx;

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
       r.seq
FROM schedule_runs r
JOIN schedules s ON s.id = r.schedule_id;

-- +goose Down
DROP VIEW v_schedule_execution_history;
CREATE VIEW v_schedule_execution_history AS
SELECT r.id, r.schedule_id, s.name AS schedule_name, s.user_id, s.tenant_id, r.workflow_id,
       r.query, r.status, r.result, r.error_message, r.model_used, r.provider, r.total_tokens,
       r.total_cost_usd, r.duration_ms, r.triggered_at, r.started_at, r.completed_at,
       r.executor, r.prompt_tokens, r.completion_tokens, r.attempt_count, r.attempts, r.paused_schedule
FROM schedule_runs r
JOIN schedules s ON s.id = r.schedule_id;
CREATE INDEX schedule_runs_schedule_triggered_idx
    ON schedule_runs (schedule_id, triggered_at DESC, id DESC);
ALTER TABLE schedule_runs DROP COLUMN seq;
