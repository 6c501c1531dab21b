-- name: APIKeyInsert :one
INSERT INTO api_keys (id, prefix, secret_hash, user_id, tenant_id, tier, name)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: APIKeyGetActiveByPrefix :one
SELECT * FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL;

-- name: APIKeyTouch :exec
-- Records use at most once a minute per key, so authentication does not
-- write on every request.
UPDATE api_keys SET last_used_at = now()
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: APIKeyRevoke :one
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE prefix = $1
RETURNING *;

-- name: APIKeyListByTenant :many
SELECT * FROM api_keys
WHERE tenant_id = sqlc.arg(tenant_id)
ORDER BY created_at DESC, id DESC;
