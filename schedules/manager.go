package schedules

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"schedsvc/problem"
	"schedsvc/schedules/cron"
)

// Manager owns schedules: it validates them, keeps PostgreSQL and Temporal
// in step, and scopes every operation to the calling owner.
type Manager struct {
	store    Store
	temporal temporalSchedules
	rules    rules
	log      *slog.Logger
	now      func() time.Time
}

// NewManager returns a manager over the store and Temporal's schedule
// client.
func NewManager(st Store, sc client.ScheduleClient, limits Limits, tc TemporalConfig, log *slog.Logger) *Manager {
	return &Manager{
		store:    st,
		temporal: temporalSchedules{client: sc, cfg: tc},
		rules:    rules{limits: limits},
		log:      log,
		now:      time.Now,
	}
}

// Create validates and stores a new schedule and its Temporal schedule.
// Returns *problem.Error for rejected input (ScheduleLimitReached when the
// owner has MaxPerUser schedules) and ErrUnavailable when Temporal or
// PostgreSQL cannot be reached; in every error case nothing is created.
func (m *Manager) Create(ctx context.Context, owner Owner, in CreateInput) (Schedule, error) {
	s := m.rules.newSchedule(owner, in)
	s.ID = uuid.New()
	timing, err := m.rules.validate(s)
	if err != nil {
		return Schedule{}, err
	}
	var created Schedule
	err = m.store.InTx(ctx, func(st Store) error {
		// The owner lock makes count-then-insert atomic across replicas.
		if err := st.OwnerLock(ctx, owner); err != nil {
			return err
		}
		n, err := st.ScheduleCount(ctx, owner, nil)
		if err != nil {
			return err
		}
		if n >= int64(m.rules.limits.MaxPerUser) {
			return problem.Invalid(problem.ScheduleLimitReached, "", "you already have %d schedules, the maximum per user; delete one first", n)
		}
		now := m.now()
		next := timing.Next(now)
		s.NextRunAt = &next
		if created, err = st.ScheduleInsert(ctx, s); err != nil {
			return err
		}
		if err := recordEvent(ctx, st, Event{ScheduleID: s.ID, Kind: EventCreated, Actor: owner.UserID}); err != nil {
			return err
		}
		if err := recordSpecRefresh(ctx, st, s.ID, timing, now); err != nil {
			return err
		}
		// Temporal last: if it fails the row rolls back, and if the commit
		// fails after it, the Temporal schedule is removed again below.
		return m.temporal.create(ctx, created, timing, now)
	}, func() {
		if err := m.temporal.delete(context.WithoutCancel(ctx), s.ID); err != nil {
			m.log.Error("remove temporal schedule after failed commit", "schedule_id", s.ID, "error", err)
		}
	})
	if err != nil {
		return Schedule{}, fmt.Errorf("create schedule: %w", err)
	}
	return created, nil
}

// Get returns the owner's schedule or ErrNotFound.
func (m *Manager) Get(ctx context.Context, owner Owner, id uuid.UUID) (Schedule, error) {
	return m.store.ScheduleGet(ctx, owner, id, false)
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
	return pageOf(items, p, total, func(s Schedule) Keyset { return Keyset{At: s.CreatedAt, ID: s.ID} }), nil
}

// Update applies a partial update. Temporal's spec and action are written
// only when they change. Returns ErrNotFound, *problem.Error or
// ErrUnavailable; on error nothing changes.
func (m *Manager) Update(ctx context.Context, owner Owner, id uuid.UUID, in UpdateInput) (Schedule, error) {
	if err := m.rules.checkUpdate(in); err != nil {
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
		if err := m.applyToTemporal(ctx, st, old, &s, timing); err != nil {
			return err
		}
		if err := recordUpdate(ctx, st, owner, old, s); err != nil {
			return err
		}
		updated, err = st.ScheduleUpdateConfig(ctx, s)
		return err
	}, nil)
	if err != nil {
		return Schedule{}, fmt.Errorf("update schedule %s: %w", id, err)
	}
	return updated, nil
}

