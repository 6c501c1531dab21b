package schedules

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"schedsvc/notify"
)

// EventKind names a lifecycle event of a schedule.
type EventKind string

const (
	EventCreated             EventKind = "created"
	EventUpdated             EventKind = "updated"
	EventPaused              EventKind = "paused"
	EventResumed             EventKind = "resumed"
	EventPausedAfterFailures EventKind = "paused_after_failures"
	EventDeleted             EventKind = "deleted"
	EventReconciled          EventKind = "reconciled"
	EventTriggered           EventKind = "triggered"  // a run now; reason names its nominal time
	EventBackfilled          EventKind = "backfilled" // reason names the firings' count and range
	// EventCompleted: the schedule's last allowed run started, or its
	// window ended, and it is COMPLETED.
	EventCompleted EventKind = "completed"
)

// The actors of events no user caused.
const (
	ActorSystem     = "system"     // the failure policy of the worker
	ActorReconciler = "reconciler" // a repair of Temporal's copy of the schedule
)

// Event is one entry of a schedule's audit trail.
type Event struct {
	ID         int64 // grows with each event of a schedule: the keyset of its trail
	ScheduleID uuid.UUID
	Kind       EventKind
	Actor      string // the user id, ActorSystem or ActorReconciler
	Reason     string
	Changes    map[string]FieldChange // set for EventUpdated: API field name → values
	CreatedAt  time.Time
}

// FieldChange is one field an update changed, with its values as the API
// shows them; nil is an unset value (a null task context).
type FieldChange struct {
	Old any `json:"old,omitempty"`
	New any `json:"new,omitempty"`
}

// EventStore is the persistence of the audit trail, part of Store.
type EventStore interface {
	// EventInsert appends e (ID and CreatedAt are the database's) to its
	// schedule's trail, in the caller's transaction.
	EventInsert(ctx context.Context, e Event) error
	// EventList returns up to q.Limit of the schedule's events, newest
	// first; q.After.Seq, when set, is the ID the page starts below.
	EventList(ctx context.Context, scheduleID uuid.UUID, q ListQuery) ([]Event, error)
	// ScheduleOwned reports whether the schedule is the owner's, deleted
	// or not.
	ScheduleOwned(ctx context.Context, owner Owner, id uuid.UUID) (bool, error)
}

// recordEvent appends e to its schedule's trail in st, the transaction of
// the change it records: the event and the change commit or vanish
// together.
func recordEvent(ctx context.Context, st Store, e Event) error {
	if err := st.EventInsert(ctx, e); err != nil {
		return fmt.Errorf("record %s event of schedule %s: %w", e.Kind, e.ScheduleID, err)
	}
	return nil
}

// recordUpdate records what an update changes from old to s; an update
// that changes no configuration field records nothing.
func recordUpdate(ctx context.Context, st Store, owner Owner, old, s Schedule) error {
	changes := configChanges(old, s)
	if len(changes) == 0 {
		return nil
	}
	return recordEvent(ctx, st, Event{ScheduleID: s.ID, Kind: EventUpdated, Actor: owner.UserID, Changes: changes})
}

// configChanges lists the configuration fields that differ between a and
// b under their API names.
func configChanges(a, b Schedule) map[string]FieldChange {
	fields := []struct {
		name     string
		old, new any
	}{
		{"name", a.Name, b.Name},
		{"description", a.Description, b.Description},
		{"cron_expression", a.CronExpression, b.CronExpression},
		{"timezone", a.Timezone, b.Timezone},
		{"task_query", a.TaskQuery, b.TaskQuery},
		{"task_context", contextValue(a.TaskContext), contextValue(b.TaskContext)},
		{"max_budget_per_run_usd", a.MaxBudgetPerRunUSD, b.MaxBudgetPerRunUSD},
		{"timeout_seconds", a.TimeoutSeconds, b.TimeoutSeconds},
		{"executor", a.Executor, b.Executor},
		{"retry_policy", a.Retry, b.Retry},
		{"overlap_policy", a.Overlap, b.Overlap},
		{"pause_after_failures", a.PauseAfterFailures, b.PauseAfterFailures},
		{"start_at", timeValue(a.StartAt), timeValue(b.StartAt)},
		{"end_at", timeValue(a.EndAt), timeValue(b.EndAt)},
		{"max_runs", intValue(a.MaxRuns), intValue(b.MaxRuns)},
		{"notify", notifyValue(a.Notify), notifyValue(b.Notify)},
	}
	changes := make(map[string]FieldChange)
	for _, f := range fields {
		if !reflect.DeepEqual(f.old, f.new) {
			changes[f.name] = FieldChange{Old: f.old, New: f.new}
		}
	}
	return changes
}

// notifyValue is a notification setting as a change shows it: the API's
// object, or null for none.
func notifyValue(t notify.Target) any {
	if t.URL == "" {
		return nil
	}
	on := make([]string, len(t.On))
	for i, k := range t.On {
		on[i] = string(k)
	}
	return map[string]any{"url": t.URL, "on": on}
}

// contextValue is a task context as a change shows it: a nil map is an
// unset value, not a null map.
func contextValue(c map[string]any) any {
	if c == nil {
		return nil
	}
	return c
}

// timeValue is an optional time as a change shows it (RFC 3339, UTC), so
// that equal instants in different zones are no change.
func timeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func intValue(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

// recordingRepairs wraps one schedule's reconcile step: when the step
// repaired something and succeeds, the same transaction records a
// reconciled event naming the repairs. A routine spec refresh is not a
// repair and records nothing.
func recordingRepairs(ctx context.Context, id uuid.UUID, rep *ReconcileReport, step func(Store) error) func(Store) error {
	return func(st Store) error {
		before := *rep
		if err := step(st); err != nil {
			return err
		}
		var did []string
		for _, r := range []struct {
			n    int
			what string
		}{
			{rep.Recreated - before.Recreated, "recreated the missing Temporal schedule"},
			{rep.PauseFixed - before.PauseFixed, "set Temporal's paused state to the schedule's status"},
			{rep.SpecFixed - before.SpecFixed, "rewrote a Temporal spec that did not follow the cron expression"},
			{rep.NextRunFixed - before.NextRunFixed, "set next_run_at to Temporal's next action"},
		} {
			if r.n > 0 {
				did = append(did, r.what)
			}
		}
		if len(did) == 0 {
			return nil
		}
		return recordEvent(ctx, st, Event{ScheduleID: id, Kind: EventReconciled, Actor: ActorReconciler, Reason: strings.Join(did, "; ")})
	}
}

// Events returns one page of the schedule's audit trail, newest first.
// The trail of a deleted schedule stays readable by its owner; another
// owner's schedule is ErrNotFound. p.Page is ignored: the trail pages by
// cursor only, and counts nothing.
func (m *Manager) Events(ctx context.Context, owner Owner, id uuid.UUID, p PageRequest) (Page[Event], error) {
	owned, err := m.store.ScheduleOwned(ctx, owner, id)
	if err != nil {
		return Page[Event]{}, err
	}
	if !owned {
		return Page[Event]{}, fmt.Errorf("events of schedule %s: %w", id, ErrNotFound)
	}
	p.Page = 1
	q, err := listQuery(p, true)
	if err != nil {
		return Page[Event]{}, err
	}
	items, err := m.store.EventList(ctx, id, q)
	if err != nil {
		return Page[Event]{}, err
	}
	return pageOf(items, p, 0, func(e Event) Keyset { return Keyset{Seq: e.ID} }), nil
}
