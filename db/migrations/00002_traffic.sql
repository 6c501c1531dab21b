-- +goose Up
-- API keys are stored only as a SHA-256 of the whole key: keys are 256-bit
-- random secrets, so a fast hash is as strong as a slow one and keeps the
-- per-request check cheap. The prefix is the visible, unique part used to
-- find the row and to name the key in listings and logs.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    prefix       text        NOT NULL UNIQUE,
    secret_hash  bytea       NOT NULL,
    user_id      text        NOT NULL,
    tenant_id    text        NOT NULL,
    tier         text        NOT NULL,
    name         text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);

CREATE INDEX api_keys_owner_idx ON api_keys (tenant_id, user_id, created_at DESC);

-- One row per (tenant, user, Idempotency-Key). A request claims the row
-- first (in flight: claim_id set, no response); the response is stored when
-- it is replayable. Expired rows and abandoned claims are taken over by the
-- next claim and removed by the periodic clean-up.
CREATE TABLE idempotency_keys (
    tenant_id        text        NOT NULL,
    user_id          text        NOT NULL,
    key              text        NOT NULL,
    request_hash     bytea       NOT NULL,
    claim_id         uuid        NOT NULL,
    locked_until     timestamptz,
    response_status  integer,
    response_headers jsonb,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id, key)
);

CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE api_keys;
