-- +goose Up
-- A create in flight (issue 9, P4). A create reserves its slot of the
-- owner's schedule limit here in a short transaction under the owner's
-- lock, creates the Temporal schedule outside any transaction, and then
-- inserts the schedule row and drops the reservation in one transaction.
-- So the limit counts live rows plus reservations, and one owner's creates
-- no longer wait for each other's Temporal call. Reads never see a
-- reservation: they read schedules only. A reservation left behind by a
-- create that died is removed by the reconciler, with the Temporal
-- schedule it may have made.
CREATE TABLE schedule_reservations (
    id          uuid PRIMARY KEY, -- the id of the schedule being created
    tenant_id   text        NOT NULL,
    user_id     text        NOT NULL,
    reserved_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX schedule_reservations_owner_idx ON schedule_reservations (tenant_id, user_id);
CREATE INDEX schedule_reservations_reserved_at_idx ON schedule_reservations (reserved_at);

-- +goose Down
DROP TABLE schedule_reservations;
