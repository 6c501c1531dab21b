-- +goose Up
CREATE TABLE schedules (
    id                     uuid PRIMARY KEY,
    user_id                text        NOT NULL,
    tenant_id              text        NOT NULL,
    name                   text        NOT NULL,
    description            text        NOT NULL DEFAULT '',
    cron_expression        text        NOT NULL,
    timezone               text        NOT NULL DEFAULT 'UTC',
    task_query             text        NOT NULL,
    task_context           jsonb,
    max_budget_per_run_usd numeric(12, 6) NOT NULL CHECK (max_budget_per_run_usd >= 0),
    timeout_seconds        integer     NOT NULL CHECK (timeout_seconds > 0),
    temporal_schedule_id   text        NOT NULL UNIQUE,
    status                 text        NOT NULL CHECK (status IN ('ACTIVE', 'PAUSED', 'DELETED')),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    deleted_at             timestamptz,
    last_run_at            timestamptz,
    next_run_at            timestamptz,
    total_runs             bigint      NOT NULL DEFAULT 0,
    successful_runs        bigint      NOT NULL DEFAULT 0,
    failed_runs            bigint      NOT NULL DEFAULT 0,
    total_tokens           bigint      NOT NULL DEFAULT 0,
    total_cost_usd         numeric(18, 6) NOT NULL DEFAULT 0,
    paused_at              timestamptz,
    paused_by              text,
    pause_reason           text,
    resumed_at             timestamptz,
    resumed_by             text,
    resume_reason          text
);

-- The list endpoint reads one owner's live schedules newest first, with or
-- without a status filter, by offset or by keyset; deleted rows never match.
CREATE INDEX schedules_owner_created_idx
    ON schedules (tenant_id, user_id, created_at DESC, id DESC)
    WHERE status <> 'DELETED';
CREATE INDEX schedules_owner_status_created_idx
    ON schedules (tenant_id, user_id, status, created_at DESC, id DESC)
    WHERE status <> 'DELETED';

CREATE TABLE schedule_runs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    schedule_id     uuid        NOT NULL REFERENCES schedules (id),
    -- Temporal appends the nominal time to the action's workflow id, so the
    -- workflow id names one firing: recording is keyed by it.
    workflow_id     text        NOT NULL UNIQUE,
    temporal_run_id text        NOT NULL,
    query           text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT')),
    result          text,
    error_message   text,
    model_used      text,
    provider        text,
    total_tokens    bigint      NOT NULL DEFAULT 0,
    total_cost_usd  numeric(18, 6) NOT NULL DEFAULT 0,
    triggered_at    timestamptz NOT NULL,
    started_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    duration_ms     bigint
);

CREATE INDEX schedule_runs_schedule_triggered_idx
    ON schedule_runs (schedule_id, triggered_at DESC, id DESC);

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
       r.completed_at
FROM schedule_runs r
JOIN schedules s ON s.id = r.schedule_id;

-- +goose Down
DROP VIEW v_schedule_execution_history;
DROP TABLE schedule_runs;
DROP TABLE schedules;
