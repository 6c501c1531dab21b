package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"schedsvc/netguard"
)

// Kind is what happened; a schedule's `notify.on` lists the kinds it wants.
// The run kinds are the terminal run statuses of the same name.
type Kind string

const (
	Completed      Kind = "COMPLETED"
	Failed         Kind = "FAILED"
	TimedOut       Kind = "TIMED_OUT"
	Cancelled      Kind = "CANCELLED"
	SchedulePaused Kind = "SCHEDULE_PAUSED"
)

// Kinds are every kind, in the order the spec lists them.
func Kinds() []Kind { return []Kind{Completed, Failed, TimedOut, Cancelled, SchedulePaused} }

// Valid tells whether k is one of Kinds.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// KindOfRunStatus is the event a run that ended in status sends; false
// for statuses that are not terminal (RUNNING) or unknown.
func KindOfRunStatus(status string) (Kind, bool) {
	k := Kind(status)
	if k == SchedulePaused || !k.Valid() {
		return "", false
	}
	return k, true
}

// Target is a schedule's notification setting: where to post, and which
// kinds. The zero Target (no URL) notifies nothing.
type Target struct {
	URL string
	On  []Kind
}

// Wants tells whether the target subscribes to k.
func (t Target) Wants(k Kind) bool { return t.URL != "" && slices.Contains(t.On, k) }

// ErrInvalidTarget is what every target error other than a refused URL
// matches: a request validation problem (400), where a refused URL is a
// policy refusal (netguard.ErrRefused, 422).
var ErrInvalidTarget = errors.New("invalid notification target")

// CheckTarget validates a schedule's notify setting at create and update
// time, under g's policy (the gateway's Guard has the workers'
// allowlist): the kinds (ErrInvalidTarget) and the URL, including an
// advisory DNS look-up (netguard.ErrRefused, a *netguard.RefusedError).
// The zero Target is valid: it notifies nothing.
func CheckTarget(ctx context.Context, g *netguard.Guard, t Target) error {
	if t.URL == "" && len(t.On) == 0 {
		return nil
	}
	if t.URL == "" {
		return fmt.Errorf("%w: notify.url is required when notify.on is set", ErrInvalidTarget)
	}
	if err := checkKinds(t.On); err != nil {
		return err
	}
	return g.CheckURLResolve(ctx, t.URL)
}

// checkKinds requires at least one kind, each known and listed once.
func checkKinds(on []Kind) error {
	if len(on) == 0 {
		return fmt.Errorf("%w: notify.on must list at least one of %s", ErrInvalidTarget, kindList())
	}
	seen := map[Kind]bool{}
	for _, k := range on {
		if !k.Valid() {
			return fmt.Errorf("%w: notify.on has %q; the kinds are %s", ErrInvalidTarget, k, kindList())
		}
		if seen[k] {
			return fmt.Errorf("%w: notify.on lists %s twice", ErrInvalidTarget, k)
		}
		seen[k] = true
	}
	return nil
}

