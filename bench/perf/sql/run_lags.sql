-- P3: seconds from each run's trigger time to its start, for the given schedules.
SELECT extract(epoch FROM started_at - triggered_at)::float8
FROM schedule_runs
WHERE schedule_id = ANY($1::uuid[]) AND started_at IS NOT NULL
