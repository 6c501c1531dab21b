package schedules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"schedsvc/schedules/cron"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// orphanGrace protects Temporal schedules whose create has not committed
// its row yet: only older ones without a live row are removed.
const orphanGrace = 10 * time.Minute

// reservationGrace is how long a create may hold its reservation before
// the reconciler takes it for abandoned. A create holds one for a single
// Temporal call (TEMPORAL_CALL_TIMEOUT, 5s by default) and two short
// transactions; a slower one is refused when it finds its reservation gone,
// so this bounds how long a dead create keeps its slot, not correctness.
const reservationGrace = 2 * time.Minute

const reconcileBatch = 200

// ReconcileReport counts what one pass found and repaired.
type ReconcileReport struct {
	Skipped        bool // another replica holds the reconciler lock
	Checked        int
	Recreated      int // live row without a Temporal schedule
	PauseFixed     int // Temporal's paused state differed from the row's status
	SpecRefreshed  int // the spec was compiled again for the zone's next transitions
	SpecFixed      int // Temporal's next actions did not follow the row's cron: spec rewritten
	NextRunFixed   int // the stored next_run_at differed from Temporal's next action
	OrphansDeleted int // Temporal schedule without a live row
	// Reservations of creates that died between reserving their slot and
	// inserting their row: each removed with the Temporal schedule it may
	// have made.
	ReservationsRemoved int
	IntentsRemoved      int64 // trigger and backfill intents no run claimed for staleIntentAge
	Failed              int   // schedules that could not be repaired in this pass
}

// Reconciler makes Temporal agree with PostgreSQL, the source of truth. The
// worker runs it; every replica may, since one pass runs at a time.
type Reconciler struct {
	store    Store
	temporal temporalSchedules
	log      *slog.Logger
	now      func() time.Time
	// Observe, when set, sees each pass's report (the worker counts
	// repairs with it).
	Observe func(ReconcileReport, error)
}

// NewReconciler returns a reconciler over the store and Temporal's
// schedule client; tc says where actions run, as for the Manager.
func NewReconciler(st Store, sc client.ScheduleClient, tc TemporalConfig, log *slog.Logger) *Reconciler {
	return &Reconciler{store: st, temporal: temporalSchedules{client: sc, cfg: tc}, log: log, now: time.Now}
}

// Reconcile makes Temporal agree with PostgreSQL in both directions, and
// refreshes specs whose DST horizon runs out. One pass runs at a time
// across all replicas; a pass that finds the lock taken returns a report
// with Skipped set.
func (m *Reconciler) Reconcile(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	ran, err := m.store.WithReconcileLock(ctx, func() error { return m.pass(ctx, &rep) })
	rep.Skipped = !ran && err == nil
	return rep, err
}

func (m *Reconciler) pass(ctx context.Context, rep *ReconcileReport) error {
	now := m.now()
	if err := m.removeStaleReservations(ctx, now, rep); err != nil {
		return err
	}
	n, err := m.store.TriggerIntentDeleteStale(ctx, now.Add(-staleIntentAge))
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	rep.IntentsRemoved += n
	live := make(map[uuid.UUID]bool)
	after := uuid.Nil
	for {
		rows, err := m.store.ScheduleListLive(ctx, after, reconcileBatch)
		if err != nil {
			return fmt.Errorf("reconcile: %w", err)
		}
		for _, r := range rows {
			live[r.ID] = true
			rep.Checked++
			refreshDue := r.SpecRefreshAt == nil || !now.Before(*r.SpecRefreshAt)
			if err := m.reconcileOne(ctx, r.ID, refreshDue, now, rep); err != nil {
				if errors.Is(err, ErrUnavailable) {
					return err
				}
				rep.Failed++
				m.log.ErrorContext(ctx, "reconcile schedule", "schedule_id", r.ID, "error", err)
			}
			after = r.ID
		}
		if len(rows) < reconcileBatch {
			break
		}
	}
	return m.deleteOrphans(ctx, live, now, rep)
}

