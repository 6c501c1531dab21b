package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"schedsvc/signing"
)

func TestDevTaskHandler(t *testing.T) {
	t.Parallel()
	h := devTaskHandler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/task",
		strings.NewReader(`{"task_query":"Summarise the news","schedule_id":"s1","run_id":"r1"}`)))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	require.JSONEq(t, `{"result":"echo: Summarise the news","total_tokens":42,"total_cost_usd":0.00042,
		"model_used":"dev-echo","provider":"devstack"}`, rec.Body.String())

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/task", strings.NewReader(`not json`)))
	require.Equal(t, http.StatusBadRequest, rec.Code)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/task", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

func TestDevSecretAndToken(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ".data", "dev-jwt-secret")

	secret, err := devSecret(path)
	require.NoError(t, err)
	require.Len(t, secret, 64)
	again, err := devSecret(path)
	require.NoError(t, err)
	require.Equal(t, secret, again, "stable across runs")
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	now := time.Now()
	signed, err := devToken(secret, now)
	require.NoError(t, err)
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(signed, claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	require.NoError(t, err)
	require.Equal(t, "dev-user", claims["sub"])
	require.Equal(t, "dev-tenant", claims["tenant_id"])
	exp, err := claims.GetExpirationTime()
	require.NoError(t, err)
	require.WithinDuration(t, now.Add(30*24*time.Hour), exp.Time, time.Second)
}

func TestEnsureDatabase(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("needs PostgreSQL on 127.0.0.1:5432")
	}
	ctx := context.Background()
	adminURL := "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "devstack_test_" + hex.EncodeToString(suffix)
	databaseURL := "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, adminURL)
		if err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize())
			_ = conn.Close(ctx)
		}
	})

	require.NoError(t, ensureDatabase(ctx, adminURL, databaseURL))
	require.NoError(t, ensureDatabase(ctx, adminURL, databaseURL), "idempotent")
	conn, err := pgx.Connect(ctx, databaseURL)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
}

func TestConsolePrefixesWholeLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := newConsole(&buf)
	gateway, worker := c.prefixed("gateway"), c.prefixed("worker")

	_, _ = gateway.Write([]byte("listen"))
	_, _ = worker.Write([]byte("started\n"))
	_, _ = gateway.Write([]byte("ing\nready\n"))
	require.Equal(t, "[worker] started\n[gateway] listening\n[gateway] ready\n", buf.String())
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(func(string) string { return "" })
	require.NoError(t, err)
	env := childEnv(cfg)
	for _, want := range []string{
		"HTTP_ADDR=127.0.0.1:8080",
		"DATABASE_URL=postgres://postgres@127.0.0.1:5432/schedsvc?sslmode=disable",
		"REDIS_URL=redis://127.0.0.1:6379/0",
		"TEMPORAL_NAMESPACE=default",
		"TEMPORAL_TASK_QUEUE=scheduled-tasks",
		"SCHEDULE_MIN_INTERVAL_MINS=1",
	} {
		require.Contains(t, env, want)
	}
	require.Equal(t, 7233, cfg.temporalPort)

	_, err = loadConfig(func(key string) string {
		if key == "TEMPORAL_PORT" {
			return "x"
		}
		return ""
	})
	require.ErrorContains(t, err, "TEMPORAL_PORT")
}

func TestAPIKeyPrefix(t *testing.T) {
	t.Parallel()
	p, ok := apiKeyPrefix("sk_abcd2345_" + strings.Repeat("x", 52))
	require.True(t, ok)
	require.Equal(t, "sk_abcd2345", p)
	for _, bad := range []string{"", "sk_short", "pk_abcd2345_xyz", "sk_abcd2345xxyz"} {
		_, ok := apiKeyPrefix(bad)
		require.False(t, ok, bad)
	}
}

func TestDevReceiverVerifiesSignatures(t *testing.T) {
	t.Parallel()
	secret := []byte("dev-notify-secret-0123456789")
	var log bytes.Buffer
	h := devReceiverHandler(secret, &log)
	body := []byte(`{"id":"4c8a2d71-e5b3-5f90-a6c2-7d1e9b3f0a68","kind":"FAILED","schedule_id":"s1","schedule_name":"news","run":{"workflow_id":"wf1","status":"FAILED"}}`)
	send := func(key []byte) *httptest.ResponseRecorder {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
		req.Header.Set(signing.TimestampHeader, ts)
		req.Header.Set(signing.SignatureHeader, signing.Sign(key, ts, body))
		req.Header.Set(signing.AttemptHeader, "1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, http.StatusNoContent, send(secret).Code)
	require.Contains(t, log.String(), "notification FAILED (event 4c8a2d71-e5b3-5f90-a6c2-7d1e9b3f0a68, attempt 1) for schedule s1 \"news\", run wf1; signature verified")
	require.Equal(t, http.StatusUnauthorized, send([]byte("another-secret-0123456789")).Code)
	require.Contains(t, log.String(), "notification refused: signature does not match")
}
