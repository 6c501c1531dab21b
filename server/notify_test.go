package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
	"schedsvc/notify"
	"schedsvc/ptrutil"
	"schedsvc/signing"
)

const (
	notifySecret = "integration-notify-secret-32-bytes!!"
	// notifyAllowedHosts admits the test receiver by its name only, so
	// another name of the same loopback address is still refused.
	notifyAllowedHosts = "localhost"
)

// notifyCall is one notification the receiver got.
type notifyCall struct {
	event          notify.Event
	idempotencyKey string
	signatureOK    bool
}

// notificationReceiver verifies each notification's signature and records
// it by path. A path under /flaky/ answers 503 to its first two attempts.
func (f *executorFakes) notificationReceiver(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sigErr := signing.VerifySignature([]byte(notifySecret), r.Header.Get(signing.TimestampHeader),
		r.Header.Get(signing.SignatureHeader), body, time.Now(), 5*time.Minute)
	var ev notify.Event
	_ = json.Unmarshal(body, &ev)
	f.mu.Lock()
	f.notified[r.URL.Path] = append(f.notified[r.URL.Path], notifyCall{event: ev, idempotencyKey: r.Header.Get(signing.IdempotencyHeader), signatureOK: sigErr == nil})
	calls := len(f.notified[r.URL.Path])
	f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/flaky/") && calls <= 2 {
		http.Error(w, "receiver restarting", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *executorFakes) notifiedAt(path string) []notifyCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]notifyCall(nil), f.notified[path]...)
}

func withNotify(o *setupOptions) {
	o.limits.NotifyEnabled = true
	o.limits.NotifyAllowedHosts = notifyAllowedHosts
}

// notifyingRun creates a webhook schedule that notifies path on kinds
// and triggers one run; it returns the schedule id and the finished run.
func (b *testBundle) notifyingRun(t *testing.T, tok, query, path string, kinds ...string) (string, api.Run) {
	t.Helper()
	body := dailyBody("notifies")
	body["task_query"] = query + " " + randomHex()
	body["executor"] = "http"
	body["retry_policy"] = map[string]any{"max_attempts": 1}
	body["notify"] = map[string]any{"url": env.fakes.notifyBase + path, "on": kinds}
	id := b.createSchedule(t, tok, body)
	require.Equal(t, env.fakes.notifyBase+path, b.getSchedule(t, tok, id).Notify.Url)
	return id, b.triggerAndWait(t, tok, id)
}

func (b *testBundle) triggerAndWait(t *testing.T, tok, id string) api.Run {
	t.Helper()
	resp := b.trigger(t, tok, id, nil, nil)
	require.Equal(t, http.StatusAccepted, resp.status, "body: %s", resp.body)
	runs := b.waitForRuns(t, tok, id, 60*time.Second, finished(1))
	return runs[0]
}

// waitForNotifications polls the run detail until cond holds of its
// notifications.
func (b *testBundle) waitForNotifications(t *testing.T, tok, id, runID string, cond func([]api.NotificationDelivery) bool) []api.NotificationDelivery {
	t.Helper()
	var last []api.NotificationDelivery
	require.Eventually(t, func() bool {
		last = b.getRun(t, tok, id, runID).Notifications
		return cond(last)
	}, 60*time.Second, 200*time.Millisecond, "notifications of run %s: %+v", runID, last)
	return last
}

