-- +goose Up
-- The owner's count of live schedules plus creates in flight, kept as one
-- row per owner (issue 9, P4). schedule_reserve counted them with count(*)
-- under the owner's lock on every create: O(live schedules) of index and
-- heap reads (2 ms at 5,000 schedules) inside a lock one owner's creates
-- queue on, and PostgreSQL CPU taken from Temporal on a small machine.
--
-- What moves the count, and where:
--   +1  schedule_reserve, when it reserves a slot (below the limit)
--   +1  ScheduleInsert (a row made without a reservation: tests, tooling)
--   -1  ScheduleReservationDelete (a create undone, or reclaimed by the reconciler)
--    0  ScheduleInsertReserved (the reservation becomes the row)
--   ±1  a row's status to or from DELETED, and a live row deleted:
--       the triggers below, so no writer can forget it
CREATE TABLE schedule_owner_counts (
    tenant_id text   NOT NULL,
    user_id   text   NOT NULL,
    live      bigint NOT NULL CHECK (live >= 0),
    PRIMARY KEY (tenant_id, user_id)
);

INSERT INTO schedule_owner_counts (tenant_id, user_id, live)
SELECT tenant_id, user_id, count(*)
FROM (SELECT tenant_id, user_id FROM schedules WHERE status <> 'DELETED'
      UNION ALL
      SELECT tenant_id, user_id FROM schedule_reservations) owners
GROUP BY tenant_id, user_id;

-- +goose StatementBegin
CREATE FUNCTION schedule_owner_count_add(p_tenant_id text, p_user_id text, p_delta bigint)
RETURNS void LANGUAGE sql VOLATILE AS $$
    INSERT INTO schedule_owner_counts AS c (tenant_id, user_id, live)
    VALUES (p_tenant_id, p_user_id, greatest(p_delta, 0))
    ON CONFLICT (tenant_id, user_id) DO UPDATE SET live = greatest(c.live + p_delta, 0);
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION schedules_live_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status <> 'DELETED' AND NEW.status = 'DELETED' THEN
            PERFORM schedule_owner_count_add(OLD.tenant_id, OLD.user_id, -1);
        ELSIF OLD.status = 'DELETED' AND NEW.status <> 'DELETED' THEN
            PERFORM schedule_owner_count_add(NEW.tenant_id, NEW.user_id, 1);
        END IF;
    ELSIF TG_OP = 'DELETE' AND OLD.status <> 'DELETED' THEN
        PERFORM schedule_owner_count_add(OLD.tenant_id, OLD.user_id, -1);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER schedules_live_count_update AFTER UPDATE OF status ON schedules
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION schedules_live_count();
CREATE TRIGGER schedules_live_count_delete AFTER DELETE ON schedules
    FOR EACH ROW EXECUTE FUNCTION schedules_live_count();

-- The owner's lock stays (tests hold it to make a create wait, and it
-- orders one owner's reservations); under it the count is one row's read.
--
-- The reservation commits without waiting for its WAL to reach disk
-- (synchronous_commit off, for this transaction only). The lock is held
-- until the commit, and a flush is about 4 ms here: one owner's creates
-- queued on it, at most ~250 a second. Nothing durable depends on the
-- reservation before the create's own transaction (the row and its event),
-- which commits synchronously and so flushes the WAL up to and past the
-- reservation. If PostgreSQL crashes in between, the reservation is simply
-- gone: the create finds no reservation, removes its Temporal schedule and
-- answers 503, as when the reconciler reclaims one.
--
-- Returns the owner's count before this create; the slot is reserved only
-- when that count is below p_limit.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION schedule_reserve(p_id uuid, p_tenant_id text, p_user_id text, p_limit bigint)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_advisory_xact_lock(hashtextextended(p_tenant_id || '/' || p_user_id, 0));
    SELECT live INTO n FROM schedule_owner_counts WHERE tenant_id = p_tenant_id AND user_id = p_user_id;
    n := coalesce(n, 0);
    IF n < p_limit THEN
        INSERT INTO schedule_reservations (id, tenant_id, user_id) VALUES (p_id, p_tenant_id, p_user_id);
        PERFORM schedule_owner_count_add(p_tenant_id, p_user_id, 1);
    END IF;
    RETURN n;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION schedule_reserve(p_id uuid, p_tenant_id text, p_user_id text, p_limit bigint)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_tenant_id || '/' || p_user_id, 0));
    SELECT (SELECT count(*) FROM schedules s
            WHERE s.tenant_id = p_tenant_id AND s.user_id = p_user_id AND s.status <> 'DELETED')
         + (SELECT count(*) FROM schedule_reservations r
            WHERE r.tenant_id = p_tenant_id AND r.user_id = p_user_id)
      INTO n;
    IF n < p_limit THEN
        INSERT INTO schedule_reservations (id, tenant_id, user_id) VALUES (p_id, p_tenant_id, p_user_id);
    END IF;
    RETURN n;
END
$$;
-- +goose StatementEnd
DROP TRIGGER schedules_live_count_delete ON schedules;
DROP TRIGGER schedules_live_count_update ON schedules;
DROP FUNCTION schedules_live_count();
DROP FUNCTION schedule_owner_count_add(text, text, bigint);
DROP TABLE schedule_owner_counts;
