package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
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
		"missing":        "",
		"garbage":        "not-a-jwt",
		"alg none":       noneToken,
		"wrong key":      otherKey,
		"expired":        signToken(t, jwt.MapClaims{"sub": o.UserID, "tenant_id": o.TenantID, "exp": time.Now().Add(-time.Hour).Unix()}),
		"no exp":         signToken(t, jwt.MapClaims{"sub": o.UserID, "tenant_id": o.TenantID}),
		"no tenant":      signToken(t, jwt.MapClaims{"sub": o.UserID, "exp": exp}),
		"no sub":         signToken(t, jwt.MapClaims{"tenant_id": o.TenantID, "exp": exp}),
		"not yet valid":  signToken(t, jwt.MapClaims{"sub": o.UserID, "tenant_id": o.TenantID, "exp": exp, "nbf": time.Now().Add(time.Hour).Unix()}),
	}
	for name, tok := range cases {
		resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
		require.Equal(t, http.StatusUnauthorized, resp.status, name)
		require.Contains(t, resp.header.Get("WWW-Authenticate"), "Bearer", name)
		require.Equal(t, "https://schedsvc.dev/problems/unauthorized", resp.problem(t).Type, name)
	}

	// Credentials come first: a bad body without a token is still a 401.
	resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", raw: []byte("{")})
	require.Equal(t, http.StatusUnauthorized, resp.status)

	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tokenFor(t, o)})
	require.Equal(t, http.StatusOK, resp.status)
}

// TestIsolation: another user of the same tenant and a user of another
// tenant see none of A's schedules and get 404 on every operation that
// names one; A's schedule is untouched afterwards.
func TestIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := newOwner()
	sameTenant := newOwner()
	sameTenant.TenantID = a.TenantID
	otherTenantSameUser := newOwner()
	otherTenantSameUser.UserID = a.UserID

	tokA := tokenFor(t, a)
	id := b.createSchedule(t, tokA, dailyBody("a's"))
	before := b.getSchedule(t, tokA, id)
	path := "/api/v1/schedules/" + id

	for name, intruder := range map[string]string{
		"same tenant, other user": tokenFor(t, sameTenant),
		"other tenant, same user": tokenFor(t, otherTenantSameUser),
	} {
		for _, rq := range []request{
			{method: http.MethodGet, path: path},
			{method: http.MethodPut, path: path, body: map[string]any{"name": "stolen"}},
			{method: http.MethodPost, path: path + "/pause", body: map[string]any{"reason": "mine now"}},
			{method: http.MethodPost, path: path + "/resume"},
			{method: http.MethodGet, path: path + "/runs"},
			{method: http.MethodDelete, path: path},
		} {
			rq.token = intruder
			resp := b.do(t, rq)
			require.Equal(t, http.StatusNotFound, resp.status, "%s: %s %s: %s", name, rq.method, rq.path, resp.body)
			require.NotContains(t, string(resp.body), "a's")
		}
		resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: intruder})
		var list api.ScheduleList
		resp.decode(t, &list)
		require.Zero(t, list.Total, name)
		require.Empty(t, list.Schedules, name)
	}
	after := b.getSchedule(t, tokA, id)
	require.Equal(t, before, after)
}
