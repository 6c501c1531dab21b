package schedules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"schedsvc/notify"
	"schedsvc/problem"
	"schedsvc/ptrutil"
	"schedsvc/schedules/cron"
)

// Manager owns schedules: it validates them, keeps PostgreSQL and Temporal
// in step, and scopes every operation to the calling owner.
type Manager struct {
	store    Store
	temporal temporalSchedules
	starter  client.Client // starts a manual pause's notification delivery; nil starts none
	rules    rules
	log      *slog.Logger
	now      func() time.Time
}

// NewManager returns a manager over the store and the Temporal client's
// schedule client and workflow service; tc may be nil for a manager that
// only reads.
func NewManager(st Store, tc client.Client, limits Limits, cfg TemporalConfig, log *slog.Logger) *Manager {
	m := &Manager{
		store:    st,
		temporal: temporalSchedules{cfg: cfg},
		rules:    newRules(limits),
		log:      log,
		now:      time.Now,
	}
	if tc != nil {
		m.temporal.client, m.temporal.service = tc.ScheduleClient(), tc.WorkflowService()
		m.starter = tc
	}
	return m
}

// Create validates and stores a new schedule and its Temporal schedule.
// Returns *problem.Error for rejected input (ScheduleLimitReached when the
// owner has MaxPerUser schedules) and ErrUnavailable when Temporal or
// PostgreSQL cannot be reached; in every error case no schedule is
// created (a reservation may stay behind for the reconciler, see below).
//
// No lock or transaction is held across the Temporal call, so one owner's
// creates run side by side. The limit still holds under races: a short
// transaction under the owner's lock counts live rows plus reservations
// (creates in flight) and reserves a slot; Temporal's create runs with no
// transaction open; then one statement inserts the row and ends the
// reservation together, so the count never misses a create in flight.
// Reads never see a reservation. A reservation whose create died is
// removed by the reconciler, with the Temporal schedule it may have made.
func (m *Manager) Create(ctx context.Context, owner Owner, in CreateInput) (Schedule, error) {
	s := m.rules.newSchedule(owner, in)
	s.ID = uuid.New()
	timing, err := m.rules.validate(s)
	if err != nil {
		return Schedule{}, err
	}
	if err := validateWindow(s, timing, m.now()); err != nil {
		return Schedule{}, err
	}
	if err := m.rules.checkNotify(ctx, in.Notify); err != nil {
		return Schedule{}, err
	}
	if err := m.reserve(ctx, owner, s.ID); err != nil {
		return Schedule{}, fmt.Errorf("create schedule: %w", err)
	}

	now := m.now()
	if err := m.temporal.create(ctx, s, timing, now); err != nil {
		// A refusal made nothing in Temporal: the slot is free again. After
		// a timeout or a lost connection the schedule may exist, so the
		// reservation stays and the reconciler removes both once it is
		// stale.
		if temporalRefused(err) {
			m.endReservation(ctx, s.ID)
		}
		return Schedule{}, fmt.Errorf("create schedule: %w", err)
	}

	s.NextRunAt = nextRunAt(s, timing, now)
	// The row and its "created" event in one statement; the reservation is
	// gone only if the reconciler took it for an abandoned create (and
	// removed the Temporal schedule, or will), and then this create must not
	// complete.
	created, err := m.store.ScheduleInsertReserved(ctx, s, specRefreshAt(timing, now), owner.UserID)
	if errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("reservation of schedule %s was reclaimed: the create took too long: %w", s.ID, ErrUnavailable)
	}
	if err != nil {
		// No row: the Temporal schedule goes again, then the reservation.
		// Whatever fails here the reconciler finishes.
		undo := context.WithoutCancel(ctx)
		if derr := m.temporal.delete(undo, s.ID); derr != nil {
			m.log.Error("remove temporal schedule of a failed create", "schedule_id", s.ID, "error", derr)
		} else {
			m.endReservation(undo, s.ID)
		}
		return Schedule{}, fmt.Errorf("create schedule: %w", err)
	}
	return created, nil
}

// reserve takes one slot of the owner's limit for the schedule id, or
// refuses with ScheduleLimitReached. The owner lock makes count-then-reserve
// atomic across replicas; the store holds it for one statement only.
func (m *Manager) reserve(ctx context.Context, owner Owner, id uuid.UUID) error {
	n, err := m.store.ScheduleReserve(ctx, owner, id, m.rules.limits.MaxPerUser)
	if err != nil {
		return err
	}
	if n >= int64(m.rules.limits.MaxPerUser) {
		return problem.Invalid(problem.ScheduleLimitReached, "", "you already have %d schedules, the maximum per user; delete one first", n)
	}
	return nil
}

