package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"schedsvc/gen/api"
	"schedsvc/schedules"
	"schedsvc/server"
	"schedsvc/store"
)

// countingTemporal counts the Temporal schedules its manager creates.
type countingTemporal struct {
	client.Client
	creates *atomic.Int32
}

func (c countingTemporal) ScheduleClient() client.ScheduleClient {
	return countingSchedules{ScheduleClient: c.Client.ScheduleClient(), creates: c.creates}
}

type countingSchedules struct {
	client.ScheduleClient
	creates *atomic.Int32
}

func (c countingSchedules) Create(ctx context.Context, opts client.ScheduleOptions) (client.ScheduleHandle, error) {
	h, err := c.ScheduleClient.Create(ctx, opts)
	if err == nil {
		c.creates.Add(1)
	}
	return h, err
}

// TestIdempotentCreateConcurrent: 50 concurrent creates with one
// Idempotency-Key make one schedule in PostgreSQL and one in Temporal;
// every answer is the stored 201 or 409 in progress.
func TestIdempotentCreateConcurrent(t *testing.T) {
	t.Parallel()
	var creates atomic.Int32
	b := setup(t, func(o *setupOptions) { o.temporal = countingTemporal{Client: env.tc, creates: &creates} })
	o := newOwner()
	tok := tokenFor(t, o)
	rq := request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: dailyBody("once"),
		header: map[string]string{"Idempotency-Key": "create-" + randomHex()}}

	const n = 50
	type result struct {
		req  *http.Request
		resp response
		err  error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			req, resp, err := b.send(rq)
			results[i] = result{req, resp, err}
		})
	}
	close(start)
	wg.Wait()

	var created, replayed, inProgress int
	ids := map[string]bool{}
	for _, r := range results {
		require.NoError(t, r.err)
		checkResponse(t, rq, r.req, r.resp)
		switch r.resp.status {
		case http.StatusCreated:
			var c api.ScheduleCreated
			r.resp.decode(t, &c)
			ids[c.ScheduleId.String()] = true
			require.Equal(t, "/api/v1/schedules/"+c.ScheduleId.String(), r.resp.header.Get("Location"))
			if r.resp.header.Get("Idempotent-Replayed") == "true" {
				replayed++
			} else {
				created++
			}
		case http.StatusConflict:
			require.Equal(t, "https://schedsvc.dev/problems/idempotency-in-progress", string(r.resp.problem(t).Type))
			wait, err := strconv.Atoi(r.resp.header.Get("Retry-After"))
			require.NoError(t, err, "an in-progress answer says when to retry")
			require.True(t, wait >= 1 && wait <= 60, "Retry-After %d is within the claim's one-minute lease", wait)
			inProgress++
		default:
			t.Fatalf("unexpected %d: %s", r.resp.status, r.resp.body)
		}
	}
	t.Logf("%d concurrent creates with one key: %d created, %d replayed, %d in progress (409)", n, created, replayed, inProgress)
	require.Equal(t, 1, created, "exactly one request ran the handler")
	require.Len(t, ids, 1, "every 201 names the same schedule")
	require.Equal(t, int32(1), creates.Load(), "one Temporal schedule created")

	list := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
	var l api.ScheduleList
	list.decode(t, &l)
	require.EqualValues(t, 1, l.Total, "one schedule in PostgreSQL")
	var id string
	for k := range ids {
		id = k
	}
	_, err := env.tc.ScheduleClient().GetHandle(context.Background(), schedules.TemporalScheduleID(l.Schedules[0].Id)).Describe(context.Background())
	require.NoError(t, err, "the schedule exists in Temporal")
	require.Equal(t, id, l.Schedules[0].Id.String())

	// A later retry still replays; the same key with another body is 422,
	// as is the same key on another endpoint.
	resp := b.do(t, rq)
	require.Equal(t, http.StatusCreated, resp.status)
	require.Equal(t, "true", resp.header.Get("Idempotent-Replayed"))
	other := rq
	other.body = dailyBody("twice")
	resp = b.do(t, other)
	require.Equal(t, http.StatusUnprocessableEntity, resp.status)
	require.Equal(t, "https://schedsvc.dev/problems/idempotency-key-reused", string(resp.problem(t).Type))
	resp = b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/pause", token: tok, header: rq.header})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status)

	// Keys are per user: another user's identical request is their own.
	intruder := newOwner()
	intruder.TenantID = o.TenantID
	resp = b.do(t, request{method: rq.method, path: rq.path, token: tokenFor(t, intruder), body: rq.body, header: rq.header})
	require.Equal(t, http.StatusCreated, resp.status)
	require.Empty(t, resp.header.Get("Idempotent-Replayed"))
	require.Equal(t, int32(2), creates.Load())
}

