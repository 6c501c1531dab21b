package workflows

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"schedsvc/schedules"
)

// TestReplayReleasedHistories replays histories recorded on the real
// Temporal server (server tests with -write-histories): a change to
// ScheduledTaskWorkflow that would break runs in flight on deploy fails
// here. When the workflow's shape changes on purpose, guard the change with
// workflow.GetVersion and add the new histories next to these.
func TestReplayReleasedHistories(t *testing.T) {
	t.Parallel()
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
}
