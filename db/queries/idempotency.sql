-- name: IdempotencyClaim :one
-- Inserts the key as in flight, or takes over a row that has expired or
-- whose claim was abandoned (its holder died before answering). Returns no
-- row when someone else holds the key.
-- The claim commits without waiting for its WAL flush (synchronous_commit
-- off for this statement's transaction; a flush is ~4 ms here, on every
-- keyed write). Other sessions see it at once all the same. What the
-- request then makes durable (a schedule row, the stored answer) commits
-- synchronously and so flushes the claim with it; a claim lost to a crash
-- before that guarded nothing durable, and the retry runs the request again.
INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, claim_id, locked_until, expires_at)
SELECT sqlc.arg(tenant_id)::text, sqlc.arg(user_id)::text, sqlc.arg(key)::text, sqlc.arg(request_hash)::bytea,
       sqlc.arg(claim_id)::uuid,
       now() + make_interval(secs => sqlc.arg(lease_seconds)::float8),
       now() + make_interval(secs => sqlc.arg(ttl_seconds)::float8)
FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
ON CONFLICT (tenant_id, user_id, key) DO UPDATE SET
    request_hash = EXCLUDED.request_hash,
    claim_id = EXCLUDED.claim_id,
    locked_until = EXCLUDED.locked_until,
    response_status = NULL,
    response_headers = NULL,
    response_body = NULL,
    created_at = now(),
    expires_at = EXCLUDED.expires_at
WHERE idempotency_keys.expires_at <= now()
   OR (idempotency_keys.response_status IS NULL AND idempotency_keys.locked_until <= now())
RETURNING claim_id;

-- name: IdempotencyGet :one
SELECT * FROM idempotency_keys
WHERE tenant_id = $1 AND user_id = $2 AND key = $3;

-- name: IdempotencyComplete :execrows
UPDATE idempotency_keys SET
    response_status = sqlc.arg(response_status),
    response_headers = sqlc.arg(response_headers),
    response_body = sqlc.arg(response_body),
    locked_until = NULL
WHERE tenant_id = sqlc.arg(tenant_id) AND user_id = sqlc.arg(user_id) AND key = sqlc.arg(key)
  AND claim_id = sqlc.arg(claim_id);

-- name: IdempotencyRelease :exec
DELETE FROM idempotency_keys
WHERE tenant_id = $1 AND user_id = $2 AND key = $3 AND claim_id = $4;

-- name: IdempotencyDeleteExpired :execrows
DELETE FROM idempotency_keys
WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT sqlc.arg(batch_size));