// TestIdempotentActions: pause, resume and delete replay their first answer
// to a retry with the same key, and errors are not kept.
func TestIdempotentActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())
	id := b.createSchedule(t, tok, dailyBody("actions"))
	path := "/api/v1/schedules/" + id

	for _, action := range []string{"/pause", "/resume"} {
		rq := request{method: http.MethodPost, path: path + action, token: tok, body: map[string]any{"reason": "test"},
			header: map[string]string{"Idempotency-Key": randomHex()}}
		first := b.do(t, rq)
		require.Equal(t, http.StatusOK, first.status, "%s: %s", action, first.body)
		require.Empty(t, first.header.Get("Idempotent-Replayed"))
		again := b.do(t, rq)
		require.Equal(t, http.StatusOK, again.status)
		require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		require.JSONEq(t, string(first.body), string(again.body))
	}

	del := request{method: http.MethodDelete, path: path, token: tok, header: map[string]string{"Idempotency-Key": randomHex()}}
	require.Equal(t, http.StatusNoContent, b.do(t, del).status)
	again := b.do(t, del)
	require.Equal(t, http.StatusNoContent, again.status, "a retried delete is not a 404")
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.Equal(t, http.StatusNotFound, b.do(t, request{method: http.MethodDelete, path: path, token: tok}).status)

	// A refused request keeps nothing: the corrected retry with the same key runs.
	key := map[string]string{"Idempotency-Key": randomHex()}
	bad := dailyBody("bad")
	bad["cron_expression"] = "0 0 30 2 *"
	resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: bad, header: key})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status)
	resp = b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: dailyBody("good"), header: key})
	require.Equal(t, http.StatusCreated, resp.status)
	require.Empty(t, resp.header.Get("Idempotent-Replayed"))

	// The key is declared with bounds; a key too long is a 400.
	resp = b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: dailyBody("x"),
		header: map[string]string{"Idempotency-Key": randomLong(300)}})
	require.Equal(t, http.StatusBadRequest, resp.status)
}

// TestIdempotencyKeyExpires: after the TTL a key is free again, and the
// clean-up removes expired records.
func TestIdempotencyKeyExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.idemTTL = time.Second })
	tok := tokenFor(t, newOwner())
	rq := request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: dailyBody("expiring"),
		header: map[string]string{"Idempotency-Key": randomHex()}}
	first := b.do(t, rq)
	require.Equal(t, http.StatusCreated, first.status)
	require.Equal(t, "true", b.do(t, rq).header.Get("Idempotent-Replayed"))
	time.Sleep(1100 * time.Millisecond)
	again := b.do(t, rq)
	require.Equal(t, http.StatusCreated, again.status)
	require.Empty(t, again.header.Get("Idempotent-Replayed"), "an expired key is processed afresh")
	require.NotEqual(t, string(first.body), string(again.body))

	time.Sleep(1100 * time.Millisecond)
	n, err := server.NewIdempotency(store.New(env.db.Pool), time.Second, slog.New(slog.NewTextHandler(io.Discard, nil))).DeleteExpired(context.Background())
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, int64(1))
}

func randomLong(n int) string {
	s := ""
	for len(s) < n {
		s += randomHex()
	}
	return s[:n]
}

// TestIdempotentRetryAfterTemporalStall: a create that times out against a
// stalled Temporal answers 503 and releases its key at once, so the
// client's first retry after Retry-After gets through. The stall lasts the
// configured Temporal call timeout, as in production: a release that shared
// a deadline with the handler found it spent and left the key claimed.
func TestIdempotentRetryAfterTemporalStall(t *testing.T) {
	t.Parallel()
	// A listener that never accepts looks like a SIGSTOPped server: the
	// kernel completes the handshake, nothing ever answers.
	stalled, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = stalled.Close() })
	tc, err := client.NewLazyClient(client.Options{HostPort: stalled.Addr().String(), Namespace: "default", Logger: quietLogger{}})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	callTO := testConfig(t).Temporal.CallTimeout
	down := setup(t, func(o *setupOptions) { o.temporal = tc; o.callTO = callTO })
	up := setup(t, func(o *setupOptions) { o.callTO = callTO })
	o := newOwner()
	rq := request{method: http.MethodPost, path: "/api/v1/schedules", token: tokenFor(t, o), body: dailyBody("stalled"),
		header: map[string]string{"Idempotency-Key": "stall-" + randomHex()}}

	resp := down.do(t, rq)
	require.Equal(t, http.StatusServiceUnavailable, resp.status, "body: %s", resp.body)
	require.Equal(t, "5", resp.header.Get("Retry-After"))
	require.Zero(t, scheduleRowCount(t, o))

	resp = up.do(t, rq)
	require.Equal(t, http.StatusCreated, resp.status, "the first retry gets through: %s", resp.body)
	require.Equal(t, 1, scheduleRowCount(t, o))
	require.Equal(t, "true", up.do(t, rq).header.Get("Idempotent-Replayed"))
}
