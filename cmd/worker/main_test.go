package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/config"
	"schedsvc/schedules"
)

func TestBuildExecutors(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) config.Config {
		t.Helper()
		cfg, err := config.Load(func(k string) string { return env[k] })
		require.NoError(t, err)
		return cfg
	}
	// What `make run` passes.
	got, err := buildExecutors(load(map[string]string{
		"EXECUTORS_ENABLED": "http,echo", "TASK_ENDPOINT_URL": "http://127.0.0.1:8090/task", "TASK_ENDPOINT_SECRET": "0123456789abcdef0123",
	}))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Contains(t, got, schedules.ExecutorEcho)

	got, err = buildExecutors(load(map[string]string{
		"EXECUTORS_ENABLED": "llm,workflow", "EXECUTOR_DEFAULT": "llm", "LLM_PRICES": "gpt-4o-mini=0.15/0.60",
		"CHILD_WORKFLOW_TYPE": "PlatformTask", "CHILD_WORKFLOW_TASK_QUEUE": "platform",
	}))
	require.NoError(t, err)
	require.Len(t, got, 1, "the workflow executor runs in the workflow, not in an activity")

	for name, env := range map[string]map[string]string{
		"http without secret":      {"TASK_ENDPOINT_URL": "http://127.0.0.1:8090/task"},
		"http to a file URL":       {"TASK_ENDPOINT_URL": "file:///etc/passwd", "TASK_ENDPOINT_SECRET": "0123456789abcdef0123"},
		"llm without a price":      {"EXECUTORS_ENABLED": "http,llm", "TASK_ENDPOINT_URL": "http://x", "TASK_ENDPOINT_SECRET": "0123456789abcdef0123"},
		"workflow without a queue": {"EXECUTORS_ENABLED": "workflow", "EXECUTOR_DEFAULT": "workflow", "CHILD_WORKFLOW_TYPE": "T"},
	} {
		_, err := buildExecutors(load(env))
		require.Error(t, err, name)
	}

	_, err = config.Load(func(k string) string {
		return map[string]string{"EXECUTORS_ENABLED": "llm", "EXECUTOR_DEFAULT": "http"}[k]
	})
	require.ErrorContains(t, err, "EXECUTOR_DEFAULT")
	_, err = config.Load(func(k string) string { return map[string]string{"EXECUTORS_ENABLED": "http,magic"}[k] })
	require.ErrorContains(t, err, "magic")
}
