package notify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"schedsvc/signing"
)

// memRecorder keeps what the activity recorded, in order; failFirst makes
// its first write fail.
type memRecorder struct {
	mu        sync.Mutex
	got       []Delivery
	failFirst bool
}

func (m *memRecorder) RecordDelivery(_ context.Context, d Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failFirst {
		m.failFirst = false
		return errors.New("database unavailable")
	}
	m.got = append(m.got, d)
	return nil
}

func (m *memRecorder) records() []Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Delivery(nil), m.got...)
}

type workflowBundle struct {
	env *testsuite.TestWorkflowEnvironment
	rec *memRecorder
	now time.Time
}

func setupWorkflow(t *testing.T, s *Sender) *workflowBundle {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	b := &workflowBundle{env: suite.NewTestWorkflowEnvironment(), rec: &memRecorder{}, now: time.Date(2026, 12, 2, 8, 1, 0, 0, time.UTC)}
	b.env.RegisterActivity(&Activities{Sender: s, Recorder: b.rec, Now: func() time.Time { return b.now }})
	b.env.RegisterWorkflowWithOptions(DeliveryWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	return b
}

func workflowInput(t *testing.T, url string) WorkflowInput {
	return WorkflowInput{DeliverInput: DeliverInput{URL: url, Event: failedEvent(t), Retry: DefaultRetry}, AttemptTimeout: 2 * time.Second}
}

func TestDeliveryWorkflowRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	r := listen(t, "127.0.0.1", func(w http.ResponseWriter, req *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "deploying", http.StatusServiceUnavailable)
		}
	})
	b := setupWorkflow(t, newSender(t, Config{AllowedHosts: "127.0.0.1/32"}))
	in := workflowInput(t, r.URL+"/events")

	b.env.ExecuteWorkflow(WorkflowName, in)
	require.True(t, b.env.IsWorkflowCompleted())
	require.NoError(t, b.env.GetWorkflowError())
	var res Result
	require.NoError(t, b.env.GetWorkflowResult(&res))
	require.Equal(t, Result{Attempt: 3, Delivered: true, StatusCode: http.StatusOK}, res)

	next1, next2 := b.now.Add(5*time.Second), b.now.Add(10*time.Second)
	base := Delivery{EventID: in.Event.ID, ScheduleID: in.Event.ScheduleID, WorkflowID: in.Event.Run.WorkflowID, Kind: Failed, URL: in.URL, LastAttemptAt: b.now}
	want := []Delivery{base, base, base}
	want[0].Attempts, want[0].StatusCode, want[0].LastError, want[0].NextAttemptAt = 1, 503, "notification receiver answered 503: deploying", &next1
	want[1].Attempts, want[1].StatusCode, want[1].LastError, want[1].NextAttemptAt = 2, 503, "notification receiver answered 503: deploying", &next2
	want[2].Attempts, want[2].StatusCode, want[2].Delivered = 3, 200, true
	require.Equal(t, want, b.rec.records(), "every attempt is recorded: attempts, last error, when the next comes")

	got := r.deliveries()
	require.Len(t, got, 3)
	for i, d := range got {
		require.Equal(t, in.Event.ID, d.header.Get(signing.IdempotencyHeader))
		require.Equal(t, []string{"1", "2", "3"}[i], d.header.Get(signing.AttemptHeader))
	}
}

func TestDeliveryWorkflowStopsAtARefusedURL(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", nil)
	b := setupWorkflow(t, newSender(t, Config{}))
	in := workflowInput(t, r.url("localhost"))

	b.env.ExecuteWorkflow(WorkflowName, in)
	require.True(t, b.env.IsWorkflowCompleted())
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, b.env.GetWorkflowError(), &appErr)
	require.Equal(t, "NotifyURLRefused", appErr.Type())
	require.Zero(t, r.hits.Load())

	recs := b.rec.records()
	require.Len(t, recs, 1, "one attempt: another cannot succeed")
	require.Equal(t, 1, recs[0].Attempts)
	require.False(t, recs[0].Delivered)
	require.Nil(t, recs[0].NextAttemptAt)
	require.Contains(t, recs[0].LastError, "refused to connect to localhost: it resolves to a loopback address")
}

func TestDeliveryWorkflowGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", func(w http.ResponseWriter, req *http.Request) { http.Error(w, "down", http.StatusBadGateway) })
	b := setupWorkflow(t, newSender(t, Config{AllowedHosts: "127.0.0.1/32"}))
	in := workflowInput(t, r.URL)
	in.Retry = Retry{MaxAttempts: 3, Initial: time.Second, Coefficient: 2, Max: time.Minute}

	b.env.ExecuteWorkflow(WorkflowName, in)
	require.True(t, b.env.IsWorkflowCompleted())
	require.ErrorContains(t, b.env.GetWorkflowError(), "notification receiver answered 502: down")
	recs := b.rec.records()
	require.Len(t, recs, 3)
	require.NotNil(t, recs[1].NextAttemptAt)
	require.Nil(t, recs[2].NextAttemptAt, "the last attempt says no other follows")
	require.EqualValues(t, 3, r.hits.Load())
}

func TestDeliveryIsRetriedWhenItsRecordFails(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", nil)
	b := setupWorkflow(t, newSender(t, Config{AllowedHosts: "127.0.0.1/32"}))
	b.rec.failFirst = true

	b.env.ExecuteWorkflow(WorkflowName, workflowInput(t, r.URL))
	require.True(t, b.env.IsWorkflowCompleted())
	require.NoError(t, b.env.GetWorkflowError())
	recs := b.rec.records()
	require.Len(t, recs, 1)
	require.True(t, recs[0].Delivered)
	require.Equal(t, 2, recs[0].Attempts)
	got := r.deliveries()
	require.Len(t, got, 2, "at least once: the unrecorded delivery is made again")
	require.Equal(t, got[0].header.Get(signing.IdempotencyHeader), got[1].header.Get(signing.IdempotencyHeader), "under the same key")
}

func TestTimeoutCoversEveryAttemptAndWait(t *testing.T) {
	t.Parallel()
	in := WorkflowInput{DeliverInput: DeliverInput{Retry: DefaultRetry}, AttemptTimeout: 10 * time.Second}
	require.Equal(t, 8*15*time.Second+615*time.Second+time.Minute, Timeout(in))
	require.Equal(t, "notify-abc", DeliveryWorkflowID("abc"))
}
