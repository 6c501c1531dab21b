package notify

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestKindOfRunStatus(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]Kind{
		"COMPLETED": Completed, "FAILED": Failed, "TIMED_OUT": TimedOut, "CANCELLED": Cancelled,
	} {
		k, ok := KindOfRunStatus(status)
		require.True(t, ok, status)
		require.Equal(t, want, k)
	}
	for _, status := range []string{"RUNNING", "SCHEDULE_PAUSED", "", "completed"} {
		_, ok := KindOfRunStatus(status)
		require.False(t, ok, "%q sends no run event", status)
	}
}

func TestTargetWants(t *testing.T) {
	t.Parallel()
	tg := Target{URL: "https://hooks.example.com/", On: []Kind{Failed, SchedulePaused}}
	require.True(t, tg.Wants(Failed))
	require.True(t, tg.Wants(SchedulePaused))
	require.False(t, tg.Wants(Completed))
	require.False(t, Target{On: Kinds()}.Wants(Failed), "no URL, no notification")
}

func TestEventIDIsStableAndDistinct(t *testing.T) {
	t.Parallel()
	a := EventID("s1", Failed, "wf-1")
	require.Equal(t, a, EventID("s1", Failed, "wf-1"), "a retried or replayed send names the event the same")
	_, err := uuid.Parse(a)
	require.NoError(t, err)
	for _, other := range []string{
		EventID("s2", Failed, "wf-1"),
		EventID("s1", Completed, "wf-1"),
		EventID("s1", Failed, "wf-2"),
		EventID("s1F", "AILED", "wf-1"), // the separator keeps fields apart
	} {
		require.NotEqual(t, a, other)
	}
}

func TestRunEvent(t *testing.T) {
	t.Parallel()
	run := failedRun()
	ev, ok := RunEvent("s1", "nightly", run)
	require.True(t, ok)
	require.Equal(t, Failed, ev.Kind)
	require.Equal(t, EventID("s1", Failed, run.WorkflowID), ev.ID)
	require.Equal(t, *run.CompletedAt, ev.OccurredAt)
	require.NoError(t, ev.validate())

	run.Status = "RUNNING"
	_, ok = RunEvent("s1", "nightly", run)
	require.False(t, ok)
}

func TestPauseEvent(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 9, 30, 0, 5, time.FixedZone("CET", 3600))
	run := failedRun()
	ev := PauseEvent("s1", "nightly", Pause{Reason: "3 consecutive failures", PausedBy: "system", PausedAt: at}, &run)
	require.Equal(t, SchedulePaused, ev.Kind)
	require.Equal(t, at.UTC(), ev.OccurredAt)
	require.Equal(t, EventID("s1", SchedulePaused, "2026-12-02T08:30:00.000000005Z"), ev.ID)
	require.NoError(t, ev.validate(), "a pause may carry the run that caused it, whatever its status")

	noRun := PauseEvent("s1", "nightly", Pause{Reason: "maintenance", PausedBy: "user-7", PausedAt: at}, nil)
	require.NoError(t, noRun.validate())
	body, err := json.Marshal(noRun)
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"`+noRun.ID+`","kind":"SCHEDULE_PAUSED","occurred_at":"2026-12-02T08:30:00.000000005Z",
		"schedule_id":"s1","schedule_name":"nightly",
		"pause":{"reason":"maintenance","paused_by":"user-7","paused_at":"2026-12-02T08:30:00.000000005Z"}}`, string(body))
}
