package schedules

import (
	"time"

	"github.com/google/uuid"

	"schedsvc/config"
	"schedsvc/notify"
)

// Status is a schedule's lifecycle state. DELETED schedules are never
// returned to callers: they read as ErrNotFound.
type Status string

const (
	StatusActive Status = "ACTIVE"
	StatusPaused Status = "PAUSED"
	// StatusCompleted: the window has ended or max_runs are used. It can be
	// read, updated (an update whose limits allow more runs reactivates
	// it) and deleted, not paused or resumed.
	StatusCompleted Status = "COMPLETED"
	StatusDeleted   Status = "DELETED"
)

// RunStatus is the state of one execution of a schedule; a run in flight
// is RUNNING, which only the persistence layer writes.
type RunStatus string

const (
	RunCompleted RunStatus = "COMPLETED"
	RunFailed    RunStatus = "FAILED"
	RunCancelled RunStatus = "CANCELLED"
	RunTimedOut  RunStatus = "TIMED_OUT"
)

// Owner identifies who a schedule belongs to. Every read and write is scoped
// by both fields, so a schedule is invisible outside its tenant and user.
type Owner struct {
	UserID   string
	TenantID string
}

// Schedule is a recurring task as the API shows it.
type Schedule struct {
	ID                 uuid.UUID
	Owner              Owner
	Name               string
	Description        string
	CronExpression     string
	Timezone           string
	TaskQuery          string
	TaskContext        map[string]any
	MaxBudgetPerRunUSD float64
	TimeoutSeconds     int
	Status             Status
	CreatedAt          time.Time
	UpdatedAt          time.Time
	LastRunAt          *time.Time
	NextRunAt          *time.Time
	TotalRuns          int64
	ScheduledRuns      int64 // the runs it fired itself: what max_runs counts
	SuccessfulRuns     int64
	FailedRuns         int64
	TotalTokens        int64
	TotalCostUSD       float64
	PausedAt           *time.Time
	PausedBy           *string
	PauseReason        *string
	ResumedAt          *time.Time
	ResumedBy          *string
	ResumeReason       *string

	Executor              Executor
	Retry                 RetryPolicy
	Overlap               OverlapPolicy
	PauseAfterFailures    int
	ConsecutiveFailures   int
	SkippedRuns           int64
	TotalPromptTokens     int64
	TotalCompletionTokens int64

	// The window and run limit: nil is unbounded. StartAt and EndAt are
	// inclusive, as Temporal's spec bounds are.
	StartAt     *time.Time
	EndAt       *time.Time
	MaxRuns     *int
	CompletedAt *time.Time
	// Notify is where and on what the schedule sends completion
	// notifications; the zero Target sends none.
	Notify notify.Target
}

// CreateInput is a new schedule as the caller describes it. Nil pointers
// take the configured defaults.
type CreateInput struct {
	Name               string
	Description        string
	CronExpression     string
	Timezone           string
	TaskQuery          string
	TaskContext        map[string]any
	MaxBudgetPerRunUSD *float64
	TimeoutSeconds     *int
	Executor           *Executor
	Retry              *RetryPolicy // zero backoffs take the defaults
	Overlap            *OverlapPolicy
	PauseAfterFailures *int
	StartAt            *time.Time
	EndAt              *time.Time
	MaxRuns            *int
	Notify             *notify.Target
}

// UpdateInput is a partial update: nil fields keep their value.
// ClearTaskContext sets the context to null and excludes TaskContext; the
// other Clear fields likewise remove a bound (ClearNotify the notification
// setting).
type UpdateInput struct {
	Name               *string
	Description        *string
	CronExpression     *string
	Timezone           *string
	TaskQuery          *string
	TaskContext        map[string]any
	ClearTaskContext   bool
	MaxBudgetPerRunUSD *float64
	TimeoutSeconds     *int
	Executor           *Executor
	Retry              *RetryPolicy // replaces the whole policy; zero backoffs take the defaults
	Overlap            *OverlapPolicy
	PauseAfterFailures *int
	StartAt            *time.Time
	ClearStartAt       bool
	EndAt              *time.Time
	ClearEndAt         bool
	MaxRuns            *int
	ClearMaxRuns       bool
	Notify             *notify.Target // replaces the whole setting
	ClearNotify        bool
}

// PageRequest selects one page of a newest-first list: by keyset when
// Cursor is set, otherwise by page number.
type PageRequest struct {
	Page     int
	PageSize int
	Cursor   string
}

// Page is one page of a list and how to fetch the next one.
type Page[T any] struct {
	Items      []T
	Total      int64
	Page       int
	PageSize   int
	NextCursor *string
	Schedule   *Schedule // the schedule a page of runs belongs to
}

