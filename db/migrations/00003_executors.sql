-- +goose Up
-- What a run does and what it may cost (issue 4): the executor that performs
-- a schedule's runs, its retry, overlap and failure policies, and per-run
-- attempts and token breakdown.

-- Existing schedules keep the behaviour they were created with: the webhook
-- executor, one attempt, SKIP, never paused automatically. New schedules get
-- the API's defaults from the manager.
ALTER TABLE schedules
    ADD COLUMN executor                     text    NOT NULL DEFAULT 'http'
        CHECK (executor IN ('llm', 'http', 'workflow', 'echo')),
    ADD COLUMN retry_max_attempts           integer NOT NULL DEFAULT 1
        CHECK (retry_max_attempts BETWEEN 1 AND 10),
    ADD COLUMN retry_initial_backoff_seconds integer NOT NULL DEFAULT 10
        CHECK (retry_initial_backoff_seconds >= 1),
    ADD COLUMN retry_max_backoff_seconds    integer NOT NULL DEFAULT 300
        CHECK (retry_max_backoff_seconds >= retry_initial_backoff_seconds),
    ADD COLUMN overlap_policy               text    NOT NULL DEFAULT 'SKIP'
        CHECK (overlap_policy IN ('SKIP', 'BUFFER_ONE', 'BUFFER_ALL', 'CANCEL_OTHER', 'ALLOW_ALL')),
    ADD COLUMN pause_after_failures         integer NOT NULL DEFAULT 0
        CHECK (pause_after_failures >= 0),
    -- Failed, timed-out or cancelled runs since the last completed one.
    ADD COLUMN consecutive_failures         integer NOT NULL DEFAULT 0,
    -- Temporal's count of firings skipped because a run was still going;
    -- copied when a run completes (it only grows while one runs).
    ADD COLUMN skipped_runs                 bigint  NOT NULL DEFAULT 0,
    ADD COLUMN total_prompt_tokens          bigint  NOT NULL DEFAULT 0,
    ADD COLUMN total_completion_tokens      bigint  NOT NULL DEFAULT 0;

ALTER TABLE schedule_runs
    ADD COLUMN executor          text,
    ADD COLUMN prompt_tokens     bigint  NOT NULL DEFAULT 0,
    ADD COLUMN completion_tokens bigint  NOT NULL DEFAULT 0,
    ADD COLUMN attempt_count     integer NOT NULL DEFAULT 0,
    -- One object per attempt, written once with the outcome: attempts are
    -- read only on the run-detail endpoint, so they cost no extra write.
    ADD COLUMN attempts          jsonb   NOT NULL DEFAULT '[]',
    -- This run's failure paused the schedule (pause_after_failures).
    ADD COLUMN paused_schedule   boolean NOT NULL DEFAULT false;

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
       r.paused_schedule
FROM schedule_runs r
JOIN schedules s ON s.id = r.schedule_id;

-- +goose Down
DROP VIEW v_schedule_execution_history;
CREATE VIEW v_schedule_execution_history AS
SELECT r.id, r.schedule_id, s.name AS schedule_name, s.user_id, s.tenant_id, r.workflow_id,
       r.query, r.status, r.result, r.error_message, r.model_used, r.provider, r.total_tokens,
       r.total_cost_usd, r.duration_ms, r.triggered_at, r.started_at, r.completed_at
FROM schedule_runs r
JOIN schedules s ON s.id = r.schedule_id;
ALTER TABLE schedule_runs
    DROP COLUMN executor, DROP COLUMN prompt_tokens, DROP COLUMN completion_tokens,
    DROP COLUMN attempt_count, DROP COLUMN attempts, DROP COLUMN paused_schedule;
ALTER TABLE schedules
    DROP COLUMN executor, DROP COLUMN retry_max_attempts, DROP COLUMN retry_initial_backoff_seconds,
    DROP COLUMN retry_max_backoff_seconds, DROP COLUMN overlap_policy, DROP COLUMN pause_after_failures,
    DROP COLUMN consecutive_failures, DROP COLUMN skipped_runs, DROP COLUMN total_prompt_tokens,
    DROP COLUMN total_completion_tokens;
