package server

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// A remembered token answers as its verification did, and not once it
// has expired or its entry is due for verifying again; a token that
// failed is never remembered.
func TestVerifiedTokensAreRememberedOnlyWhileValid(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	a, err := NewAuthenticator(AuthConfig{Secret: secret, Leeway: time.Second})
	require.NoError(t, err)
	exp := time.Now().Add(time.Hour)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u", "tenant_id": "t", "tier": "gold", "exp": exp.Unix()}).SignedString(secret)
	require.NoError(t, err)
	authenticate := func(token string) (principal, error) {
		r := httptest.NewRequest("GET", "/api/v1/schedules", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		return a.authenticate(r)
	}
	first, err := authenticate(tok)
	require.NoError(t, err)
	second, err := authenticate(tok)
	require.NoError(t, err)
	require.Equal(t, first, second)
	require.Equal(t, "gold", second.tier)

	now := time.Now()
	_, ok := a.tokens.get(tok, now)
	require.True(t, ok)
	_, ok = a.tokens.get(tok, time.Unix(exp.Unix(), 0).Add(time.Second))
	require.False(t, ok, "expired (exp + leeway) is refused even when remembered")
	_, ok = a.tokens.get(tok, now.Add(tokenCacheTTL+time.Second))
	require.False(t, ok, "verified again after the cache's TTL")

	tampered := tok[:len(tok)-2] + "xx"
	_, err = authenticate(tampered)
	require.Error(t, err)
	_, ok = a.tokens.get(tampered, now)
	require.False(t, ok)
	_, err = authenticate(tampered)
	require.Error(t, err)
}
