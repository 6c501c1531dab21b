package store

import (
	"context"
	"time"

	"github.com/google/uuid"

	dbgen "schedsvc/gen/db"
	"schedsvc/schedules"
)

// APIKey is an API key's record; the secret itself is never stored, only
// its hash.
type APIKey struct {
	ID         uuid.UUID
	Prefix     string
	Owner      schedules.Owner
	Tier       string
	Name       string
	CreatedAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// APIKeyInsert stores a new key under the hash of its secret. Returns
// ErrConflict when the prefix is taken.
func (s *Store) APIKeyInsert(ctx context.Context, k APIKey, secretHash []byte) (APIKey, error) {
	row, err := s.q.APIKeyInsert(ctx, dbgen.APIKeyInsertParams{
		ID: k.ID, Prefix: k.Prefix, SecretHash: secretHash,
		UserID: k.Owner.UserID, TenantID: k.Owner.TenantID, Tier: k.Tier, Name: k.Name,
	})
	return apiKeyFrom("insert API key", row, err)
}

// APIKeyGetActive returns the unrevoked key with this prefix and its
// secret's hash, or ErrNotFound.
func (s *Store) APIKeyGetActive(ctx context.Context, prefix string) (APIKey, []byte, error) {
	row, err := s.q.APIKeyGetActiveByPrefix(ctx, prefix)
	k, err := apiKeyFrom("look up API key", row, err)
	return k, row.SecretHash, err
}

// APIKeyTouch records that the key was used (at most one write a minute).
func (s *Store) APIKeyTouch(ctx context.Context, id uuid.UUID) error {
	return interpret("record API key use", s.q.APIKeyTouch(ctx, id))
}

// APIKeyRevoke revokes the key with this prefix (again is no error) and
// returns its record, or ErrNotFound.
func (s *Store) APIKeyRevoke(ctx context.Context, prefix string) (APIKey, error) {
	row, err := s.q.APIKeyRevoke(ctx, prefix)
	return apiKeyFrom("revoke API key "+prefix, row, err)
}

// APIKeyList returns every key of a tenant, revoked ones included, newest
// first.
func (s *Store) APIKeyList(ctx context.Context, tenantID string) ([]APIKey, error) {
	rows, err := s.q.APIKeyListByTenant(ctx, tenantID)
	if err != nil {
		return nil, interpret("list API keys", err)
	}
	out := make([]APIKey, len(rows))
	for i, r := range rows {
		out[i] = apiKeyFromRow(r)
	}
	return out, nil
}

func apiKeyFrom(op string, row dbgen.ApiKey, err error) (APIKey, error) {
	if err != nil {
		return APIKey{}, interpret(op, err)
	}
	return apiKeyFromRow(row), nil
}

func apiKeyFromRow(r dbgen.ApiKey) APIKey {
	return APIKey{
		ID: r.ID, Prefix: r.Prefix, Owner: schedules.Owner{UserID: r.UserID, TenantID: r.TenantID},
		Tier: r.Tier, Name: r.Name, CreatedAt: r.CreatedAt, RevokedAt: r.RevokedAt, LastUsedAt: r.LastUsedAt,
	}
}