// Run is one execution of a schedule, as recorded by the worker.
type Run struct {
	ID           uuid.UUID
	ScheduleID   uuid.UUID
	WorkflowID   string
	Query        string
	Status       RunStatus
	Result       *string
	ErrorMessage *string
	ModelUsed    *string
	Provider     *string
	TotalTokens  int64
	TotalCostUSD float64
	DurationMS   *int64
	TriggeredAt  time.Time
	StartedAt    time.Time
	CompletedAt  *time.Time

	Executor         *string
	PromptTokens     int64
	CompletionTokens int64
	AttemptCount     int
	PausedSchedule   bool
	Trigger          RunTrigger
	Seq              int64 // the run's number in its schedule's history, from 1, without gaps
}

// RunDetail is a run with each of its attempts.
type RunDetail struct {
	Run
	Attempts []Attempt
	// Notifications are the deliveries of the events the run sent, oldest
	// first.
	Notifications []notify.Delivery
}

// Attempt is one try at performing a run, as the workflow records it. It is
// stored as JSON with the run and travels in Temporal payloads.
type Attempt struct {
	Number           int       `json:"attempt"`
	Status           RunStatus `json:"status"`
	ErrorMessage     string    `json:"error_message,omitempty"`
	ModelUsed        string    `json:"model_used,omitempty"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	TotalTokens      int64     `json:"total_tokens"`
	CostUSD          float64   `json:"total_cost_usd"`
	MaxTokens        int64     `json:"max_tokens,omitempty"` // the budget-capped max_tokens of an llm call
	StartedAt        time.Time `json:"started_at"`
	CompletedAt      time.Time `json:"completed_at"`
}

// Executor names what performs a schedule's runs. A deployment enables
// some of them by name, so config owns the names.
type Executor = config.Executor

const (
	ExecutorLLM      = config.ExecutorLLM
	ExecutorHTTP     = config.ExecutorHTTP
	ExecutorWorkflow = config.ExecutorWorkflow
	// ExecutorEcho is a demo: it answers with the query and costs nothing.
	ExecutorEcho = config.ExecutorEcho
)

// Executors lists every executor the service knows, in a stable order.
var Executors = config.Executors

// OverlapPolicy is what Temporal does with a firing while a run still goes.
type OverlapPolicy string

const (
	OverlapSkip        OverlapPolicy = "SKIP"
	OverlapBufferOne   OverlapPolicy = "BUFFER_ONE"
	OverlapBufferAll   OverlapPolicy = "BUFFER_ALL"
	OverlapCancelOther OverlapPolicy = "CANCEL_OTHER"
	OverlapAllowAll    OverlapPolicy = "ALLOW_ALL"
)

// RetryPolicy says how often and how far apart a failed run is attempted
// again, within the run's timeout and budget.
type RetryPolicy struct {
	MaxAttempts           int `json:"max_attempts"`
	InitialBackoffSeconds int `json:"initial_backoff_seconds"`
	MaxBackoffSeconds     int `json:"max_backoff_seconds"`
}

// Backoff is the wait before attempt next+1, after attempt next failed:
// initial × 2^(next-1), at most the maximum.
func (p RetryPolicy) Backoff(next int) time.Duration {
	d := time.Duration(p.InitialBackoffSeconds) * time.Second
	limit := time.Duration(p.MaxBackoffSeconds) * time.Second
	for i := 1; i < next && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Normalized is the policy with the zero values of actions written before
// retry policies existed replaced by "one attempt".
func (p RetryPolicy) Normalized() RetryPolicy {
	if p.MaxAttempts < 1 {
		p.MaxAttempts = 1
	}
	if p.InitialBackoffSeconds < 1 {
		p.InitialBackoffSeconds = 1
	}
	if p.MaxBackoffSeconds < p.InitialBackoffSeconds {
		p.MaxBackoffSeconds = p.InitialBackoffSeconds
	}
	return p
}

// RunInput is what a Temporal schedule action hands to the workflow: a
// snapshot of the schedule's task at the time the action was written.
type RunInput struct {
	ScheduleID         string         `json:"schedule_id"`
	UserID             string         `json:"user_id"`
	TenantID           string         `json:"tenant_id"`
	TaskQuery          string         `json:"task_query"`
	TaskContext        map[string]any `json:"task_context,omitempty"`
	MaxBudgetPerRunUSD float64        `json:"max_budget_per_run_usd"`
	TimeoutSeconds     int            `json:"timeout_seconds"`
	// Absent from actions written before executors were chosen per
	// schedule: the worker's default executor and one attempt then apply.
	Executor Executor    `json:"executor,omitempty"`
	Retry    RetryPolicy `json:"retry_policy,omitzero"`
}
