package workflows

import (
	"context"
	"errors"
	"time"

	"schedsvc/schedules"
)

// Task is one attempt at a run, handed to an executor. The webhook executor
// sends it as its JSON body.
type Task struct {
	ScheduleID         string         `json:"schedule_id"`
	RunID              string         `json:"run_id"` // the workflow id: the same for every attempt
	Attempt            int            `json:"attempt"`
	TaskQuery          string         `json:"task_query"`
	TaskContext        map[string]any `json:"task_context,omitempty"`
	MaxBudgetPerRunUSD float64        `json:"max_budget_per_run_usd"`
	// BudgetUSD is what this attempt may still spend: the run's budget less
	// what earlier attempts cost.
	BudgetUSD float64   `json:"budget_remaining_usd"`
	Deadline  time.Time `json:"deadline"`
}

// Outcome is what an attempt produced and what it cost.
type Outcome struct {
	Result string
	schedules.Usage
	MaxTokens int64 // the max_tokens an llm call was capped to; 0 otherwise
}

// Executor performs one attempt of a run. It returns an error when the
// attempt failed; the error text is shown to the schedule's owner. The
// Outcome carries whatever usage was incurred even with an error, because a
// failed attempt's cost still counts. ctx carries the run's deadline: an
// executor must stop when it expires. Errors wrapped with Permanent are not
// retried.
type Executor interface {
	Execute(ctx context.Context, t Task) (Outcome, error)
}

// permanentError marks a failure that another attempt cannot cure.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: a refused budget, a request
// the receiver rejects as invalid, a misconfiguration.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent tells whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// ErrBudget is wrapped by every refusal to start an attempt whose
// worst-case cost would exceed the run's budget.
var ErrBudget = errors.New("budget")

// EchoExecutor is a demo executor for trying the service without any
// endpoint: it answers with the query and costs nothing. Never a production
// default.
type EchoExecutor struct{}

// Execute implements Executor.
func (EchoExecutor) Execute(ctx context.Context, t Task) (Outcome, error) {
	if err := ctx.Err(); err != nil {
		return Outcome{}, err
	}
	return Outcome{Result: "echo: " + t.TaskQuery, Usage: schedules.Usage{ModelUsed: "echo", Provider: "schedsvc-demo"}}, nil
}
