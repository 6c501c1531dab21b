package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"schedsvc/gen/api"
)

// maxAnswerBytes bounds what is read of one answer (a page of 100 runs with long results is far
// less).
const maxAnswerBytes = 32 << 20

// receive turns one call of the generated client into the answer's body, or the error to report:
// no answer, or an answer outside 2xx.
func receive(resp *http.Response, err error) ([]byte, error) {
	if err != nil {
		var u *url.Error
		if errors.As(err, &u) {
			return nil, &noAnswerError{err: err}
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, &noAnswerError{err: fmt.Errorf("read the answer: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(resp, body)
	}
	return body, nil
}

// show writes a 2xx answer: its body as is for -o json, else decoded into T and laid out by
// table for people.
func show[T any](s *session, resp *http.Response, err error, table func(w io.Writer, v *T)) error {
	body, err := receive(resp, err)
	if err != nil {
		return err
	}
	if s.output == "json" {
		return writeRaw(s.stdout, body)
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("unexpected answer (%d, %d bytes) that is not the API's JSON: %w", resp.StatusCode, len(body), err)
	}
	tw := newTable(s.stdout)
	table(tw, &v)
	if err := tw.Flush(); err != nil {
		return err
	}
	return noteReplay(s, resp)
}

// noteReplay tells a person when the answer is an earlier one replayed for the same
// Idempotency-Key, so that nothing was done this time.
func noteReplay(s *session, resp *http.Response) error {
	if resp.Header.Get("Idempotent-Replayed") != "true" {
		return nil
	}
	_, err := fmt.Fprintln(s.stdout, "(replayed: the answer to an earlier request with this Idempotency-Key; nothing changed now)")
	return err
}

// writeRaw writes the body exactly as it came, ending it with a newline if it has none.
func writeRaw(w io.Writer, body []byte) error {
	if len(body) == 0 {
		return nil
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if body[len(body)-1] != '\n' {
		_, err := io.WriteString(w, "\n")
		return err
	}
	return nil
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one line of tab-separated cells; a cell never breaks the table (tabs and newlines
// in user text become spaces).
func row(w io.Writer, cells ...string) {
	for i, c := range cells {
		cells[i] = cell(c)
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// truncate shortens s to at most n runes for a table column.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339)
}

// timeMillis is RFC 3339 to the millisecond, for when a run started and ended.
const timeMillis = "2006-01-02T15:04:05.999Z07:00"

func timeMs(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(timeMillis)
}

func strText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func usd(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " USD" }

func durationText(ms *int64) string {
	if ms == nil {
		return ""
	}
	return (time.Duration(*ms) * time.Millisecond).String()
}

func compactJSON(m *map[string]any) string {
	if m == nil {
		return ""
	}
	b, err := json.Marshal(*m)
	if err != nil {
		return fmt.Sprint(*m)
	}
	return string(b)
}

// nextPage says how to ask for the page after this one, if there is one.
func nextPage(w io.Writer, what string, shown int, total int64, page, pageSize int, cursor *string) {
	fmt.Fprintf(w, "\n%d of %d %s (page %d, page size %d)", shown, total, what, page, pageSize)
	if cursor != nil {
		fmt.Fprintf(w, "; next page: --cursor %s", *cursor)
	}
	fmt.Fprintln(w)
}

func writeScheduleList(w io.Writer, l *api.ScheduleList) {
	row(w, "ID", "NAME", "STATUS", "CRON", "TIMEZONE", "NEXT RUN", "RUNS", "LAST RUN")
	for _, s := range l.Schedules {
		row(w, s.Id.String(), truncate(s.Name, 40), string(s.Status), s.CronExpression, s.Timezone,
			timeText(s.NextRunAt), strconv.FormatInt(s.TotalRuns, 10), timeText(s.LastRunAt))
	}
	nextPage(w, "schedules", len(l.Schedules), l.Total, l.Page, l.PageSize, l.NextCursor)
}

// writeSchedule lays a schedule out as one field per line.
func writeSchedule(w io.Writer, s *api.Schedule) {
	next := make([]string, len(s.NextRuns))
	for i, t := range s.NextRuns {
		next[i] = t.Format(time.RFC3339)
	}
	fields := [][2]string{
		{"ID", s.Id.String()},
		{"Name", s.Name},
		{"Description", s.Description},
		{"Status", string(s.Status)},
		{"Cron", s.CronExpression},
		{"Timezone", s.Timezone},
		{"Task query", s.TaskQuery},
		{"Task context", compactJSON(s.TaskContext)},
		{"Executor", string(s.Executor)},
		{"Budget per run", usd(s.MaxBudgetPerRunUsd)},
		{"Timeout", strconv.Itoa(s.TimeoutSeconds) + " s"},
		{"Retry policy", retryText(s.RetryPolicy)},
		{"Overlap policy", string(s.OverlapPolicy)},
		{"Pause after failures", pauseAfter(s.PauseAfterFailures)},
		{"Notify", notifyText(s.Notify)},
		{"Next run", timeText(s.NextRunAt)},
		{"Next runs", strings.Join(next, ", ")},
		{"Previous firing", timeText(s.PreviousRunAt)},
		{"Last run", timeText(s.LastRunAt)},
		{"Runs", fmt.Sprintf("%d total, %d successful, %d failed, %d skipped; %d consecutive failures",
			s.TotalRuns, s.SuccessfulRuns, s.FailedRuns, s.SkippedRuns, s.ConsecutiveFailures)},
		{"Tokens", strconv.FormatInt(s.TotalTokens, 10)},
		{"Cost", usd(s.TotalCostUsd)},
		{"Paused", actionText(s.PausedAt, s.PausedBy, s.PauseReason)},
		{"Resumed", actionText(s.ResumedAt, s.ResumedBy, s.ResumeReason)},
		{"Owner", s.UserId + " (tenant " + s.TenantId + ")"},
		{"Created", s.CreatedAt.Format(time.RFC3339)},
		{"Updated", s.UpdatedAt.Format(time.RFC3339)},
	}
	for _, f := range fields {
		row(w, f[0]+":", f[1])
	}
}

func retryText(p api.RetryPolicy) string {
	if p.MaxAttempts == 1 {
		return "1 attempt, no retry"
	}
	return fmt.Sprintf("%d attempts, backoff %d s to %d s", p.MaxAttempts, p.InitialBackoffSeconds, p.MaxBackoffSeconds)
}

func pauseAfter(n int) string {
	if n == 0 {
		return "never"
	}
	return fmt.Sprintf("%d consecutive failed runs", n)
}

// actionText is when a pause or resume happened, who did it and why.
func actionText(at *time.Time, by, reason *string) string {
	if at == nil {
		return ""
	}
	s := timeText(at)
	if by != nil {
		s += " by " + *by
	}
	if reason != nil && *reason != "" {
		s += ": " + *reason
	}
	return s
}

func writeCreated(w io.Writer, c *api.ScheduleCreated) {
	row(w, "ID:", c.ScheduleId.String())
	row(w, "Next run:", timeText(c.NextRunAt))
	row(w, "Message:", c.Message)
}

func writeRunList(w io.Writer, l *api.RunList) {
	row(w, "ID", "STATUS", "TRIGGER", "TRIGGERED", "STARTED", "DURATION", "ATTEMPTS", "TOKENS", "COST", "EXECUTOR")
	for _, r := range l.Runs {
		executor := ""
		if r.Executor != nil {
			executor = string(*r.Executor)
		}
		row(w, r.Id.String(), string(r.Status), string(r.Trigger), r.TriggeredAt.Format(time.RFC3339), r.StartedAt.Format(time.RFC3339),
			durationText(r.DurationMs), strconv.Itoa(r.AttemptCount), strconv.FormatInt(r.TotalTokens, 10),
			usd(r.TotalCostUsd), executor)
	}
	nextPage(w, "runs", len(l.Runs), l.Total, l.Page, l.PageSize, l.NextCursor)
	if l.ScheduleStatus == api.ScheduleStatusPAUSED {
		fmt.Fprintf(w, "The schedule is PAUSED")
		if l.SchedulePauseReason != nil {
			fmt.Fprintf(w, ": %s", cell(*l.SchedulePauseReason))
		}
		fmt.Fprintln(w)
	}
}

// writeRunDetail lays a run out as one field per line, then its attempts as a table.
func writeRunDetail(w io.Writer, r *api.RunDetail) {
	executor := ""
	if r.Executor != nil {
		executor = string(*r.Executor)
	}
	fields := [][2]string{
		{"ID", r.Id.String()},
		{"Status", string(r.Status)},
		{"Workflow", r.WorkflowId},
		{"Query", r.Query},
		{"Triggered", r.TriggeredAt.Format(time.RFC3339)},
		{"Trigger", string(r.Trigger)},
		{"Started", r.StartedAt.Format(timeMillis)},
		{"Completed", timeMs(r.CompletedAt)},
		{"Duration", durationText(r.DurationMs)},
		{"Executor", executor},
		{"Model", strText(r.ModelUsed)},
		{"Provider", strText(r.Provider)},
		{"Tokens", fmt.Sprintf("%d (prompt %d, completion %d)", r.TotalTokens, r.PromptTokens, r.CompletionTokens)},
		{"Cost", usd(r.TotalCostUsd)},
		{"Result", strText(r.Result)},
		{"Error", strText(r.ErrorMessage)},
		{"Paused the schedule", strconv.FormatBool(r.PausedSchedule)},
		{"Attempts", strconv.Itoa(r.AttemptCount)},
	}
	for _, f := range fields {
		row(w, f[0]+":", f[1])
	}
	if len(r.Attempts) > 0 {
		fmt.Fprintln(w)
		row(w, "ATTEMPT", "STATUS", "STARTED", "DURATION", "TOKENS", "COST", "ERROR")
		for _, a := range r.Attempts {
			row(w, strconv.Itoa(a.Attempt), string(a.Status), a.StartedAt.Format(timeMillis),
				durationText(&a.DurationMs), strconv.FormatInt(a.TotalTokens, 10), usd(a.TotalCostUsd), strText(a.ErrorMessage))
		}
	}
	if len(r.Notifications) > 0 {
		fmt.Fprintln(w)
		row(w, "NOTIFICATION", "DELIVERED", "ATTEMPTS", "STATUS", "LAST ATTEMPT", "NEXT ATTEMPT", "ERROR")
		for _, n := range r.Notifications {
			status := ""
			if n.StatusCode != nil {
				status = strconv.Itoa(*n.StatusCode)
			}
			row(w, string(n.Kind), strconv.FormatBool(n.Delivered), strconv.Itoa(n.Attempts), status,
				n.LastAttemptAt.Format(timeMillis), timeMs(n.NextAttemptAt), strText(n.LastError))
		}
	}
}

// notifyText is a schedule's notification setting on one line.
func notifyText(t *api.NotifyTarget) string {
	if t == nil {
		return ""
	}
	on := make([]string, len(t.On))
	for i, k := range t.On {
		on[i] = string(k)
	}
	return t.Url + " on " + strings.Join(on, ", ")
}

func writePreview(w io.Writer, p *api.CronPreview) {
	row(w, "Expression:", p.CronExpression)
	row(w, "Timezone:", p.Timezone)
	row(w, "Meaning:", p.Description)
	row(w, "Previous:", timeText(p.PreviousRunAt))
	for i, t := range p.Times {
		label := ""
		if i == 0 {
			label = "Next:"
		}
		fmt.Fprintf(w, "%s\t%s\n", label, t.Format(time.RFC3339))
	}
}
