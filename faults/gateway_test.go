package faults_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

// TestGatewayKilledMidCreate: a gateway is SIGKILLed while a create is in
// flight, at two moments — waiting for the owner's lock in PostgreSQL
// (before any write) and inside the Temporal create (Temporal stalled) —
// and the client retries with its Idempotency-Key on another gateway.
// There must be exactly one schedule and one Temporal schedule, and a
// further retry gets the replayed answer.
func TestGatewayKilledMidCreate(t *testing.T) {
	t.Parallel()
	out := row(t, 4, "gateway killed mid-create; the client retries with its Idempotency-Key on another gateway")
	ts := startTemporal(t)
	st := newStack(t, ts, nil)
	a, b := st.startGateway(), st.startGateway()
	tc := ts.client()
	ctx := context.Background()

	body := map[string]any{"name": "mid-create", "cron_expression": "0 3 * * *", "task_query": "q"}
	scenario := func(name string, o owner, hold func() (release func())) {
		key := "kill-" + strings.ReplaceAll(name, " ", "-")
		release := hold()
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			_, _ = call(a.url, o, http.MethodPost, "/api/v1/schedules", key, body) // dies with the gateway
		}()
		time.Sleep(1500 * time.Millisecond) // the create is now held where hold put it
		a.p.kill()
		<-sent
		release()

		// Retry on the other gateway until it answers; a claim of the dead
		// gateway is in progress until its lease ends.
		began, inProgress := time.Now(), 0
		var r response
		err := eventually(2*time.Minute, 0, func() bool {
			r = mustCall(t, b.url, o, http.MethodPost, "/api/v1/schedules", key, body)
			if r.status == http.StatusConflict {
				inProgress++
				wait, _ := strconv.Atoi(r.header.Get("Retry-After"))
				time.Sleep(time.Duration(max(wait, 1)) * time.Second)
				return false
			}
			return true
		})
		require.NoError(t, err, "the retry never got past 409: %s", r)
		require.Equal(t, http.StatusCreated, r.status, "%s", r)
		replay := mustCall(t, b.url, o, http.MethodPost, "/api/v1/schedules", key, body)
		require.Equal(t, http.StatusCreated, replay.status, "%s", replay)
		require.Equal(t, "true", replay.header.Get("Idempotent-Replayed"))
		require.True(t, bytes.Equal(r.body, replay.body), "the replay is the answer")
		id := uuid.MustParse(r.json(t)["schedule_id"].(string))

		var rows int
		require.NoError(t, st.pool.QueryRow(ctx, "SELECT count(*) FROM schedules WHERE user_id = $1 AND status <> 'DELETED'", o.user).Scan(&rows))
		time.Sleep(2 * time.Second) // the listing is eventually consistent
		temporal := temporalSchedulesOf(t, tc, o)
		out.note(t, "%s: retry on gateway B after %s (%d × 409 idempotency-in-progress first), then 201; replay 201 Idempotent-Replayed; %d row(s), %d Temporal schedule(s) for the owner",
			name, time.Since(began).Round(time.Second), inProgress, rows, len(temporal))
		require.Equal(t, 1, rows, "exactly one schedule")
		require.Equal(t, []string{"schedule-" + id.String()}, temporal, "exactly one Temporal schedule, the row's")
		a = st.startGateway() // the next scenario kills a fresh gateway
	}

	owner1 := newOwner(t, "gw-lock")
	scenario("waiting for the owner lock", owner1, func() func() {
		// Hold the owner's advisory lock, as a concurrent create of the same
		// owner would, so the create waits inside its transaction.
		tx, err := st.pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2::text, 0))", owner1.tenant, owner1.user)
		require.NoError(t, err)
		return func() { _ = tx.Rollback(ctx) }
	})
	owner2 := newOwner(t, "gw-temporal")
	scenario("inside the Temporal create", owner2, func() func() {
		ts.stall()
		return ts.unstall
	})
}

// temporalSchedulesOf lists the Temporal schedules whose action belongs to
// the owner (the workflow input carries user and tenant).
func temporalSchedulesOf(t *testing.T, tc client.Client, o owner) []string {
	t.Helper()
	ctx := context.Background()
	iter, err := tc.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 200})
	require.NoError(t, err)
	var ids []string
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		desc, err := tc.ScheduleClient().GetHandle(ctx, e.ID).Describe(ctx)
		if err != nil {
			continue // deleted since the listing
		}
		act, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
		if !ok || len(act.Args) == 0 {
			continue
		}
		if bytes.Contains([]byte(fmt.Sprint(act.Args[0])), []byte(o.user)) {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// TestRedisDown: Redis stalled (SIGSTOP) and down (SIGKILL) under two
// gateways, one configured fail-open and one fail-closed: fail-open serves
// without limiting, fail-closed refuses with 503 and Retry-After; both
// serve again once Redis is back.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	out := row(t, 5, "Redis down (fail-open and fail-closed as configured)")
	ts := startTemporal(t)
	st := newStack(t, ts, nil)
	open := st.startGateway()
	st.env["RATE_LIMIT_FAIL_MODE"] = "closed"
	closed := st.startGateway()
	o := newOwner(t, "redis")

	get := func(g *gateway) (response, time.Duration) {
		began := time.Now()
		r := mustCall(t, g.url, o, http.MethodGet, "/api/v1/schedules", "", nil)
		return r, time.Since(began)
	}
	for _, g := range []*gateway{open, closed} {
		r, _ := get(g)
		require.Equal(t, http.StatusOK, r.status, "%s", r)
		require.NotEmpty(t, r.header.Get("RateLimit-Remaining"))
	}
	check := func(mode string) {
		r, took := get(open)
		require.Equal(t, http.StatusOK, r.status, "fail-open serves: %s", r)
		rc, tookC := get(closed)
		require.Equal(t, http.StatusServiceUnavailable, rc.status, "fail-closed refuses: %s", rc)
		require.NotEmpty(t, rc.header.Get("Retry-After"))
		out.note(t, "Redis %s: fail-open %d in %s, fail-closed %d (Retry-After %ss) in %s",
			mode, r.status, took.Round(time.Millisecond), rc.status, rc.header.Get("Retry-After"), tookC.Round(time.Millisecond))
	}
	st.redis.p.signal(syscall.SIGSTOP)
	check("stalled")
	st.redis.p.signal(syscall.SIGCONT)
	st.redis.p.kill()
	check("down")
	// Back on the same port: both serve, limited again.
	st.redis.p = startProc(t, "redis-2", st.redis.p.cmd.Path, st.redis.p.cmd.Args[1:], nil)
	waitPort(t, st.redis.port, 10*time.Second)
	for _, g := range []*gateway{open, closed} {
		err := eventually(10*time.Second, 200*time.Millisecond, func() bool {
			r, _ := get(g)
			return r.status == http.StatusOK && r.header.Get("RateLimit-Remaining") != ""
		})
		require.NoError(t, err, "gateway serves with limits once Redis is back")
	}
	out.note(t, "Redis back: both gateways 200 with RateLimit headers")
}
