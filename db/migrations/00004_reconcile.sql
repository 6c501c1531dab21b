-- +goose Up
-- When the Temporal spec written for a schedule stops covering the zone's
-- transitions and must be compiled again; NULL means not known, which the
-- reconciler treats as due.
ALTER TABLE schedules ADD COLUMN spec_refresh_at timestamptz;

-- +goose Down
ALTER TABLE schedules DROP COLUMN spec_refresh_at;
