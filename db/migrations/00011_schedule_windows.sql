-- +goose Up
-- Time windows and run limits (issue 11 item 3): a schedule fires only
-- between start_at and end_at (both inclusive, as Temporal's spec bounds
-- are) and at most max_runs times; after its last allowed run, or once
-- end_at has passed, it is COMPLETED.
ALTER TABLE schedules
    ADD COLUMN start_at     timestamptz,
    ADD COLUMN end_at       timestamptz,
    ADD COLUMN max_runs     integer CHECK (max_runs > 0),
    ADD COLUMN completed_at timestamptz,
    ADD CONSTRAINT schedules_window_check CHECK (start_at IS NULL OR end_at IS NULL OR end_at > start_at);
-- What max_runs counts: the runs the schedule fired itself (trigger
-- SCHEDULED), as Temporal's remaining actions count them; manual and
-- backfilled runs count in total_runs only.
ALTER TABLE schedules ADD COLUMN scheduled_runs bigint NOT NULL DEFAULT 0;
UPDATE schedules s SET scheduled_runs = (
    SELECT count(*) FROM schedule_runs r WHERE r.schedule_id = s.id AND r.trigger = 'SCHEDULED');
ALTER TABLE schedules DROP CONSTRAINT schedules_status_check;
ALTER TABLE schedules ADD CONSTRAINT schedules_status_check
    CHECK (status IN ('ACTIVE', 'PAUSED', 'COMPLETED', 'DELETED'));
ALTER TABLE schedule_events DROP CONSTRAINT schedule_events_kind_check;
ALTER TABLE schedule_events ADD CONSTRAINT schedule_events_kind_check CHECK (kind IN (
    'created', 'updated', 'paused', 'resumed', 'paused_after_failures',
    'deleted', 'reconciled', 'triggered', 'backfilled', 'completed'));

-- +goose Down
ALTER TABLE schedule_events DROP CONSTRAINT schedule_events_kind_check;
ALTER TABLE schedule_events ADD CONSTRAINT schedule_events_kind_check CHECK (kind IN (
    'created', 'updated', 'paused', 'resumed', 'paused_after_failures',
    'deleted', 'reconciled', 'triggered', 'backfilled'));
ALTER TABLE schedules DROP CONSTRAINT schedules_status_check;
ALTER TABLE schedules ADD CONSTRAINT schedules_status_check
    CHECK (status IN ('ACTIVE', 'PAUSED', 'DELETED'));
ALTER TABLE schedules
    DROP COLUMN scheduled_runs,
    DROP CONSTRAINT schedules_window_check,
    DROP COLUMN completed_at,
    DROP COLUMN max_runs,
    DROP COLUMN end_at,
    DROP COLUMN start_at;