// TestNotifyDelivered: a run that ends sends one signed event to the
// schedule's URL, which the run detail shows delivered at the first
// attempt; a receiver that fails twice gets it at the third.
func TestNotifyDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t, withNotify)
	tok := tokenFor(t, newOwner())

	t.Run("first attempt", func(t *testing.T) {
		t.Parallel()
		path := "/ok/" + randomHex()
		id, run := b.notifyingRun(t, tok, "notify ok", path, "COMPLETED", "FAILED")
		require.Equal(t, api.RunStatusCOMPLETED, run.Status, "error: %v", run.ErrorMessage)
		ns := b.waitForNotifications(t, tok, id, run.Id.String(), func(ns []api.NotificationDelivery) bool { return len(ns) == 1 && ns[0].Delivered })
		require.Equal(t, api.NotifyKindCOMPLETED, ns[0].Kind)
		require.Equal(t, 1, ns[0].Attempts)
		require.Equal(t, http.StatusNoContent, *ns[0].StatusCode)
		require.Nil(t, ns[0].LastError)
		require.Nil(t, ns[0].NextAttemptAt)
		got := env.fakes.notifiedAt(path)
		require.Len(t, got, 1, "one event, sent once")
		require.True(t, got[0].signatureOK, "the event is signed with the notification secret")
		require.Equal(t, ns[0].EventId.String(), got[0].event.ID)
		require.Equal(t, got[0].event.ID, got[0].idempotencyKey)
		require.Equal(t, notify.Completed, got[0].event.Kind)
		require.Equal(t, id, got[0].event.ScheduleID)
		require.Equal(t, run.WorkflowId, got[0].event.Run.WorkflowID)
		if *writeHistories {
			require.NoError(t, env.tc.GetWorkflow(context.Background(), run.WorkflowId, "").Get(context.Background(), nil))
			saveHistory(t, run.WorkflowId, "history_webhook_notified.json")
		}
	})

	t.Run("retried", func(t *testing.T) {
		t.Parallel()
		path := "/flaky/" + randomHex()
		id, run := b.notifyingRun(t, tok, "notify flaky", path, "COMPLETED")
		ns := b.waitForNotifications(t, tok, id, run.Id.String(), func(ns []api.NotificationDelivery) bool { return len(ns) == 1 && ns[0].Delivered })
		require.Equal(t, 3, ns[0].Attempts)
		require.Nil(t, ns[0].LastError, "delivered: no error left")
		got := env.fakes.notifiedAt(path)
		require.Len(t, got, 3)
		for _, c := range got {
			require.True(t, c.signatureOK)
			require.Equal(t, got[0].event.ID, c.idempotencyKey, "every attempt carries the event id")
		}
	})

	t.Run("not subscribed", func(t *testing.T) {
		t.Parallel()
		path := "/ok/" + randomHex()
		id, run := b.notifyingRun(t, tok, "notify only failures", path, "FAILED")
		require.Equal(t, api.RunStatusCOMPLETED, run.Status)
		time.Sleep(2 * time.Second)
		require.Empty(t, b.getRun(t, tok, id, run.Id.String()).Notifications)
		require.Empty(t, env.fakes.notifiedAt(path))
	})
}

// TestNotifySchedulePaused: a failed run that pauses the schedule under
// pause_after_failures sends FAILED and SCHEDULE_PAUSED, each its own
// event, both shown on the run.
func TestNotifySchedulePaused(t *testing.T) {
	t.Parallel()
	b := setup(t, withNotify)
	tok := tokenFor(t, newOwner())
	path := "/ok/" + randomHex()
	body := dailyBody("pauses")
	body["task_query"] = "fail " + randomHex()
	body["executor"] = "http"
	body["retry_policy"] = map[string]any{"max_attempts": 1}
	body["pause_after_failures"] = 1
	body["notify"] = map[string]any{"url": env.fakes.notifyBase + path, "on": []string{"FAILED", "SCHEDULE_PAUSED"}}
	id := b.createSchedule(t, tok, body)
	run := b.triggerAndWait(t, tok, id)
	require.Equal(t, api.RunStatusFAILED, run.Status)
	require.True(t, run.PausedSchedule)
	ns := b.waitForNotifications(t, tok, id, run.Id.String(), func(ns []api.NotificationDelivery) bool {
		return len(ns) == 2 && ns[0].Delivered && ns[1].Delivered
	})
	kinds := map[api.NotifyKind]bool{ns[0].Kind: true, ns[1].Kind: true}
	require.Equal(t, map[api.NotifyKind]bool{api.NotifyKindFAILED: true, api.NotifyKindSCHEDULEPAUSED: true}, kinds)
	require.NotEqual(t, ns[0].EventId, ns[1].EventId)
	got := env.fakes.notifiedAt(path)
	require.Len(t, got, 2)
	for _, c := range got {
		require.True(t, c.signatureOK)
		if c.event.Kind == notify.SchedulePaused {
			require.NotNil(t, c.event.Pause)
			require.Equal(t, "system", c.event.Pause.PausedBy)
			require.Contains(t, c.event.Pause.Reason, "did not complete")
			require.Equal(t, run.WorkflowId, c.event.Run.WorkflowID, "the pause names the run that caused it")
		}
	}
}

