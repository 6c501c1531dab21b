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

	"github.com/google/uuid"

	"schedsvc/schedules"
	"schedsvc/store"
)

// API keys look like sk_<8 prefix characters>_<52 secret characters>. The
// first 11 characters (sk_ and the prefix) are the visible part that names
// the key; the whole key is stored only as its SHA-256.
const (
	apiKeyPrefix      = "sk_"
	apiKeyVisibleLen  = len(apiKeyPrefix) + 8
	apiKeySecretLen   = 52 // 32 random bytes in unpadded base32
	apiKeyTotalLen    = apiKeyVisibleLen + 1 + apiKeySecretLen
	apiKeyPrefixBytes = 5
	apiKeySecretBytes = 32
)

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ErrAPIKeyInvalid is returned for a key that is malformed, unknown or
// revoked; callers cannot tell which.
var ErrAPIKeyInvalid = errors.New("API key invalid")

// ErrAPIKeyNotFound is returned by Revoke for a prefix no key has.
var ErrAPIKeyNotFound = errors.New("no API key with this prefix")

// APIKeyStore issues, verifies and revokes API keys.
type APIKeyStore struct {
	store *store.Store
	log   *slog.Logger
}

var _ APIKeyVerifier = (*APIKeyStore)(nil)

// NewAPIKeyStore returns an API-key store over st.
func NewAPIKeyStore(st *store.Store, log *slog.Logger) *APIKeyStore {
	return &APIKeyStore{store: st, log: log}
}

// Create issues a key for owner in tier and returns it in full: this is
// the only time the secret exists outside the caller's hands.
func (s *APIKeyStore) Create(ctx context.Context, owner schedules.Owner, tier, name string) (string, store.APIKey, error) {
	if owner.UserID == "" || owner.TenantID == "" || tier == "" {
		return "", store.APIKey{}, errors.New("an API key needs a user, a tenant and a tier")
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
		rec, err := s.store.APIKeyInsert(ctx, store.APIKey{ID: uuid.New(), Prefix: prefix, Owner: owner, Tier: tier, Name: name}, hash[:])
		if errors.Is(err, schedules.ErrConflict) {
			continue
		}
		if err != nil {
			return "", store.APIKey{}, err
		}
		return key, rec, nil
	}
	return "", store.APIKey{}, errors.New("could not draw an unused API key prefix")
}

// Verify returns the record of a valid key and notes that it was used.
// Returns ErrAPIKeyInvalid for malformed, unknown and revoked keys.
func (s *APIKeyStore) Verify(ctx context.Context, key string) (store.APIKey, error) {
	if len(key) != apiKeyTotalLen || !strings.HasPrefix(key, apiKeyPrefix) || key[apiKeyVisibleLen] != '_' {
		return store.APIKey{}, ErrAPIKeyInvalid
	}
	rec, secretHash, err := s.store.APIKeyGetActive(ctx, key[:apiKeyVisibleLen])
	if errors.Is(err, schedules.ErrNotFound) {
		return store.APIKey{}, ErrAPIKeyInvalid
	}
	if err != nil {
		return store.APIKey{}, err
	}
	hash := sha256.Sum256([]byte(key))
	if subtle.ConstantTimeCompare(hash[:], secretHash) != 1 {
		return store.APIKey{}, ErrAPIKeyInvalid
	}
	// Losing a last-used mark is better than refusing a valid request.
	if err := s.store.APIKeyTouch(ctx, rec.ID); err != nil {
		s.log.WarnContext(ctx, "record API key use", "prefix", rec.Prefix, "error", err)
	}
	return rec, nil
}

// Revoke revokes the key with this prefix (revoking twice is not an error)
// and returns its record, or ErrAPIKeyNotFound.
func (s *APIKeyStore) Revoke(ctx context.Context, prefix string) (store.APIKey, error) {
	rec, err := s.store.APIKeyRevoke(ctx, prefix)
	if errors.Is(err, schedules.ErrNotFound) {
		return store.APIKey{}, fmt.Errorf("%w: %w", ErrAPIKeyNotFound, err)
	}
	return rec, err
}

// List returns every key of a tenant, revoked ones included, newest first.
func (s *APIKeyStore) List(ctx context.Context, tenantID string) ([]store.APIKey, error) {
	return s.store.APIKeyList(ctx, tenantID)
}
