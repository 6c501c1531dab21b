package schedules

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// ErrRunNotFound is returned by Run when the schedule has no such run.
var ErrRunNotFound = fmt.Errorf("run: %w", ErrNotFound)

// Runs returns one page of the schedule's execution history, newest first.
// Returns ErrNotFound when the schedule is not the owner's.
func (m *Manager) Runs(ctx context.Context, owner Owner, id uuid.UUID, p PageRequest) (Page[Run], error) {
	s, err := m.Get(ctx, owner, id)
	if err != nil {
		return Page[Run]{}, err
	}
	q, err := listQuery(p, true)
	if err != nil {
		return Page[Run]{}, err
	}
	items, err := m.store.RunList(ctx, id, q)
	if err != nil {
		return Page[Run]{}, err
	}
	// The total is the schedule's maintained counter: no COUNT over history.
	page := pageOf(items, p, s.TotalRuns, func(r Run) Keyset { return Keyset{Seq: r.Seq} })
	page.Schedule = &s
	return page, nil
}

// Run returns one run of the owner's schedule with its attempts. Returns
// ErrNotFound when the schedule is not the owner's and ErrRunNotFound when
// the run is not the schedule's.
func (m *Manager) Run(ctx context.Context, owner Owner, scheduleID, runID uuid.UUID) (RunDetail, error) {
	if _, err := m.Get(ctx, owner, scheduleID); err != nil {
		return RunDetail{}, err
	}
	d, err := m.store.RunGet(ctx, scheduleID, runID)
	if errors.Is(err, ErrNotFound) {
		return RunDetail{}, fmt.Errorf("%w: %w", ErrRunNotFound, err)
	}
	return d, err
}