func kindList() string {
	var s []string
	for _, k := range Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// Event is the JSON body of a notification. Its field names are those of
// the API's Run, so a receiver reads one vocabulary. The run's result text
// is not sent (it can be large and is the user's data): a receiver that
// needs it reads the run through the API.
type Event struct {
	// ID is the same for every delivery attempt of one event (see
	// EventID) and is also sent as the Idempotency-Key header, so a
	// receiver de-duplicates retried deliveries by it.
	ID           string    `json:"id"`
	Kind         Kind      `json:"kind"`
	OccurredAt   time.Time `json:"occurred_at"`
	ScheduleID   string    `json:"schedule_id"`
	ScheduleName string    `json:"schedule_name"`
	// Run is the run that ended: set for the run kinds, and for
	// SCHEDULE_PAUSED when a run's failure paused the schedule.
	Run   *Run   `json:"run,omitempty"`
	Pause *Pause `json:"pause,omitempty"` // set for SCHEDULE_PAUSED only
}

// Run is the run an event is about.
type Run struct {
	ID               string     `json:"id"`
	WorkflowID       string     `json:"workflow_id"`
	Status           string     `json:"status"`
	Trigger          string     `json:"trigger,omitempty"`
	Executor         string     `json:"executor,omitempty"`
	TriggeredAt      time.Time  `json:"triggered_at"`
	StartedAt        time.Time  `json:"started_at"`
	CompletedAt      *time.Time `json:"completed_at"`
	DurationMS       *int64     `json:"duration_ms"`
	ErrorMessage     *string    `json:"error_message"`
	AttemptCount     int        `json:"attempt_count"`
	ModelUsed        *string    `json:"model_used"`
	Provider         *string    `json:"provider"`
	PromptTokens     int64      `json:"prompt_tokens"`
	CompletionTokens int64      `json:"completion_tokens"`
	TotalTokens      int64      `json:"total_tokens"`
	TotalCostUSD     float64    `json:"total_cost_usd"`
}

// Pause says why a schedule was paused.
type Pause struct {
	Reason   string    `json:"reason"`
	PausedBy string    `json:"paused_by"`
	PausedAt time.Time `json:"paused_at"`
}

// eventNamespace keys EventID; changing it changes every event id.
var eventNamespace = uuid.MustParse("6f0c3c1e-8a43-4d6b-9a55-3f1f2b7d9e10")

// EventID is the event's id, derived from what the event is about, so
// that the workflow that sends it, replayed or retried, always names it
// the same: subject is the run's workflow id for the run kinds, and the
// pause time (RFC 3339, nanoseconds) for SCHEDULE_PAUSED.
func EventID(scheduleID string, kind Kind, subject string) string {
	return uuid.NewSHA1(eventNamespace, []byte(scheduleID+"\x00"+string(kind)+"\x00"+subject)).String()
}

// RunEvent is the event for a run that ended; the kind follows from the
// run's status, and false means the status sends none.
func RunEvent(scheduleID, scheduleName string, run Run) (Event, bool) {
	k, ok := KindOfRunStatus(run.Status)
	if !ok {
		return Event{}, false
	}
	occurred := run.StartedAt
	if run.CompletedAt != nil {
		occurred = *run.CompletedAt
	}
	return Event{
		ID:           EventID(scheduleID, k, run.WorkflowID),
		Kind:         k,
		OccurredAt:   occurred.UTC(),
		ScheduleID:   scheduleID,
		ScheduleName: scheduleName,
		Run:          &run,
	}, true
}

// PauseEvent is the SCHEDULE_PAUSED event; run is the run whose failure
// paused the schedule, or nil for a pause that no run caused.
func PauseEvent(scheduleID, scheduleName string, p Pause, run *Run) Event {
	p.PausedAt = p.PausedAt.UTC()
	return Event{
		ID:           EventID(scheduleID, SchedulePaused, p.PausedAt.Format(time.RFC3339Nano)),
		Kind:         SchedulePaused,
		OccurredAt:   p.PausedAt,
		ScheduleID:   scheduleID,
		ScheduleName: scheduleName,
		Run:          run,
		Pause:        &p,
	}
}

// validate catches events that would mislead a receiver; they are the
// caller's bug, never the receiver's, so Deliver refuses them permanently.
func (e Event) validate() error {
	switch {
	case e.ID == "" || e.ScheduleID == "":
		return errors.New("event has no id or schedule id")
	case !e.Kind.Valid():
		return fmt.Errorf("event kind %q is not one of %s", e.Kind, kindList())
	case e.OccurredAt.IsZero():
		return errors.New("event has no occurred_at")
	case e.Kind == SchedulePaused && e.Pause == nil:
		return errors.New("a SCHEDULE_PAUSED event needs its pause")
	case e.Kind != SchedulePaused && (e.Run == nil || e.Run.Status != string(e.Kind)):
		return fmt.Errorf("a %s event needs a run in status %s", e.Kind, e.Kind)
	}
	return nil
}