// endReservation gives back the slot of a create that made nothing; when
// it cannot, the reconciler removes the reservation once it is stale.
func (m *Manager) endReservation(ctx context.Context, id uuid.UUID) {
	err := m.store.ScheduleReservationDelete(context.WithoutCancel(ctx), id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		m.log.Error("end reservation of a failed create", "schedule_id", id, "error", err)
	}
}

// Get returns the owner's schedule or ErrNotFound.
func (m *Manager) Get(ctx context.Context, owner Owner, id uuid.UUID) (Schedule, error) {
	s, err := m.store.ScheduleGet(ctx, owner, id, false)
	return asRead(s, m.now()), err
}

// asRead is the schedule as callers see it at now: one whose end_at has
// passed shows no next run even before the reconciler completes it.
func asRead(s Schedule, now time.Time) Schedule {
	if s.EndAt != nil && s.NextRunAt != nil && s.NextRunAt.After(*s.EndAt) || s.EndAt != nil && now.After(*s.EndAt) {
		s.NextRunAt = nil
	}
	return s
}

// List returns one page of the owner's schedules, newest first, optionally
// only those with the given status.
func (m *Manager) List(ctx context.Context, owner Owner, status *Status, p PageRequest) (Page[Schedule], error) {
	q, err := listQuery(p, false)
	if err != nil {
		return Page[Schedule]{}, err
	}
	total, err := m.store.ScheduleCount(ctx, owner, status)
	if err != nil {
		return Page[Schedule]{}, err
	}
	items, err := m.store.ScheduleList(ctx, owner, status, q)
	if err != nil {
		return Page[Schedule]{}, err
	}
	now := m.now()
	for i := range items {
		items[i] = asRead(items[i], now)
	}
	return pageOf(items, p, total, func(s Schedule) Keyset { return Keyset{At: s.CreatedAt, ID: s.ID} }), nil
}

// Update applies a partial update. Temporal's spec and action are written
// only when they change. Returns ErrNotFound, *problem.Error or
// ErrUnavailable; on error nothing changes.
func (m *Manager) Update(ctx context.Context, owner Owner, id uuid.UUID, in UpdateInput) (Schedule, error) {
	if err := m.rules.checkUpdate(in); err != nil {
		return Schedule{}, err
	}
	// Before the transaction: the check may look the host name up.
	if err := m.rules.checkNotify(ctx, in.Notify); err != nil {
		return Schedule{}, err
	}
	var updated Schedule
	err := m.store.InTx(ctx, func(st Store) error {
		// FOR UPDATE serialises writers of one schedule: Temporal's update is
		// read-modify-write without a conflict token.
		old, err := st.ScheduleGet(ctx, owner, id, true)
		if err != nil {
			return err
		}
		s := m.rules.updated(old, in)
		timing, err := m.rules.validate(s)
		if err != nil {
			return err
		}
		now := m.now()
		if windowChanged(old, s) {
			if err := validateWindow(s, timing, now); err != nil {
				return err
			}
		}
		completes := m.updateLifecycle(old, &s, timing, now)
		if err := m.applyToTemporal(ctx, st, old, &s, timing); err != nil {
			return err
		}
		if err := recordUpdate(ctx, st, owner, old, s); err != nil {
			return err
		}
		if completes {
			if err := recordEvent(ctx, st, Event{ScheduleID: id, Kind: EventCompleted, Actor: owner.UserID, Reason: completedReason(s)}); err != nil {
				return err
			}
		}
		updated, err = st.ScheduleUpdateConfig(ctx, s)
		return err
	}, nil)
	if err != nil {
		return Schedule{}, fmt.Errorf("update schedule %s: %w", id, err)
	}
	return updated, nil
}

// updateLifecycle moves an updated schedule between ACTIVE and COMPLETED:
// a COMPLETED one whose new window and limit allow more runs is active
// again, an active one they allow no more runs completes (and reports
// true). A paused schedule stays paused.
func (m *Manager) updateLifecycle(old Schedule, s *Schedule, timing *cron.Schedule, now time.Time) (completes bool) {
	switch done := exhausted(*s, timing, now); {
	case old.Status == StatusCompleted && !done:
		s.Status, s.CompletedAt = StatusActive, nil
	case old.Status == StatusActive && done:
		s.Status, s.CompletedAt = StatusCompleted, &now
		return true
	}
	return false
}

