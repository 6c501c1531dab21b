package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	dbgen "schedsvc/gen/db"
	"schedsvc/schedules"
)

// IdempotencyKey names one caller's Idempotency-Key.
type IdempotencyKey struct {
	Owner schedules.Owner
	Key   string
}

// IdempotencyRecord is what a key holds: the hash of the request that
// claimed it and, once that request succeeded, its answer.
type IdempotencyRecord struct {
	RequestHash []byte
	Response    *StoredResponse // nil while the request is in flight
	LockedUntil *time.Time      // while in flight: when the claim lapses unless answered
}

// StoredResponse is an answer kept for replay.
type StoredResponse struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// IdempotencyClaim claims the key for the request with this hash under a
// claim id, for lease, keeping it for ttl. claimed is false when someone
// else holds the key (in flight, or answered and not yet expired).
func (s *Store) IdempotencyClaim(ctx context.Context, k IdempotencyKey, hash []byte, claim uuid.UUID, lease, ttl time.Duration) (bool, error) {
	_, err := s.q.IdempotencyClaim(ctx, dbgen.IdempotencyClaimParams{
		TenantID: k.Owner.TenantID, UserID: k.Owner.UserID, Key: k.Key, RequestHash: hash, ClaimID: claim,
		LeaseSeconds: lease.Seconds(), TtlSeconds: ttl.Seconds(),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // held by someone else: the ON CONFLICT's WHERE did not match
	}
	return err == nil, interpret("claim idempotency key", err)
}

// IdempotencyGet returns what the key holds, or ErrNotFound.
func (s *Store) IdempotencyGet(ctx context.Context, k IdempotencyKey) (IdempotencyRecord, error) {
	row, err := s.q.IdempotencyGet(ctx, dbgen.IdempotencyGetParams{TenantID: k.Owner.TenantID, UserID: k.Owner.UserID, Key: k.Key})
	if err != nil {
		return IdempotencyRecord{}, interpret("get idempotency key", err)
	}
	rec := IdempotencyRecord{RequestHash: row.RequestHash, LockedUntil: row.LockedUntil}
	if row.ResponseStatus.Valid {
		resp := &StoredResponse{Status: int(row.ResponseStatus.Int32), Body: row.ResponseBody}
		if err := json.Unmarshal(row.ResponseHeaders, &resp.Headers); err != nil {
			return IdempotencyRecord{}, fmt.Errorf("decode stored headers of idempotency key: %w", err)
		}
		rec.Response = resp
	}
	return rec, nil
}

// IdempotencyComplete stores the answer under the key if this claim still
// holds it; stored is false when the claim was taken over.
func (s *Store) IdempotencyComplete(ctx context.Context, k IdempotencyKey, claim uuid.UUID, resp StoredResponse) (bool, error) {
	headers, err := json.Marshal(resp.Headers)
	if err != nil {
		return false, fmt.Errorf("encode stored headers: %w", err)
	}
	n, err := s.q.IdempotencyComplete(ctx, dbgen.IdempotencyCompleteParams{
		ResponseStatus: pgtype.Int4{Int32: int32(resp.Status), Valid: true}, ResponseHeaders: headers, ResponseBody: resp.Body,
		TenantID: k.Owner.TenantID, UserID: k.Owner.UserID, Key: k.Key, ClaimID: claim,
	})
	return n > 0, interpret("store idempotent response", err)
}

// IdempotencyRelease frees the key if this claim holds it.
func (s *Store) IdempotencyRelease(ctx context.Context, k IdempotencyKey, claim uuid.UUID) error {
	return interpret("release idempotency key", s.q.IdempotencyRelease(ctx, dbgen.IdempotencyReleaseParams{
		TenantID: k.Owner.TenantID, UserID: k.Owner.UserID, Key: k.Key, ClaimID: claim,
	}))
}

// IdempotencyDeleteExpired deletes up to batch expired keys and returns how
// many went.
func (s *Store) IdempotencyDeleteExpired(ctx context.Context, batch int) (int64, error) {
	n, err := s.q.IdempotencyDeleteExpired(ctx, int32(batch))
	return n, interpret("delete expired idempotency keys", err)
}