func (m *Reconciler) reconcileOne(ctx context.Context, id uuid.UUID, refreshDue bool, now time.Time, rep *ReconcileReport) error {
	return m.store.InTx(ctx, recordingRepairs(ctx, id, rep, func(st Store) error {
		s, err := st.ScheduleLockLive(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil // deleted since the listing, or being changed right now
		}
		if err != nil {
			return err
		}
		timing, err := cron.Parse(s.CronExpression, s.Timezone)
		if err != nil {
			return fmt.Errorf("stored cron no longer parses: %w", err)
		}
		// A schedule whose window ended with runs left completes here;
		// a COMPLETED one has nothing left to fire: Temporal's copy is left
		// as it is (its end time and remaining actions stop it).
		if s.Status == StatusActive && exhausted(s, timing, now) {
			return completeIfExhausted(ctx, st, s, timing, now, ActorReconciler)
		}
		if s.Status == StatusCompleted {
			return nil
		}
		wantPaused := s.Status == StatusPaused

		described := m.now()
		desc, err := m.temporal.describe(ctx, id)
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			if err := m.temporal.create(ctx, s, timing, now); err != nil {
				return err
			}
			if wantPaused {
				if err := m.temporal.pause(ctx, id, "paused (restored by the reconciler)"); err != nil {
					return err
				}
			}
			rep.Recreated++
			m.log.WarnContext(ctx, "recreated missing temporal schedule", "schedule_id", id)
			return m.afterSpecWrite(ctx, st, s, timing, now, rep)
		case err != nil:
			return err
		}
		// Completions of short runs no longer ask Temporal for its skipped
		// count; the describe made here anyway copies it.
		if err := CopySkippedFirings(ctx, st, id, s.SkippedRuns, desc); err != nil {
			return err
		}

		if desc.Schedule.State.Paused != wantPaused {
			if wantPaused {
				err = m.temporal.pause(ctx, id, "paused (reconciled with the schedule's status)")
			} else {
				err = m.temporal.update(ctx, s, nil, false, false, "unpaused (reconciled with the schedule's status)")
			}
			if err != nil {
				return err
			}
			rep.PauseFixed++
		}
		// A spec changed behind our back would otherwise go unnoticed, and
		// syncNextRun would copy its wrong next action into the row.
		specWrong := !followsCron(timing, window(s), desc.Info.NextActionTimes, described)
		if refreshDue || specWrong {
			spec := temporalSpec(s, timing, now)
			if err := m.temporal.update(ctx, s, &spec, false, false, ""); err != nil {
				return err
			}
			if specWrong {
				rep.SpecFixed++
				m.log.WarnContext(ctx, "temporal spec did not follow the schedule's cron; rewritten", "schedule_id", id,
					"temporal_next", desc.Info.NextActionTimes)
			} else {
				rep.SpecRefreshed++
			}
			return m.afterSpecWrite(ctx, st, s, timing, now, rep)
		}
		return m.syncNextRun(ctx, st, s, desc.Info.NextActionTimes, rep)
	}), nil)
}

// removeStaleReservations finishes creates that died in flight by
// undoing them: the Temporal schedule, if the create got that far, is
// deleted, then the reservation, which gives the owner's slot back. They
// are never completed instead: the client got no 201, and its retry (with
// the same Idempotency-Key or without) creates a schedule of a new id, so
// completing the dead one would leave two schedules for one request.
func (m *Reconciler) removeStaleReservations(ctx context.Context, now time.Time, rep *ReconcileReport) error {
	before := now.Add(-reservationGrace)
	for {
		ids, err := m.store.ScheduleReservationsStale(ctx, before, reconcileBatch)
		if err != nil {
			return fmt.Errorf("reconcile: %w", err)
		}
		removed := 0
		for _, id := range ids {
			err := m.store.InTx(ctx, func(st Store) error {
				// Locked, the reservation cannot be finished by a creator
				// still alive: its row transaction waits, then finds the
				// reservation gone and undoes its create.
				if err := st.ScheduleReservationLockStale(ctx, id, before); err != nil {
					return err
				}
				if err := m.temporal.delete(ctx, id); err != nil {
					return err
				}
				return st.ScheduleReservationDelete(ctx, id)
			}, nil)
			switch {
			case errors.Is(err, ErrNotFound):
				continue // finished or being finished by its creator
			case errors.Is(err, ErrUnavailable):
				return fmt.Errorf("reconcile: %w", err)
			case err != nil:
				rep.Failed++
				m.log.ErrorContext(ctx, "remove stale schedule reservation", "schedule_id", id, "error", err)
				continue
			}
			removed++
			rep.ReservationsRemoved++
			m.log.WarnContext(ctx, "removed the reservation of a create that did not finish", "schedule_id", id)
		}
		// A batch in which nothing could be removed would come back as it
		// is: the next pass tries again.
		if len(ids) < reconcileBatch || removed == 0 {
			return nil
		}
	}
}

