package schedules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	dbgen "schedsvc/gen/db"
	"schedsvc/schedules/cron"
)

// specNeverRefresh marks a spec that covers its zone for good (a zone
// without transitions ahead).
var specNeverRefresh = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// orphanGrace protects Temporal schedules whose create has not committed
// its row yet: only older ones without a live row are removed.
const orphanGrace = 10 * time.Minute

const reconcileBatch = 200

// ReconcileReport counts what one pass found and repaired.
type ReconcileReport struct {
	Skipped        bool // another replica holds the reconciler lock
	Checked        int
	Recreated      int // live row without a Temporal schedule
	PauseFixed     int // Temporal's paused state differed from the row's status
	SpecRefreshed  int // the spec was compiled again for the zone's next transitions
	NextRunFixed   int // the stored next_run_at differed from Temporal's next action
	OrphansDeleted int // Temporal schedule without a live row
	Failed         int // schedules that could not be repaired in this pass
}

// Reconcile makes Temporal agree with PostgreSQL, the source of truth, in
// both directions, and refreshes specs whose DST horizon runs out. One pass
// runs at a time across all replicas; a pass that finds the lock taken
// returns a report with Skipped set.
func (m *Manager) Reconcile(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	conn, err := m.pool.Acquire(ctx)
	if err != nil {
		return rep, dbErr("reconcile: acquire connection", err)
	}
	defer conn.Release()
	lockQ := dbgen.New(conn)
	got, err := lockQ.ReconcileTryLock(ctx)
	if err != nil {
		return rep, dbErr("reconcile: lock", err)
	}
	if !got {
		rep.Skipped = true
		return rep, nil
	}
	defer lockQ.ReconcileUnlock(context.WithoutCancel(ctx)) //nolint:errcheck // released with the session anyway

	now := m.now()
	live := make(map[uuid.UUID]bool)
	after := uuid.Nil
	for {
		rows, err := m.q.ScheduleListLiveAfter(ctx, dbgen.ScheduleListLiveAfterParams{AfterID: after, BatchSize: reconcileBatch})
		if err != nil {
			return rep, dbErr("reconcile: list schedules", err)
		}
		for _, r := range rows {
			live[r.ID] = true
			rep.Checked++
			refreshDue := r.SpecRefreshAt == nil || !now.Before(*r.SpecRefreshAt)
			if err := m.reconcileOne(ctx, r.ID, refreshDue, now, &rep); err != nil {
				if errors.Is(err, ErrUnavailable) {
					return rep, err
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
	if err := m.deleteOrphans(ctx, live, now, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

func (m *Manager) reconcileOne(ctx context.Context, id uuid.UUID, refreshDue bool, now time.Time, rep *ReconcileReport) error {
	return m.inTx(ctx, "reconcile schedule", func(q *dbgen.Queries) error {
		row, err := q.ScheduleGetLiveForUpdateSkipLocked(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted since the listing, or being changed right now
		}
		if err != nil {
			return dbErr("lock schedule", err)
		}
		s, err := scheduleFromRow(row)
		if err != nil {
			return err
		}
		cron, err := cron.Parse(s.CronExpression, s.Timezone)
		if err != nil {
			return fmt.Errorf("stored cron no longer parses: %w", err)
		}
		wantPaused := s.Status == StatusPaused

		desc, err := m.temporalDescribe(ctx, id)
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			if err := m.temporalCreate(ctx, s, cron, now); err != nil {
				return err
			}
			if wantPaused {
				if err := m.temporalPause(ctx, id, "paused (restored by the reconciler)"); err != nil {
					return err
				}
			}
			rep.Recreated++
			m.log.WarnContext(ctx, "recreated missing temporal schedule", "schedule_id", id)
			return m.afterSpecWrite(ctx, q, s, cron, now, rep)
		case err != nil:
			return err
		}

		if desc.Schedule.State.Paused != wantPaused {
			if wantPaused {
				err = m.temporalPause(ctx, id, "paused (reconciled with the schedule's status)")
			} else {
				err = m.temporalUpdate(ctx, s, nil, false, "unpaused (reconciled with the schedule's status)")
			}
			if err != nil {
				return err
			}
			rep.PauseFixed++
		}
		if refreshDue {
			spec := cron.TemporalSpec(now)
			if err := m.temporalUpdate(ctx, s, &spec, false, ""); err != nil {
				return err
			}
			rep.SpecRefreshed++
			return m.afterSpecWrite(ctx, q, s, cron, now, rep)
		}
		return m.syncNextRun(ctx, q, s, desc.Info.NextActionTimes, rep)
	}, nil)
}

// afterSpecWrite records when the spec just written must be refreshed and
// re-reads Temporal's next action time for next_run_at.
func (m *Manager) afterSpecWrite(ctx context.Context, q *dbgen.Queries, s Schedule, cron *cron.Schedule, now time.Time, rep *ReconcileReport) error {
	if err := recordSpecRefresh(ctx, q, s.ID, cron, now); err != nil {
		return err
	}
	desc, err := m.temporalDescribe(ctx, s.ID)
	if err != nil {
		return err
	}
	return m.syncNextRun(ctx, q, s, desc.Info.NextActionTimes, rep)
}

// recordSpecRefresh stores when the spec just compiled at now must be
// compiled again; every writer of a spec calls it in the same transaction.
func recordSpecRefresh(ctx context.Context, q *dbgen.Queries, id uuid.UUID, cron *cron.Schedule, now time.Time) error {
	refresh := cron.SpecRefreshAfter(now)
	if refresh.IsZero() {
		refresh = specNeverRefresh
	}
	return dbErr("record spec refresh", q.ScheduleSetSpecRefresh(ctx, dbgen.ScheduleSetSpecRefreshParams{ID: id, SpecRefreshAt: &refresh}))
}

// syncNextRun stores Temporal's next action time when the row disagrees:
// next_run_at must be what will run.
func (m *Manager) syncNextRun(ctx context.Context, q *dbgen.Queries, s Schedule, next []time.Time, rep *ReconcileReport) error {
	if s.Status != StatusActive || len(next) == 0 {
		return nil
	}
	if s.NextRunAt != nil && s.NextRunAt.Equal(next[0]) {
		return nil
	}
	m.log.WarnContext(ctx, "next_run_at differed from temporal", "schedule_id", s.ID, "stored", s.NextRunAt, "temporal", next[0])
	rep.NextRunFixed++
	return dbErr("set next run", q.ScheduleSetNextRun(ctx, dbgen.ScheduleSetNextRunParams{ID: s.ID, NextRunAt: &next[0]}))
}

// deleteOrphans removes our Temporal schedules whose row is deleted or
// missing.
func (m *Manager) deleteOrphans(ctx context.Context, live map[uuid.UUID]bool, now time.Time, rep *ReconcileReport) error {
	iter, err := m.temporal.List(ctx, client.ScheduleListOptions{PageSize: 500})
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
		status, err := m.q.ScheduleStatusByID(ctx, id)
		switch {
		case err == nil && status != string(StatusDeleted):
			continue // created after the listing
		case errors.Is(err, pgx.ErrNoRows):
			// No row at all: maybe a create whose row has not committed yet.
			desc, err := m.temporalDescribe(ctx, id)
			if err != nil || now.Sub(desc.Info.CreatedAt) < orphanGrace {
				continue
			}
		case err != nil:
			return dbErr("reconcile: schedule status", err)
		}
		if err := m.temporalDelete(ctx, id); err != nil {
			return err
		}
		rep.OrphansDeleted++
		m.log.WarnContext(ctx, "deleted temporal schedule without a live row", "schedule_id", id)
	}
	return nil
}

func (m *Manager) temporalDescribe(ctx context.Context, id uuid.UUID) (*client.ScheduleDescription, error) {
	ctx, cancel := context.WithTimeout(ctx, m.temporalCfg.CallTimeout)
	defer cancel()
	d, err := m.temporal.GetHandle(ctx, TemporalScheduleID(id)).Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, err
	}
	return d, temporalErr("describe temporal schedule", err)
}

// RunReconciler runs a pass every interval until ctx ends.
func (m *Manager) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rep, err := m.Reconcile(ctx)
		switch {
		case err != nil:
			m.log.ErrorContext(ctx, "reconcile pass failed", "error", err)
		case !rep.Skipped:
			m.log.InfoContext(ctx, "reconcile pass", "checked", rep.Checked, "recreated", rep.Recreated,
				"pause_fixed", rep.PauseFixed, "spec_refreshed", rep.SpecRefreshed, "next_run_fixed", rep.NextRunFixed,
				"orphans_deleted", rep.OrphansDeleted, "failed", rep.Failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
