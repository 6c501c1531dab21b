package main

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
)

// render decodes an answer as show does and lays it out with table.
func render[T any](t *testing.T, body string, table func(io.Writer, *T)) string {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	var buf bytes.Buffer
	tw := newTable(&buf)
	table(tw, &v)
	require.NoError(t, tw.Flush())
	return buf.String()
}

func TestScheduleListTable(t *testing.T) {
	t.Parallel()
	require.Equal(t, ""+
		"ID                                    NAME                                      STATUS  CRON             TIMEZONE       NEXT RUN              RUNS  LAST RUN\n"+
		"3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05  Weekday support digest                    PAUSED  0 9 * * MON-FRI  Europe/Berlin  -                     6     2026-11-27T08:00:00Z\n"+
		"5d3b9f20-8e4a-4c61-b7d9-0a2f6e1c8b47  A name far longer than the forty charac…  ACTIVE  @hourly          UTC            2026-11-30T09:00:00Z  0     -\n"+
		"\n"+
		"2 of 7 schedules (page 1, page size 2); next page: --cursor eyJjIjoiMjAyNi0xMS0xOVQwODowMDowMFoifQ\n",
		render(t, listJSON, writeScheduleList))
}

func TestScheduleFields(t *testing.T) {
	t.Parallel()
	require.Equal(t, ""+
		"ID:                    3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05\n"+
		"Name:                  Weekday support digest\n"+
		"Description:           Summarises yesterday's tickets for the lead\n"+
		"Status:                PAUSED\n"+
		"Cron:                  0 9 * * MON-FRI\n"+
		"Timezone:              Europe/Berlin\n"+
		"Task query:            Summarise yesterday's open support tickets.\n"+
		"Task context:          {\"channel\":\"#support-leads\"}\n"+
		"Executor:              llm\n"+
		"Budget per run:        0.25 USD\n"+
		"Timeout:               600 s\n"+
		"Retry policy:          3 attempts, backoff 10 s to 300 s\n"+
		"Overlap policy:        SKIP\n"+
		"Pause after failures:  3 consecutive failed runs\n"+
		"Notify:                -\n"+
		"Next run:              -\n"+
		"Next runs:             -\n"+
		"Previous firing:       2026-11-27T09:00:00+01:00\n"+
		"Last run:              2026-11-27T08:00:00Z\n"+
		"Runs:                  6 total, 5 successful, 1 failed, 2 skipped; 0 consecutive failures\n"+
		"Tokens:                48210\n"+
		"Cost:                  0.0723 USD\n"+
		"Paused:                2026-11-27T10:00:00Z by user_8f2d41: Quarter-end freeze\n"+
		"Resumed:               -\n"+
		"Owner:                 user_8f2d41 (tenant acme-eu)\n"+
		"Created:               2026-11-20T08:15:30Z\n"+
		"Updated:               2026-11-27T10:00:00Z\n",
		render(t, scheduleJSON, writeSchedule))

	var l api.ScheduleList
	require.NoError(t, json.Unmarshal([]byte(listJSON), &l))
	var buf bytes.Buffer
	writeSchedule(&buf, &l.Schedules[1])
	out := buf.String()
	require.Contains(t, out, "Next runs:\t2026-11-30T09:00:00Z, 2026-11-30T10:00:00Z\n")
	require.Contains(t, out, "Pause after failures:\tnever\n")
	require.Contains(t, out, "Task context:\t-\n")
	require.Contains(t, out, "Retry policy:\t1 attempt, no retry\n")
}

func TestRunListTable(t *testing.T) {
	t.Parallel()
	require.Equal(t, ""+
		"ID                                    STATUS     TRIGGER    TRIGGERED             STARTED               DURATION  ATTEMPTS  TOKENS  COST        EXECUTOR\n"+
		"9a0e7c41-2b6d-4f3e-8a15-c7d2e4b90f16  COMPLETED  SCHEDULED  2026-11-27T08:00:00Z  2026-11-27T08:00:00Z  14.21s    1         8035    0.0123 USD  llm\n"+
		"5d3b9f20-8e4a-4c61-b7d9-0a2f6e1c8b47  RUNNING    MANUAL     2026-11-28T08:00:00Z  2026-11-28T08:00:00Z  -         0         0       0 USD       -\n"+
		"\n"+
		"2 of 2 runs (page 1, page size 20)\n"+
		"The schedule is PAUSED: 3 consecutive runs did not complete\n",
		render(t, runsJSON, writeRunList))
}

func TestRunDetailFields(t *testing.T) {
	t.Parallel()
	require.Equal(t, ""+
		"ID:                   9a0e7c41-2b6d-4f3e-8a15-c7d2e4b90f16\n"+
		"Status:               FAILED\n"+
		"Workflow:             scheduled-run-3f6c2a8e-2026-11-27T08:00:00Z\n"+
		"Query:                Summarise yesterday's open support tickets.\n"+
		"Triggered:            2026-11-27T08:00:00Z\n"+
		"Trigger:              BACKFILL\n"+
		"Started:              2026-11-27T08:00:00.412Z\n"+
		"Completed:            2026-11-27T08:00:14.622Z\n"+
		"Duration:             14.21s\n"+
		"Executor:             http\n"+
		"Model:                -\n"+
		"Provider:             -\n"+
		"Tokens:               0 (prompt 0, completion 0)\n"+
		"Cost:                 0 USD\n"+
		"Result:               -\n"+
		"Error:                task endpoint answered 502 Bad Gateway: upstream model exploded\n"+
		"Paused the schedule:  true\n"+
		"Attempts:             2\n"+
		"\n"+
		"ATTEMPT  STATUS  STARTED                   DURATION  TOKENS  COST   ERROR\n"+
		"1        FAILED  2026-11-27T08:00:00.402Z  728ms     0       0 USD  answered 502\n"+
		"2        FAILED  2026-11-27T08:00:11.13Z   3.492s    0       0 USD  answered 502\n"+
		"\n"+
		"NOTIFICATION     DELIVERED  ATTEMPTS  STATUS  LAST ATTEMPT            NEXT ATTEMPT          ERROR\n"+
		"FAILED           true       2         204     2026-11-27T08:00:20.5Z  -                     -\n"+
		"SCHEDULE_PAUSED  false      1         503     2026-11-27T08:00:15Z    2026-11-27T08:00:20Z  notification receiver answered 503\n",
		render(t, runJSON, writeRunDetail))
}

func TestPreviewFields(t *testing.T) {
	t.Parallel()
	require.Equal(t, ""+
		"Expression:  0 9 * * MON-FRI\n"+
		"Timezone:    Europe/Berlin\n"+
		"Meaning:     At 09:00, Monday through Friday\n"+
		"Previous:    2026-11-27T09:00:00+01:00\n"+
		"Next:        2026-11-30T09:00:00+01:00\n"+
		"             2026-12-01T09:00:00+01:00\n"+
		"             2026-12-02T09:00:00+01:00\n",
		render(t, previewJSON, writePreview))
}

func TestCellsNeverBreakTheTable(t *testing.T) {
	t.Parallel()
	require.Equal(t, "-", cell(""))
	require.Equal(t, "a b c", cell("a\tb\nc"))
	require.Equal(t, "abc", truncate("abc", 3))
	require.Equal(t, "ab…", truncate("abcd", 3))
	require.Equal(t, "äö…", truncate("äöüß", 3), "counts characters, not bytes")
}