// followsCron reports whether Temporal's next action times, described at
// (or just after) at, are the cron's own next firings: the first is the
// cron's next after at (or the one after that, if a firing passed while
// describing), and each further one follows the one before. A paused
// schedule has none and is taken to follow. Firings outside the window w
// are not the cron's: Temporal's spec is bounded by it too.
func followsCron(timing *cron.Schedule, w cron.Window, next []time.Time, at time.Time) bool {
	if len(next) == 0 {
		return true
	}
	first := timing.NextIn(at, w)
	if !next[0].Equal(first) && !next[0].Equal(timing.NextIn(first, w)) {
		return false
	}
	for i := 1; i < len(next); i++ {
		if !next[i].Equal(timing.NextIn(next[i-1], w)) {
			return false
		}
	}
	return true
}

// afterSpecWrite records when the spec just written must be refreshed and
// re-reads Temporal's next action time for next_run_at.
func (m *Reconciler) afterSpecWrite(ctx context.Context, st Store, s Schedule, timing *cron.Schedule, now time.Time, rep *ReconcileReport) error {
	if err := recordSpecRefresh(ctx, st, s.ID, timing, now); err != nil {
		return err
	}
	desc, err := m.temporal.describe(ctx, s.ID)
	if err != nil {
		return err
	}
	return m.syncNextRun(ctx, st, s, desc.Info.NextActionTimes, rep)
}

// syncNextRun stores Temporal's next action time when the row disagrees:
// next_run_at must be what will run.
func (m *Reconciler) syncNextRun(ctx context.Context, st Store, s Schedule, next []time.Time, rep *ReconcileReport) error {
	if s.Status != StatusActive || len(next) == 0 {
		return nil
	}
	if s.NextRunAt != nil && s.NextRunAt.Equal(next[0]) {
		return nil
	}
	m.log.WarnContext(ctx, "next_run_at differed from temporal", "schedule_id", s.ID, "stored", s.NextRunAt, "temporal", next[0])
	rep.NextRunFixed++
	return st.ScheduleSetNextRun(ctx, s.ID, next[0])
}

// deleteOrphans removes our Temporal schedules whose row is deleted or
// missing.
func (m *Reconciler) deleteOrphans(ctx context.Context, live map[uuid.UUID]bool, now time.Time, rep *ReconcileReport) error {
	iter, err := m.temporal.client.List(ctx, client.ScheduleListOptions{PageSize: 500})
	if err != nil {
		return temporalErr("list temporal schedules", err)
	}
	for iter.HasNext() {
		entry, err := iter.Next()
		if err != nil {
			return temporalErr("list temporal schedules", err)
		}
		raw, ours := strings.CutPrefix(entry.ID, temporalIDPrefix)
		id, perr := uuid.Parse(raw)
		if !ours || perr != nil || live[id] {
			continue
		}
		status, err := m.store.ScheduleStatus(ctx, id)
		switch {
		case err == nil && status != StatusDeleted:
			continue // created after the listing
		case errors.Is(err, ErrNotFound):
			// No row at all: maybe a create whose row has not committed yet.
			desc, err := m.temporal.describe(ctx, id)
			if err != nil || now.Sub(desc.Info.CreatedAt) < orphanGrace {
				continue
			}
		case err != nil:
			return fmt.Errorf("reconcile: %w", err)
		}
		if err := m.temporal.delete(ctx, id); err != nil {
			return err
		}
		rep.OrphansDeleted++
		m.log.WarnContext(ctx, "deleted temporal schedule without a live row", "schedule_id", id)
	}
	return nil
}

// Run runs a pass every interval until ctx ends.
func (m *Reconciler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rep, err := m.Reconcile(ctx)
		if m.Observe != nil {
			m.Observe(rep, err)
		}
		switch {
		case err != nil:
			m.log.ErrorContext(ctx, "reconcile pass failed", "error", err)
		case !rep.Skipped:
			m.log.InfoContext(ctx, "reconcile pass", "checked", rep.Checked, "recreated", rep.Recreated,
				"pause_fixed", rep.PauseFixed, "spec_refreshed", rep.SpecRefreshed, "spec_fixed", rep.SpecFixed, "next_run_fixed", rep.NextRunFixed,
				"orphans_deleted", rep.OrphansDeleted, "reservations_removed", rep.ReservationsRemoved, "intents_removed", rep.IntentsRemoved, "failed", rep.Failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
