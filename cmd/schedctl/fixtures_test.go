package main

// Answers of the API as the spec's examples show them, for the formatting tests.

const scheduleJSON = `{
  "id": "3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05", "user_id": "user_8f2d41", "tenant_id": "acme-eu",
  "name": "Weekday support digest", "description": "Summarises yesterday's tickets\nfor the lead",
  "cron_expression": "0 9 * * MON-FRI", "timezone": "Europe/Berlin",
  "task_query": "Summarise yesterday's open support tickets.", "task_context": {"channel": "#support-leads"},
  "max_budget_per_run_usd": 0.25, "timeout_seconds": 600, "status": "PAUSED",
  "created_at": "2026-11-20T08:15:30Z", "updated_at": "2026-11-27T10:00:00Z",
  "last_run_at": "2026-11-27T08:00:00Z", "next_run_at": null,
  "total_runs": 6, "successful_runs": 5, "failed_runs": 1, "total_tokens": 48210, "total_cost_usd": 0.0723,
  "paused_at": "2026-11-27T10:00:00Z", "paused_by": "user_8f2d41", "pause_reason": "Quarter-end freeze",
  "resumed_at": null, "resumed_by": null, "resume_reason": null,
  "executor": "llm", "retry_policy": {"max_attempts": 3, "initial_backoff_seconds": 10, "max_backoff_seconds": 300},
  "overlap_policy": "SKIP", "pause_after_failures": 3, "consecutive_failures": 0, "skipped_runs": 2,
  "next_runs": [], "previous_run_at": "2026-11-27T09:00:00+01:00"
}`

const listJSON = `{"schedules": [` + scheduleJSON + `, {
  "id": "5d3b9f20-8e4a-4c61-b7d9-0a2f6e1c8b47", "user_id": "user_8f2d41", "tenant_id": "acme-eu",
  "name": "A name far longer than the forty characters a list column shows", "description": "",
  "cron_expression": "@hourly", "timezone": "UTC", "task_query": "q", "task_context": null,
  "max_budget_per_run_usd": 1, "timeout_seconds": 600, "status": "ACTIVE",
  "created_at": "2026-11-19T08:00:00Z", "updated_at": "2026-11-19T08:00:00Z",
  "last_run_at": null, "next_run_at": "2026-11-30T09:00:00Z",
  "total_runs": 0, "successful_runs": 0, "failed_runs": 0, "total_tokens": 0, "total_cost_usd": 0,
  "paused_at": null, "paused_by": null, "pause_reason": null, "resumed_at": null, "resumed_by": null, "resume_reason": null,
  "executor": "http", "retry_policy": {"max_attempts": 1, "initial_backoff_seconds": 10, "max_backoff_seconds": 300},
  "overlap_policy": "SKIP", "pause_after_failures": 0, "consecutive_failures": 0, "skipped_runs": 0,
  "next_runs": ["2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z"], "previous_run_at": null
}], "total": 7, "page": 1, "page_size": 2, "next_cursor": "eyJjIjoiMjAyNi0xMS0xOVQwODowMDowMFoifQ"}`

const runJSON = `{
  "id": "9a0e7c41-2b6d-4f3e-8a15-c7d2e4b90f16", "workflow_id": "scheduled-run-3f6c2a8e-2026-11-27T08:00:00Z",
  "query": "Summarise yesterday's open support tickets.", "status": "FAILED", "result": null,
  "error_message": "task endpoint answered 502 Bad Gateway: upstream model exploded", "model_used": null, "provider": null,
  "total_tokens": 0, "total_cost_usd": 0, "duration_ms": 14210,
  "triggered_at": "2026-11-27T08:00:00Z", "started_at": "2026-11-27T08:00:00.412Z", "completed_at": "2026-11-27T08:00:14.622Z",
  "executor": "http", "prompt_tokens": 0, "completion_tokens": 0, "attempt_count": 2, "paused_schedule": true, "trigger": "BACKFILL",
  "attempts": [
    {"attempt": 1, "status": "FAILED", "error_message": "answered 502", "model_used": null, "prompt_tokens": 0, "completion_tokens": 0,
     "total_tokens": 0, "total_cost_usd": 0, "max_tokens": null, "started_at": "2026-11-27T08:00:00.402Z", "completed_at": "2026-11-27T08:00:01.130Z", "duration_ms": 728},
    {"attempt": 2, "status": "FAILED", "error_message": "answered 502", "model_used": null, "prompt_tokens": 0, "completion_tokens": 0,
     "total_tokens": 0, "total_cost_usd": 0, "max_tokens": null, "started_at": "2026-11-27T08:00:11.130Z", "completed_at": "2026-11-27T08:00:14.622Z", "duration_ms": 3492}
  ],
  "notifications": [
    {"event_id": "9b2e61f4-0c7d-5a38-8e41-2f6d3c9a7b15", "kind": "FAILED", "url": "https://hooks.example.com/x", "delivered": true,
     "attempts": 2, "status_code": 204, "last_error": null, "last_attempt_at": "2026-11-27T08:00:20.5Z", "next_attempt_at": null},
    {"event_id": "4c8a2d71-e5b3-5f90-a6c2-7d1e9b3f0a68", "kind": "SCHEDULE_PAUSED", "url": "https://hooks.example.com/x", "delivered": false,
     "attempts": 1, "status_code": 503, "last_error": "notification receiver answered 503", "last_attempt_at": "2026-11-27T08:00:15Z", "next_attempt_at": "2026-11-27T08:00:20Z"}
  ]
}`

const runsJSON = `{"runs": [{
  "id": "9a0e7c41-2b6d-4f3e-8a15-c7d2e4b90f16", "workflow_id": "w1", "query": "q", "status": "COMPLETED", "result": "done",
  "error_message": null, "model_used": "gpt-4o-mini", "provider": "openai", "total_tokens": 8035, "total_cost_usd": 0.0123,
  "duration_ms": 14210, "triggered_at": "2026-11-27T08:00:00Z", "started_at": "2026-11-27T08:00:00.412Z",
  "completed_at": "2026-11-27T08:00:14.622Z", "executor": "llm", "prompt_tokens": 7412, "completion_tokens": 623,
  "attempt_count": 1, "paused_schedule": false, "trigger": "SCHEDULED"
}, {
  "id": "5d3b9f20-8e4a-4c61-b7d9-0a2f6e1c8b47", "workflow_id": "w2", "query": "q", "status": "RUNNING", "result": null,
  "error_message": null, "model_used": null, "provider": null, "total_tokens": 0, "total_cost_usd": 0,
  "duration_ms": null, "triggered_at": "2026-11-28T08:00:00Z", "started_at": "2026-11-28T08:00:00.5Z",
  "completed_at": null, "executor": null, "prompt_tokens": 0, "completion_tokens": 0, "attempt_count": 0, "paused_schedule": false, "trigger": "MANUAL"
}], "total": 2, "page": 1, "page_size": 20, "next_cursor": null, "schedule_status": "PAUSED", "schedule_pause_reason": "3 consecutive runs\ndid not complete"}`

const previewJSON = `{"cron_expression": "0 9 * * MON-FRI", "timezone": "Europe/Berlin", "description": "At 09:00, Monday through Friday",
  "times": ["2026-11-30T09:00:00+01:00", "2026-12-01T09:00:00+01:00", "2026-12-02T09:00:00+01:00"],
  "previous_run_at": "2026-11-27T09:00:00+01:00"}`
