package schedules_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"schedsvc/config"
	. "schedsvc/schedules"
	"schedsvc/store"
	"schedsvc/testenv"
)

// BenchmarkRunsDeepPage reads the same deep page of a schedule's history
// (rows 179,981–180,000 of 200,000, newest first) by page number and by
// keyset cursor, and the first page beside them, through Manager.Runs and
// the history view. Both ways are a range of the run sequence index:
//
//	go test -run '^$' -bench BenchmarkRunsDeepPage -benchtime 200x ./schedules/
func BenchmarkRunsDeepPage(b *testing.B) {
	const runs, pageSize, page = 200_000, 20, 9000
	ctx := context.Background()
	db, err := testenv.CreateDatabase(ctx, "schedsvc_runs_bench")
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Drop(context.Background()) })

	owner := Owner{UserID: "u", TenantID: "t"} // testSchedule's owner
	id := uuid.New()
	st := store.New(db.Pool)
	_, err = st.ScheduleInsert(ctx, testSchedule(id, "* * * * *", nil, 0))
	require.NoError(b, err)
	_, err = db.Pool.Exec(ctx, `
		INSERT INTO schedule_runs (schedule_id, workflow_id, temporal_run_id, query, status, triggered_at, started_at, completed_at, total_tokens, seq)
		SELECT $1, 'wf-' || g, 'run', 'q', 'COMPLETED', t, t, t + interval '2 seconds', 100, g
		FROM generate_series(1, $2::int) g, LATERAL (SELECT timestamptz '2020-01-01' + g * interval '1 minute' AS t) x`, id, runs)
	require.NoError(b, err)
	_, err = db.Pool.Exec(ctx, "UPDATE schedules SET total_runs = $2 WHERE id = $1", id, runs)
	require.NoError(b, err)
	_, err = db.Pool.Exec(ctx, "ANALYZE schedule_runs")
	require.NoError(b, err)

	m := NewManager(st, nil, config.Defaults().Limits, TemporalConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// The cursor that continues after the last row of page-1 pages.
	before, err := m.Runs(ctx, owner, id, PageRequest{Page: page - 1, PageSize: pageSize})
	require.NoError(b, err)
	next := *before.NextCursor

	byOffset, err := m.Runs(ctx, owner, id, PageRequest{Page: page, PageSize: pageSize})
	require.NoError(b, err)
	byCursor, err := m.Runs(ctx, owner, id, PageRequest{Page: 1, PageSize: pageSize, Cursor: next})
	require.NoError(b, err)
	require.Equal(b, byOffset.Items, byCursor.Items, "both ways read the same page")
	require.EqualValues(b, runs, byOffset.Total)

	for _, c := range []struct {
		name string
		req  PageRequest
	}{
		{"first", PageRequest{Page: 1, PageSize: pageSize}},
		{"offset", PageRequest{Page: page, PageSize: pageSize}},
		{"cursor", PageRequest{Page: 1, PageSize: pageSize, Cursor: next}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := m.Runs(ctx, owner, id, c.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The seed's shape, for comparison: COUNT(*) over the view and an OFFSET
	// page ordered by trigger time.
	b.Run("seed-offset-count", func(b *testing.B) {
		for b.Loop() {
			var n int64
			if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM v_schedule_execution_history WHERE schedule_id = $1", id).Scan(&n); err != nil {
				b.Fatal(err)
			}
			rows, err := db.Pool.Query(ctx, `SELECT * FROM v_schedule_execution_history WHERE schedule_id = $1
				ORDER BY triggered_at DESC, id DESC LIMIT $2 OFFSET $3`, id, pageSize, (page-1)*pageSize)
			if err != nil {
				b.Fatal(err)
			}
			rows.Close()
		}
	})
}
