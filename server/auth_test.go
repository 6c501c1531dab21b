package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

func TestAuthRejectsBadCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	exp := time.Now().Add(time.Hour).Unix()
	noneToken, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": o.UserID, "tenant_id": o.TenantID, "exp": exp}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	otherKey, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": o.UserID, "tenant_id": o.TenantID, "exp": exp}).
		SignedString([]byte("another-secret-that-is-long-enough-to-sign"))
	require.NoError(t, err)

	cases := map[string]string{
		"missing":       "",
		"garbage":       "not-a-jwt",
		"alg none":      noneToken,
		"wrong key":     otherKey,
		"expired":       signToken(t, jwt.MapClaims{"sub": o.UserID, "tenant_id": o.TenantID, "exp": time.Now().Add(-time.Hour).Unix()}),
		"no exp":        signToken(t, jwt.MapClaims{"sub": o.UserID, "tenant_id": o.TenantID}),
		"no tenant":     signToken(t, jwt.MapClaims{"sub": o.UserID, "exp": exp}),
		"no sub":        signToken(t, jwt.MapClaims{"tenant_id": o.TenantID, "exp": exp}),
		"not yet valid": signToken(t, jwt.MapClaims{"sub": o.UserID, "tenant_id": o.TenantID, "exp": exp, "nbf": time.Now().Add(time.Hour).Unix()}),
	}
	for name, tok := range cases {
		resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
		require.Equal(t, http.StatusUnauthorized, resp.status, name)
		require.Contains(t, resp.header.Get("WWW-Authenticate"), "Bearer", name)
		require.Equal(t, "https://schedsvc.dev/problems/unauthorized", string(resp.problem(t).Type), name)
	}

	// Credentials come first: a bad body without a token is still a 401.
	resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", raw: []byte("{")})
	require.Equal(t, http.StatusUnauthorized, resp.status)

	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tokenFor(t, o)})
	require.Equal(t, http.StatusOK, resp.status)
}
