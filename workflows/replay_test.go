package workflows

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"schedsvc/notify"
	"schedsvc/schedules"
)

// TestReplayReleasedHistories replays histories recorded on the real
// Temporal server (server tests with -write-histories): a change to
// ScheduledTaskWorkflow that would break runs in flight on deploy fails
// here. When the workflow's shape changes on purpose, guard the change with
// workflow.GetVersion and add the new histories next to these.
func TestReplayReleasedHistories(t *testing.T) {
	t.Parallel()
	forEachRecordedHistory(t, func(t *testing.T, h *historypb.History) {
		// The workflow id names child workflows: replay under the original.
		id := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
		require.NotEmpty(t, id)
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(ScheduledTaskWorkflow, workflow.RegisterOptions{Name: schedules.WorkflowName})
		require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{
			OriginalExecution: workflow.Execution{ID: id, RunID: "replay"},
		}))
	})
}

// forEachRecordedHistory runs test, in parallel, on each history in
// testdata.
func forEachRecordedHistory(t *testing.T, test func(t *testing.T, h *historypb.History)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "history_*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "the recorded histories are missing from workflows/testdata")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			file, err := os.Open(f)
			require.NoError(t, err)
			defer file.Close()
			h, err := client.HistoryFromJSON(file, client.HistoryJSONOptions{})
			require.NoError(t, err)
			test(t, h)
		})
	}
}

// TestRecordedPayloadsKeepTheirShape decodes every payload of the recorded
// histories into the type the workflow now uses for it and encodes it
// again: the bytes must not change. Replay alone would not notice a field
// that no longer decodes, because it compares commands, not values.
func TestRecordedPayloadsKeepTheirShape(t *testing.T) {
	t.Parallel()
	dc := converter.GetDefaultDataConverter()
	roundTrip := func(t *testing.T, p *commonpb.Payloads, into any) {
		t.Helper()
		require.Len(t, p.GetPayloads(), 1)
		require.NoError(t, dc.FromPayload(p.Payloads[0], into))
		again, err := dc.ToPayload(reflect.ValueOf(into).Elem().Interface())
		require.NoError(t, err)
		require.Equal(t, string(p.Payloads[0].GetData()), string(again.GetData()))
	}
	forEachRecordedHistory(t, func(t *testing.T, h *historypb.History) {
		activityType := map[int64]string{}
		for _, e := range h.Events {
			switch e.GetEventType() {
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				a := e.GetActivityTaskScheduledEventAttributes()
				activityType[e.GetEventId()] = a.GetActivityType().GetName()
				into := map[string]any{"RecordStart": &StartInput{}, "Execute": &ExecuteInput{}, "RecordCompletion": &CompleteInput{}}[a.GetActivityType().GetName()]
				require.NotNil(t, into, "activity %s", a.GetActivityType().GetName())
				roundTrip(t, a.GetInput(), into)
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				a := e.GetActivityTaskCompletedEventAttributes()
				switch activityType[a.GetScheduledEventId()] {
				case "RecordStart":
					roundTrip(t, a.GetResult(), &RunPlan{})
				case "Execute":
					roundTrip(t, a.GetResult(), &AttemptResult{})
				}
			case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
				a := e.GetStartChildWorkflowExecutionInitiatedEventAttributes()
				var into any = &ChildInput{}
				if a.GetWorkflowType().GetName() == notify.WorkflowName {
					into = &notify.WorkflowInput{}
				}
				roundTrip(t, a.GetInput(), into)
			case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
				roundTrip(t, e.GetChildWorkflowExecutionCompletedEventAttributes().GetResult(), &ChildResult{})
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
				roundTrip(t, e.GetWorkflowExecutionCompletedEventAttributes().GetResult(), &RunResult{})
			}
		}
	})
}

// TestRecordedAttemptResultDecodesIntoUsage holds one recorded attempt's
// usage against the embedded schedules.Usage it now decodes into.
func TestRecordedAttemptResultDecodesIntoUsage(t *testing.T) {
	t.Parallel()
	// The Execute result of testdata/history_llm_completed.json.
	recorded := `{"Status":"COMPLETED","Retryable":false,"Result":"answer to llm: summarise the news c50f6473e9b3","ErrorMessage":"","PromptTokens":120,"CompletionTokens":30,"TotalTokens":150,"TotalCostUSD":0.18,"ModelUsed":"test-model-2026-01-01","Provider":"test-llm","MaxTokens":4096}`
	var ar AttemptResult
	require.NoError(t, json.Unmarshal([]byte(recorded), &ar))
	require.Equal(t, AttemptResult{
		Status: schedules.RunCompleted, Result: "answer to llm: summarise the news c50f6473e9b3",
		Usage: schedules.Usage{PromptTokens: 120, CompletionTokens: 30, TotalTokens: 150, TotalCostUSD: 0.18,
			ModelUsed: "test-model-2026-01-01", Provider: "test-llm"},
		MaxTokens: 4096,
	}, ar)
}
