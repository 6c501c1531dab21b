-- P2: $2 completed runs of schedule $1, one a minute from 2020-01-01, numbered 1..$2 (as
-- schedules/runs_bench_test.go seeds them).
INSERT INTO schedule_runs (schedule_id, workflow_id, temporal_run_id, query, status, triggered_at, started_at, completed_at, total_tokens, seq)
SELECT $1, 'bench-wf-' || g, 'run', 'q', 'COMPLETED', t, t, t + interval '2 seconds', 100, g
FROM generate_series(1, $2::int) g, LATERAL (SELECT timestamptz '2020-01-01' + g * interval '1 minute' AS t) x
