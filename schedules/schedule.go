package schedules

import (
	"time"

	"github.com/google/uuid"
)

// Status is a schedule's lifecycle state. DELETED schedules are never
// returned to callers: they read as ErrNotFound.
type Status string

const (
	StatusActive  Status = "ACTIVE"
	StatusPaused  Status = "PAUSED"
	StatusDeleted Status = "DELETED"
)

// RunStatus is the state of one execution of a schedule.
type RunStatus string

const (
	RunRunning   RunStatus = "RUNNING"
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
}

// UpdateInput is a partial update: nil fields keep their value.
// ClearTaskContext sets the context to null and excludes TaskContext.
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
}
