-- +goose Up
-- A create's reservation in one statement (issue 9, P4): the owner's lock,
-- the count and the insert were a transaction of five round trips
-- (BEGIN, lock, count, insert, COMMIT) on every create. As a function they
-- are one call in one implicit transaction. Each statement of a VOLATILE
-- function takes a new snapshot, so the count, made after the lock is
-- granted, sees every reservation and row the lock's previous holders
-- committed: count-then-reserve stays atomic across replicas.
-- Returns the owner's count before this create; the slot is reserved only
-- when that count is below p_limit.
-- +goose StatementBegin
CREATE FUNCTION schedule_reserve(p_id uuid, p_tenant_id text, p_user_id text, p_limit bigint)
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

-- +goose Down
DROP FUNCTION schedule_reserve(uuid, text, text, bigint);