// windowChanged reports whether an update touches start_at, end_at or
// max_runs.
func windowChanged(old, s Schedule) bool {
	return !timeEqual(old.StartAt, s.StartAt) || !timeEqual(old.EndAt, s.EndAt) ||
		(old.MaxRuns == nil) != (s.MaxRuns == nil) || old.MaxRuns != nil && *old.MaxRuns != *s.MaxRuns
}

func timeEqual(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// applyToTemporal writes what an update changed to the Temporal schedule:
// the spec (and s's next run) when the timing or window changed, the
// action when the task did, the policies when the overlap policy did, the
// run limit when max_runs or the status did.
func (m *Manager) applyToTemporal(ctx context.Context, st Store, old Schedule, s *Schedule, timing *cron.Schedule) error {
	limitChanged := windowChanged(old, *s) || s.Status != old.Status
	specChanged := s.CronExpression != old.CronExpression || s.Timezone != old.Timezone ||
		!timeEqual(old.StartAt, s.StartAt) || !timeEqual(old.EndAt, s.EndAt)
	actionChanged := s.TaskQuery != old.TaskQuery || s.MaxBudgetPerRunUSD != old.MaxBudgetPerRunUSD ||
		s.TimeoutSeconds != old.TimeoutSeconds || !reflect.DeepEqual(s.TaskContext, old.TaskContext) ||
		s.Executor != old.Executor || s.Retry != old.Retry
	policyChanged := s.Overlap != old.Overlap
	if !specChanged && !actionChanged && !policyChanged && !limitChanged {
		return nil
	}
	now := m.now()
	var spec *client.ScheduleSpec
	if specChanged {
		compiled := temporalSpec(*s, timing, now)
		spec = &compiled
	}
	if specChanged || limitChanged {
		s.NextRunAt = nextRunAt(*s, timing, now)
	}
	if err := m.temporal.update(ctx, *s, spec, actionChanged, limitChanged, ""); err != nil {
		return err
	}
	if specChanged {
		return recordSpecRefresh(ctx, st, s.ID, timing, now)
	}
	return nil
}

// Pause stops future runs and records who paused it, when and why. Pausing
// a paused schedule changes nothing; a COMPLETED one is refused with
// ScheduleCompleted.
func (m *Manager) Pause(ctx context.Context, owner Owner, id uuid.UUID, reason string) (Schedule, error) {
	var paused bool
	s, err := m.transition(ctx, owner, id, "pause schedule", StatusPaused, func(st Store, s Schedule) (Schedule, error) {
		if s.Status == StatusCompleted {
			return Schedule{}, completedRefusal("paused")
		}
		if err := m.temporal.pause(ctx, id, pauseNote("paused", owner, reason)); err != nil {
			return Schedule{}, err
		}
		if err := recordEvent(ctx, st, Event{ScheduleID: id, Kind: EventPaused, Actor: owner.UserID, Reason: reason}); err != nil {
			return Schedule{}, err
		}
		paused = true
		return st.SchedulePause(ctx, id, owner.UserID, reason)
	})
	if err == nil && paused {
		m.notifyPaused(ctx, s)
	}
	return s, err
}

// notifyPaused starts the SCHEDULE_PAUSED delivery of a manual pause, when
// the schedule subscribes to it, on the workers' task queue. The pause is
// done whatever happens here: a failure to start is logged, not answered.
// (A pause by the failure policy is the run workflow's to notify.)
func (m *Manager) notifyPaused(ctx context.Context, s Schedule) {
	l := m.rules.limits
	if m.starter == nil || !l.NotifyEnabled || !s.Notify.Wants(notify.SchedulePaused) || s.PausedAt == nil {
		return
	}
	p := notify.Pause{PausedAt: *s.PausedAt}
	ptrutil.SetIf(&p.Reason, s.PauseReason)
	ptrutil.SetIf(&p.PausedBy, s.PausedBy)
	ev := notify.PauseEvent(s.ID.String(), s.Name, p, nil)
	retry := notify.DefaultRetry
	retry.MaxAttempts = l.NotifyMaxAttempts
	in := notify.WorkflowInput{DeliverInput: notify.DeliverInput{URL: s.Notify.URL, Event: ev, Retry: retry}, AttemptTimeout: l.NotifyTimeout}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.temporal.cfg.CallTimeout)
	defer cancel()
	_, err := m.starter.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: notify.DeliveryWorkflowID(ev.ID), TaskQueue: m.temporal.cfg.TaskQueue, WorkflowRunTimeout: notify.Timeout(in),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, notify.WorkflowName, in)
	if err != nil {
		m.log.Error("start the notification of a pause", "schedule_id", s.ID, "event_id", ev.ID, "error", err)
	}
}

