package workflows

import (
	"context"
	"time"
)

// Task is one run handed to an executor.
type Task struct {
	ScheduleID         string         `json:"schedule_id"`
	RunID              string         `json:"run_id"`
	TaskQuery          string         `json:"task_query"`
	TaskContext        map[string]any `json:"task_context,omitempty"`
	MaxBudgetPerRunUSD float64        `json:"max_budget_per_run_usd"`
	Deadline           time.Time      `json:"deadline"`
}

// Outcome is what a successful run produced and what it cost.
type Outcome struct {
	Result       string
	TotalTokens  int64
	TotalCostUSD float64
	ModelUsed    string
	Provider     string
}

// Executor performs a run. It returns an error when the task failed; the
// error text is shown to the schedule's owner. ctx carries the run's
// deadline: an executor must stop when it expires.
type Executor interface {
	Execute(ctx context.Context, t Task) (Outcome, error)
}
