-- +goose Up
-- Completion notifications (issue 11 item 4): a schedule's optional target,
-- and one row per event sent, keyed by the event id the workflow derives
-- (so a retried or replayed delivery writes the same row).
ALTER TABLE schedules
    ADD COLUMN notify_url text,
    ADD COLUMN notify_on  text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT schedules_notify_target CHECK ((notify_url IS NULL) = (cardinality(notify_on) = 0));

CREATE TABLE notification_deliveries (
    event_id        uuid        PRIMARY KEY,
    schedule_id     uuid        NOT NULL REFERENCES schedules (id),
    -- The run the event is about; NULL for a pause no run caused.
    workflow_id     text,
    kind            text        NOT NULL
        CHECK (kind IN ('COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED', 'SCHEDULE_PAUSED')),
    url             text        NOT NULL,
    attempts        integer     NOT NULL CHECK (attempts >= 1),
    delivered       boolean     NOT NULL,
    status_code     integer,
    last_error      text,
    last_attempt_at timestamptz NOT NULL,
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- The run detail reads a run's deliveries.
CREATE INDEX notification_deliveries_workflow_id ON notification_deliveries (workflow_id)
    WHERE workflow_id IS NOT NULL;

-- +goose Down
DROP TABLE notification_deliveries;
ALTER TABLE schedules DROP CONSTRAINT schedules_notify_target,
    DROP COLUMN notify_on, DROP COLUMN notify_url;
