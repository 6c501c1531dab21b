-- The P1 baseline: a point select of the row GET /api/v1/schedules/{id} reads.
SELECT id, user_id, tenant_id, name, description, cron_expression, timezone, task_query,
       task_context, max_budget_per_run_usd::float8, timeout_seconds, status, created_at,
       updated_at, last_run_at, next_run_at, total_runs, successful_runs, failed_runs,
       total_tokens, total_cost_usd::float8
FROM schedules
WHERE id = $1
