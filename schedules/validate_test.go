package schedules

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/config"
	"schedsvc/problem"
)

// testLimits are the configured defaults with the llm, http and workflow
// executors enabled.
func testLimits(t *testing.T) Limits {
	t.Helper()
	c, err := config.Load(func(k string) string {
		return map[string]string{"EXECUTORS_ENABLED": "llm,http,workflow"}[k]
	})
	require.NoError(t, err)
	return c.Limits
}

func TestValidate(t *testing.T) {
	t.Parallel()
	m := rules{limits: testLimits(t)}
	valid := func() Schedule {
		return Schedule{
			Name:               "digest",
			CronExpression:     "0 9 * * MON-FRI",
			Timezone:           "Europe/Berlin",
			TaskQuery:          "summarise",
			MaxBudgetPerRunUSD: 1,
			TimeoutSeconds:     600,
			Executor:           ExecutorLLM,
			Retry:              RetryPolicy(m.limits.DefaultRetry),
			Overlap:            OverlapSkip,
		}
	}
	_, err := m.validate(valid())
	require.NoError(t, err)

	cases := []struct {
		name   string
		change func(*Schedule)
		kind   problem.Kind
		field  string
	}{
		{"blank name", func(s *Schedule) { s.Name = "  " }, problem.InvalidField, "name"},
		{"blank query", func(s *Schedule) { s.TaskQuery = "" }, problem.InvalidField, "task_query"},
		{"empty timezone", func(s *Schedule) { s.Timezone = "" }, problem.UnknownTimezone, "timezone"},
		{"unknown timezone", func(s *Schedule) { s.Timezone = "Europe/Atlantis" }, problem.UnknownTimezone, "timezone"},
		{"bad cron", func(s *Schedule) { s.CronExpression = "every day" }, problem.InvalidCron, "cron_expression"},
		{"seconds", func(s *Schedule) { s.CronExpression = "0 0 9 * * *" }, problem.InvalidCron, "cron_expression"},
		{"every minute under the 60 minute default", func(s *Schedule) { s.CronExpression = "* * * * *" }, problem.IntervalTooShort, "cron_expression"},
		{"every half hour under the 60 minute default", func(s *Schedule) { s.CronExpression = "*/30 * * * *" }, problem.IntervalTooShort, "cron_expression"},
		{"negative budget", func(s *Schedule) { s.MaxBudgetPerRunUSD = -0.01 }, problem.BudgetExceeded, "max_budget_per_run_usd"},
		{"budget over cap", func(s *Schedule) { s.MaxBudgetPerRunUSD = 10.01 }, problem.BudgetExceeded, "max_budget_per_run_usd"},
		{"zero timeout", func(s *Schedule) { s.TimeoutSeconds = 0 }, problem.InvalidField, "timeout_seconds"},
		{"timeout over a day", func(s *Schedule) { s.TimeoutSeconds = 86401 }, problem.InvalidField, "timeout_seconds"},
		{"executor not enabled", func(s *Schedule) { s.Executor = ExecutorEcho }, problem.InvalidField, "executor"},
		{"no attempts", func(s *Schedule) { s.Retry.MaxAttempts = 0 }, problem.InvalidField, "retry_policy.max_attempts"},
		{"eleven attempts", func(s *Schedule) { s.Retry.MaxAttempts = 11 }, problem.InvalidField, "retry_policy.max_attempts"},
		{"max backoff under initial", func(s *Schedule) { s.Retry.MaxBackoffSeconds = 5 }, problem.InvalidField, "retry_policy.max_backoff_seconds"},
		{"unknown overlap policy", func(s *Schedule) { s.Overlap = "QUEUE" }, problem.InvalidField, "overlap_policy"},
		{"negative pause_after_failures", func(s *Schedule) { s.PauseAfterFailures = -1 }, problem.InvalidField, "pause_after_failures"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			c.change(&s)
			_, err := m.validate(s)
			var verr *problem.Error
			require.True(t, errors.As(err, &verr), "want a problem.Error, got %v", err)
			require.Equal(t, c.kind, verr.Kind)
			require.Equal(t, c.field, verr.Field)
			require.NotEmpty(t, verr.Detail)
		})
	}

	// The cap itself and a zero budget are allowed.
	s := valid()
	s.MaxBudgetPerRunUSD = 10
	_, err = m.validate(s)
	require.NoError(t, err)
	s.MaxBudgetPerRunUSD = 0
	_, err = m.validate(s)
	require.NoError(t, err)

	// A configured minimum applies: one minute allows an every-minute job.
	short := rules{limits: testLimits(t)}
	short.limits.MinInterval = time.Minute
	s = valid()
	s.CronExpression = "* * * * *"
	_, err = short.validate(s)
	require.NoError(t, err)
}
