package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
)

// TestAPIKeys: a key acts for its user and tenant in X-API-Key only, its
// use is recorded, and once revoked it is refused.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	o := newOwner()
	key, k, err := b.apiKeys.Create(ctx, o, "default", "ci pipeline")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(key, k.Prefix+"_"), "the key starts with its visible prefix")
	require.Len(t, k.Prefix, len("sk_")+8)
	require.Nil(t, k.LastUsedAt)

	resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", apiKey: key, body: dailyBody("by key")})
	require.Equal(t, http.StatusCreated, resp.status, "body: %s", resp.body)
	var created api.ScheduleCreated
	resp.decode(t, &created)
	s := b.getSchedule(t, tokenFor(t, o), created.ScheduleId.String())
	require.Equal(t, o.UserID, s.UserId, "the key acts for its user")
	require.Equal(t, o.TenantID, s.TenantId)

	keys, err := b.apiKeys.List(ctx, o.TenantID)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.NotNil(t, keys[0].LastUsedAt, "use is recorded")
	require.Equal(t, "ci pipeline", keys[0].Name)

	for name, rq := range map[string]request{
		"key as bearer":    {token: key},
		"both credentials": {apiKey: key, token: tokenFor(t, o)},
		"unknown key":      {apiKey: k.Prefix + "_" + strings.Repeat("a", 52)},
		"malformed key":    {apiKey: "sk_nope"},
		"unknown prefix":   {apiKey: "sk_zzzzzzzz" + key[len(k.Prefix):]},
	} {
		rq.method, rq.path = http.MethodGet, "/api/v1/schedules"
		resp := b.do(t, rq)
		require.Equal(t, http.StatusUnauthorized, resp.status, name)
		require.Contains(t, resp.header.Get("WWW-Authenticate"), "Bearer", name)
	}

	revoked, err := b.apiKeys.Revoke(ctx, k.Prefix)
	require.NoError(t, err)
	require.NotNil(t, revoked.RevokedAt)
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", apiKey: key})
	require.Equal(t, http.StatusUnauthorized, resp.status, "a revoked key is refused")
	require.Equal(t, "https://schedsvc.dev/problems/unauthorized", string(resp.problem(t).Type))
}

// TestResourceBounds: the spec's length bounds and the task_context size
// bound are enforced before any handler runs.
func TestResourceBounds(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.maxBody = 64 << 10 })
	tok := tokenFor(t, newOwner())
	big := map[string]any{}
	for i := range 90 {
		big[strings.Repeat("k", 3)+string(rune('a'+i%26))+strings.Repeat("x", i)] = strings.Repeat("v", 200)
	}
	for name, mutate := range map[string]func(map[string]any){
		"name over 200":           func(m map[string]any) { m["name"] = strings.Repeat("n", 201) },
		"description over 2000":   func(m map[string]any) { m["description"] = strings.Repeat("d", 2001) },
		"task_query over 10000":   func(m map[string]any) { m["task_query"] = strings.Repeat("q", 10001) },
		"task_context over 16KiB": func(m map[string]any) { m["task_context"] = big },
	} {
		body := dailyBody("bounds")
		mutate(body)
		resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: body})
		require.Equal(t, http.StatusBadRequest, resp.status, "%s: %s", name, resp.body)
		require.Equal(t, "https://schedsvc.dev/problems/invalid-request", resp.problem(t).Type, name)
	}
	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules?page_size=101", token: tok})
	require.Equal(t, http.StatusBadRequest, resp.status)
}
