-- +goose Up
-- The audit trail: one row per lifecycle event of a schedule, written in
-- the transaction of the change it records. id is the keyset: every writer
-- of a schedule's events holds that schedule's row lock, so within one
-- schedule ids grow in commit order and a cursor page never misses a row.
CREATE TABLE schedule_events (
    id          bigserial   PRIMARY KEY,
    schedule_id uuid        NOT NULL REFERENCES schedules (id),
    kind        text        NOT NULL CHECK (kind IN (
                    'created', 'updated', 'paused', 'resumed', 'paused_after_failures',
                    'deleted', 'reconciled', 'triggered', 'backfilled')),
    actor       text        NOT NULL,
    reason      text,
    changes     jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Serves the newest-first page of one schedule's events, cursor or not.
CREATE INDEX schedule_events_schedule_id_idx ON schedule_events (schedule_id, id DESC);

-- +goose Down
DROP TABLE schedule_events;