// TestNotifyManualPause: a user's pause sends SCHEDULE_PAUSED with who and
// why; pausing again sends nothing more.
func TestNotifyManualPause(t *testing.T) {
	t.Parallel()
	b := setup(t, withNotify)
	o := newOwner()
	tok := tokenFor(t, o)
	path := "/ok/" + randomHex()
	body := dailyBody("paused by hand")
	body["notify"] = map[string]any{"url": env.fakes.notifyBase + path, "on": []string{"SCHEDULE_PAUSED"}}
	id := b.createSchedule(t, tok, body)
	pause := request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/pause", token: tok, body: map[string]any{"reason": "quarter-end freeze"}}
	require.Equal(t, http.StatusOK, b.do(t, pause).status)
	require.Eventually(t, func() bool { return len(env.fakes.notifiedAt(path)) == 1 }, 30*time.Second, 100*time.Millisecond)
	got := env.fakes.notifiedAt(path)[0]
	require.True(t, got.signatureOK)
	require.Equal(t, notify.SchedulePaused, got.event.Kind)
	require.Equal(t, o.UserID, got.event.Pause.PausedBy)
	require.Equal(t, "quarter-end freeze", got.event.Pause.Reason)
	require.Nil(t, got.event.Run, "no run caused it")
	require.Eventually(t, func() bool {
		var delivered bool
		err := env.db.Pool.QueryRow(context.Background(), "SELECT delivered FROM notification_deliveries WHERE schedule_id = $1 AND workflow_id IS NULL", id).Scan(&delivered)
		return err == nil && delivered
	}, 30*time.Second, 100*time.Millisecond, "the delivery is recorded without a run")

	require.Equal(t, http.StatusOK, b.do(t, pause).status, "pausing a paused schedule changes nothing")
	time.Sleep(time.Second)
	require.Len(t, env.fakes.notifiedAt(path), 1)
}

// TestNotifyRefusedURLs: URLs the SSRF policy refuses are 422
// notify-url-refused on create and on update, and nothing is written.
func TestNotifyRefusedURLs(t *testing.T) {
	t.Parallel()
	b := setup(t, withNotify)
	o := newOwner()
	tok := tokenFor(t, o)
	for _, url := range []string{"http://169.254.169.254/", "http://10.0.0.1/", "ftp://x", "http://user:pw@host/", "http://127.0.0.1:9/"} {
		body := dailyBody("refused")
		body["notify"] = map[string]any{"url": url, "on": []string{"FAILED"}}
		resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: body})
		require.Equal(t, http.StatusUnprocessableEntity, resp.status, "%s: %s", url, resp.body)
		p := resp.problem(t)
		require.Equal(t, "https://schedsvc.dev/problems/notify-url-refused", string(p.Type), "%s", url)
		require.NotEmpty(t, *p.Detail)
	}
	var n int
	require.NoError(t, env.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM schedules WHERE tenant_id = $1", o.TenantID).Scan(&n))
	require.Zero(t, n, "no schedule was written")

	id := b.createSchedule(t, tok, dailyBody("update refused"))
	resp := b.do(t, request{method: http.MethodPut, path: "/api/v1/schedules/" + id, token: tok,
		body: map[string]any{"name": "changed", "notify": map[string]any{"url": "http://169.254.169.254/latest/meta-data/", "on": []string{"FAILED"}}}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status, "body: %s", resp.body)
	require.Contains(t, *resp.problem(t).Detail, "link-local", "169.254.169.254 is the cloud metadata address")
	s := b.getSchedule(t, tok, id)
	require.Nil(t, s.Notify, "nothing changed")
	require.Equal(t, "update refused", s.Name)

	// Set, then cleared.
	resp = b.do(t, request{method: http.MethodPut, path: "/api/v1/schedules/" + id, token: tok,
		body: map[string]any{"notify": map[string]any{"url": env.fakes.notifyBase + "/ok/x", "on": []string{"FAILED", "SCHEDULE_PAUSED"}}}})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	require.Len(t, b.getSchedule(t, tok, id).Notify.On, 2)
	resp = b.do(t, request{method: http.MethodPut, path: "/api/v1/schedules/" + id, token: tok, body: map[string]any{"clear_notify": true}})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	require.Nil(t, b.getSchedule(t, tok, id).Notify)

	// The trail shows both changes: set (no old value), then cleared (no new one).
	events, _ := b.events(t, tok, id, 50)
	var changes []api.ScheduleFieldChange
	for _, e := range events {
		if c, ok := ptrutil.ValOrDefault(e.Changes, map[string]api.ScheduleFieldChange{})["notify"]; ok {
			changes = append(changes, c)
		}
	}
	require.Len(t, changes, 2, "events: %+v", events)
	require.Nil(t, changes[0].New, "newest first: the clear")
	require.NotNil(t, changes[0].Old)
	require.Nil(t, changes[1].Old)
	require.Equal(t, env.fakes.notifyBase+"/ok/x", changes[1].New.(map[string]any)["url"])
}

// TestNotifyOffWithoutSecret: a server without notifications refuses
// `notify` rather than storing a setting nothing will honour.
func TestNotifyOffWithoutSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := dailyBody("no notifications")
	body["notify"] = map[string]any{"url": "https://hooks.example.com/x", "on": []string{"FAILED"}}
	resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tokenFor(t, newOwner()), body: body})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status, "body: %s", resp.body)
	require.Equal(t, "https://schedsvc.dev/problems/invalid-field", string(resp.problem(t).Type))
}

