package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	dbgen "schedsvc/gen/db"
	"schedsvc/schedules"
)

// API keys look like sk_<8 prefix characters>_<52 secret characters>. The
// first 11 characters (sk_ and the prefix) are the visible part that names
// the key; the whole key is stored only as its SHA-256.
const (
	apiKeyPrefix       = "sk_"
	apiKeyVisibleLen   = len(apiKeyPrefix) + 8
	apiKeySecretLen    = 52 // 32 random bytes in unpadded base32
	apiKeyTotalLen     = apiKeyVisibleLen + 1 + apiKeySecretLen
	apiKeyPrefixBytes  = 5
	apiKeySecretBytes  = 32
	uniqueViolationErr = "23505"
)

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ErrAPIKeyInvalid is returned for a key that is malformed, unknown or
// revoked; callers cannot tell which.
var ErrAPIKeyInvalid = errors.New("API key invalid")

// ErrAPIKeyNotFound is returned by Revoke for a prefix no key has.
var ErrAPIKeyNotFound = errors.New("no API key with this prefix")

// APIKey is an API key's record; the secret itself is never stored.
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

// APIKeyStore issues, verifies and revokes API keys in PostgreSQL.
type APIKeyStore struct {
	q   *dbgen.Queries
	log *slog.Logger
}

var _ APIKeyVerifier = (*APIKeyStore)(nil)

// NewAPIKeyStore returns a store over pool.
func NewAPIKeyStore(pool *pgxpool.Pool, log *slog.Logger) *APIKeyStore {
	return &APIKeyStore{q: dbgen.New(pool), log: log}
}

// Create issues a key for owner in tier and returns it in full: this is
// the only time the secret exists outside the caller's hands.
func (s *APIKeyStore) Create(ctx context.Context, owner schedules.Owner, tier, name string) (string, APIKey, error) {
	if owner.UserID == "" || owner.TenantID == "" || tier == "" {
		return "", APIKey{}, errors.New("an API key needs a user, a tenant and a tier")
	}
	// A 40-bit prefix rarely collides; when it does, draw again.
	for range 3 {
		prefixBytes := make([]byte, apiKeyPrefixBytes)
		secretBytes := make([]byte, apiKeySecretBytes)
		_, _ = rand.Read(prefixBytes)
		_, _ = rand.Read(secretBytes)
		prefix := apiKeyPrefix + keyEncoding.EncodeToString(prefixBytes)
		key := prefix + "_" + keyEncoding.EncodeToString(secretBytes)
		hash := sha256.Sum256([]byte(key))
		row, err := s.q.APIKeyInsert(ctx, dbgen.APIKeyInsertParams{
			ID: uuid.New(), Prefix: prefix, SecretHash: hash[:],
			UserID: owner.UserID, TenantID: owner.TenantID, Tier: tier, Name: name,
		})
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == uniqueViolationErr {
			continue
		}
		if err != nil {
			return "", APIKey{}, fmt.Errorf("insert API key: %w", err)
		}
		return key, apiKeyFromRow(row), nil
	}
	return "", APIKey{}, errors.New("could not draw an unused API key prefix")
}

// Verify returns the record of a valid key and notes that it was used.
// Returns ErrAPIKeyInvalid for malformed, unknown and revoked keys.
func (s *APIKeyStore) Verify(ctx context.Context, key string) (APIKey, error) {
	if len(key) != apiKeyTotalLen || !strings.HasPrefix(key, apiKeyPrefix) || key[apiKeyVisibleLen] != '_' {
		return APIKey{}, ErrAPIKeyInvalid
	}
	row, err := s.q.APIKeyGetActiveByPrefix(ctx, key[:apiKeyVisibleLen])
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, ErrAPIKeyInvalid
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("look up API key: %w", err)
	}
	hash := sha256.Sum256([]byte(key))
	if subtle.ConstantTimeCompare(hash[:], row.SecretHash) != 1 {
		return APIKey{}, ErrAPIKeyInvalid
	}
	// Losing a last-used mark is better than refusing a valid request.
	if err := s.q.APIKeyTouch(ctx, row.ID); err != nil {
		s.log.WarnContext(ctx, "record API key use", "prefix", row.Prefix, "error", err)
	}
	return apiKeyFromRow(row), nil
}

// Revoke revokes the key with this prefix (revoking twice is not an error)
// and returns its record, or ErrAPIKeyNotFound.
func (s *APIKeyStore) Revoke(ctx context.Context, prefix string) (APIKey, error) {
	row, err := s.q.APIKeyRevoke(ctx, prefix)
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, ErrAPIKeyNotFound
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("revoke API key %s: %w", prefix, err)
	}
	return apiKeyFromRow(row), nil
}

// List returns every key of a tenant, revoked ones included, newest first.
func (s *APIKeyStore) List(ctx context.Context, tenantID string) ([]APIKey, error) {
	rows, err := s.q.APIKeyListByTenant(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	out := make([]APIKey, len(rows))
	for i, r := range rows {
		out[i] = apiKeyFromRow(r)
	}
	return out, nil
}

func apiKeyFromRow(r dbgen.ApiKey) APIKey {
	return APIKey{
		ID: r.ID, Prefix: r.Prefix, Owner: schedules.Owner{UserID: r.UserID, TenantID: r.TenantID},
		Tier: r.Tier, Name: r.Name, CreatedAt: r.CreatedAt, RevokedAt: r.RevokedAt, LastUsedAt: r.LastUsedAt,
	}
}