// applyToTemporal writes what an update changed to the Temporal schedule:
// the spec (and s's next run) when the timing changed, the action when the
// task did, the policies when the overlap policy did.
func (m *Manager) applyToTemporal(ctx context.Context, st Store, old Schedule, s *Schedule, timing *cron.Schedule) error {
	specChanged := s.CronExpression != old.CronExpression || s.Timezone != old.Timezone
	actionChanged := s.TaskQuery != old.TaskQuery || s.MaxBudgetPerRunUSD != old.MaxBudgetPerRunUSD ||
		s.TimeoutSeconds != old.TimeoutSeconds || !reflect.DeepEqual(s.TaskContext, old.TaskContext) ||
		s.Executor != old.Executor || s.Retry != old.Retry
	policyChanged := s.Overlap != old.Overlap
	if !specChanged && !actionChanged && !policyChanged {
		return nil
	}
	now := m.now()
	var spec *client.ScheduleSpec
	if specChanged {
		compiled := timing.TemporalSpec(now)
		spec = &compiled
		if s.Status == StatusActive {
			next := timing.Next(now)
			s.NextRunAt = &next
		}
	}
	if err := m.temporal.update(ctx, *s, spec, actionChanged, ""); err != nil {
		return err
	}
	if specChanged {
		return recordSpecRefresh(ctx, st, s.ID, timing, now)
	}
	return nil
}

// Pause stops future runs and records who paused it, when and why. Pausing
// a paused schedule changes nothing.
func (m *Manager) Pause(ctx context.Context, owner Owner, id uuid.UUID, reason string) (Schedule, error) {
	return m.transition(ctx, owner, id, "pause schedule", StatusPaused, func(st Store, s Schedule) (Schedule, error) {
		if err := m.temporal.pause(ctx, id, pauseNote("paused", owner, reason)); err != nil {
			return Schedule{}, err
		}
		if err := recordEvent(ctx, st, Event{ScheduleID: id, Kind: EventPaused, Actor: owner.UserID, Reason: reason}); err != nil {
			return Schedule{}, err
		}
		return st.SchedulePause(ctx, id, owner.UserID, reason)
	})
}

// Resume restarts runs and recomputes next_run_at. Resuming an active
// schedule changes nothing.
func (m *Manager) Resume(ctx context.Context, owner Owner, id uuid.UUID, reason string) (Schedule, error) {
	return m.transition(ctx, owner, id, "resume schedule", StatusActive, func(st Store, s Schedule) (Schedule, error) {
		timing, err := cron.Parse(s.CronExpression, s.Timezone)
		if err != nil {
			return Schedule{}, fmt.Errorf("stored cron of schedule %s: %w", id, err)
		}
		now := m.now()
		// A schedule paused for long may hold a spec compiled for a past
		// horizon: it gets a fresh one as it is unpaused.
		spec := timing.TemporalSpec(now)
		if err := m.temporal.update(ctx, s, &spec, false, pauseNote("resumed", owner, reason)); err != nil {
			return Schedule{}, err
		}
		if err := recordSpecRefresh(ctx, st, id, timing, now); err != nil {
			return Schedule{}, err
		}
		if err := recordEvent(ctx, st, Event{ScheduleID: id, Kind: EventResumed, Actor: owner.UserID, Reason: reason}); err != nil {
			return Schedule{}, err
		}
		return st.ScheduleResume(ctx, id, owner.UserID, reason, timing.Next(now))
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
	refresh := timing.SpecRefreshAfter(now)
	if refresh.IsZero() {
		refresh = specNeverRefresh
	}
	return st.ScheduleSetSpecRefresh(ctx, id, refresh)
}

func pauseNote(verb string, owner Owner, reason string) string {
	note := fmt.Sprintf("%s by user %s", verb, owner.UserID)
	if reason != "" {
		note += ": " + reason
	}
	return note
}