// Resume restarts runs and recomputes next_run_at. Resuming an active
// schedule changes nothing; a COMPLETED one is refused with
// ScheduleCompleted (an update of its limits reactivates it).
func (m *Manager) Resume(ctx context.Context, owner Owner, id uuid.UUID, reason string) (Schedule, error) {
	return m.transition(ctx, owner, id, "resume schedule", StatusActive, func(st Store, s Schedule) (Schedule, error) {
		if s.Status == StatusCompleted {
			return Schedule{}, completedRefusal("resumed")
		}
		timing, err := cron.Parse(s.CronExpression, s.Timezone)
		if err != nil {
			return Schedule{}, fmt.Errorf("stored cron of schedule %s: %w", id, err)
		}
		now := m.now()
		// A schedule paused for long may hold a spec compiled for a past
		// horizon: it gets a fresh one as it is unpaused.
		spec := temporalSpec(s, timing, now)
		if err := m.temporal.update(ctx, s, &spec, false, true, pauseNote("resumed", owner, reason)); err != nil {
			return Schedule{}, err
		}
		if err := recordSpecRefresh(ctx, st, id, timing, now); err != nil {
			return Schedule{}, err
		}
		if err := recordEvent(ctx, st, Event{ScheduleID: id, Kind: EventResumed, Actor: owner.UserID, Reason: reason}); err != nil {
			return Schedule{}, err
		}
		s.Status = StatusActive
		next := nextRunAt(s, timing, now)
		if next != nil {
			return st.ScheduleResume(ctx, id, owner.UserID, reason, *next)
		}
		// Paused until its window ended or its runs were used: resumed, it
		// is COMPLETED at once.
		if _, err := st.ScheduleResume(ctx, id, owner.UserID, reason, now); err != nil {
			return Schedule{}, err
		}
		if err := st.ScheduleComplete(ctx, id); err != nil {
			return Schedule{}, err
		}
		if err := recordEvent(ctx, st, Event{ScheduleID: id, Kind: EventCompleted, Actor: owner.UserID, Reason: completedReason(s)}); err != nil {
			return Schedule{}, err
		}
		return st.ScheduleGetByID(ctx, id, false)
	})
}

// transition moves the owner's schedule to status to with apply, under its
// row lock; a schedule already there is returned unchanged.
func (m *Manager) transition(ctx context.Context, owner Owner, id uuid.UUID, op string, to Status,
	apply func(Store, Schedule) (Schedule, error)) (Schedule, error) {
	var out Schedule
	err := m.store.InTx(ctx, func(st Store) error {
		s, err := st.ScheduleGet(ctx, owner, id, true)
		if err != nil {
			return err
		}
		out = s
		if s.Status != to {
			out, err = apply(st, s)
		}
		return err
	}, nil)
	if err != nil {
		return Schedule{}, fmt.Errorf("%s %s: %w", op, id, err)
	}
	return out, nil
}

// Delete soft-deletes the schedule and removes its Temporal schedule; its
// history stays. Afterwards the schedule reads as ErrNotFound.
func (m *Manager) Delete(ctx context.Context, owner Owner, id uuid.UUID) error {
	err := m.store.InTx(ctx, func(st Store) error {
		if _, err := st.ScheduleGet(ctx, owner, id, true); err != nil {
			return err
		}
		if err := m.temporal.delete(ctx, id); err != nil {
			return err
		}
		if err := recordEvent(ctx, st, Event{ScheduleID: id, Kind: EventDeleted, Actor: owner.UserID}); err != nil {
			return err
		}
		return st.ScheduleSoftDelete(ctx, id)
	}, nil)
	if err != nil {
		return fmt.Errorf("delete schedule %s: %w", id, err)
	}
	return nil
}

// specNeverRefresh marks a spec that covers its zone for good (a zone
// without transitions ahead).
var specNeverRefresh = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// recordSpecRefresh stores when the spec just compiled at now must be
// compiled again; every writer of a spec calls it in the same transaction.
func recordSpecRefresh(ctx context.Context, st Store, id uuid.UUID, timing *cron.Schedule, now time.Time) error {
	return st.ScheduleSetSpecRefresh(ctx, id, specRefreshAt(timing, now))
}

// specRefreshAt is when the spec compiled at now must be compiled again.
func specRefreshAt(timing *cron.Schedule, now time.Time) time.Time {
	if refresh := timing.SpecRefreshAfter(now); !refresh.IsZero() {
		return refresh
	}
	return specNeverRefresh
}

func pauseNote(verb string, owner Owner, reason string) string {
	note := fmt.Sprintf("%s by user %s", verb, owner.UserID)
	if reason != "" {
		note += ": " + reason
	}
	return note
}