// TestNotifyRefusedAtConnect: a host name that resolves to loopback when
// the event is sent (DNS changed after the create-time check: simulated by
// changing the stored URL) is refused when dialled, recorded as the
// delivery's last error, and not retried.
func TestNotifyRefusedAtConnect(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	require.NoError(t, err)
	addrs, err := net.LookupHost(host)
	if err != nil || len(addrs) == 0 || !net.ParseIP(addrs[0]).IsLoopback() || host == notifyAllowedHosts {
		t.Skipf("needs a host name other than localhost that resolves to loopback; %q resolves to %v", host, addrs)
	}
	b := setup(t, withNotify)
	tok := tokenFor(t, newOwner())
	body := dailyBody("rebinding")
	body["task_query"] = "notify rebinding " + randomHex()
	body["executor"] = "http"
	body["retry_policy"] = map[string]any{"max_attempts": 1}
	body["notify"] = map[string]any{"url": env.fakes.notifyBase + "/ok/unused", "on": []string{"COMPLETED"}}
	id := b.createSchedule(t, tok, body)
	port := env.fakes.receiver.Listener.Addr().(*net.TCPAddr).Port
	path := "/ok/" + randomHex()
	rebound := "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + path
	_, err = env.db.Pool.Exec(context.Background(), "UPDATE schedules SET notify_url = $2 WHERE id = $1", id, rebound)
	require.NoError(t, err)

	run := b.triggerAndWait(t, tok, id)
	ns := b.waitForNotifications(t, tok, id, run.Id.String(), func(ns []api.NotificationDelivery) bool { return len(ns) == 1 })
	require.False(t, ns[0].Delivered)
	require.Equal(t, 1, ns[0].Attempts, "a refusal is not retried")
	require.Nil(t, ns[0].NextAttemptAt)
	require.Nil(t, ns[0].StatusCode)
	require.Contains(t, *ns[0].LastError, "refused to connect to "+host)
	require.Contains(t, *ns[0].LastError, "loopback")
	require.NotContains(t, *ns[0].LastError, "127.0.0.1", "the owner is not told what the name resolves to")
	time.Sleep(2 * time.Second)
	require.Equal(t, 1, b.getRun(t, tok, id, run.Id.String()).Notifications[0].Attempts, "no retry storm")
	require.Empty(t, env.fakes.notifiedAt(path))
}
