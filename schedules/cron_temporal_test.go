package schedules

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"schedsvc/devtemporal"
)

// Real-server agreement: for each case a paused schedule is created on a
// real Temporal 1.32 server (schedsvc/devtemporal) with the compiled spec,
// and Temporal's next action times (Describe → Info.NextActionTimes, computed
// by the server from the moment the schedule is created) must equal our
// NextN(now). Temporal cannot be asked "from an arbitrary instant", so the
// DST cases are built from the zones' next transitions after the real now:
// each expression is pinned to the transition's local date, so that the
// next firings fall on that DST day (and on the same date in later years).

func startTemporal(t *testing.T) client.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	t.Cleanup(cancel)
	binary, err := devtemporal.EnsureBinary(ctx, devtemporal.CacheDir(os.Getenv), t.Output())
	require.NoError(t, err)
	srv, err := devtemporal.Start(ctx, devtemporal.Options{Binary: binary})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	c, err := client.Dial(client.Options{HostPort: srv.Address(), Namespace: srv.Namespace()})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

type liveCase struct {
	name, expr, zone string
}

// liveCases builds expressions around the next two transitions of each zone
// after now, plus ordinary-day cases.
func liveCases(t *testing.T, now time.Time) []liveCase {
	cases := []liveCase{
		{"weekdays", "0 9 * * 1-5", "UTC"},
		{"every 15 minutes Kathmandu", "*/15 * * * *", "Asia/Kathmandu"},
		{"daily Kolkata", "30 6 * * *", "Asia/Kolkata"},
		{"13th or Friday", "0 12 13 * FRI", "Europe/Berlin"},
		{"29 February", "0 0 29 2 *", "America/New_York"},
		{"31st", "15 10 31 * *", "Australia/Adelaide"},
	}
	for _, zone := range []string{"America/New_York", "Europe/London", "Australia/Lord_Howe", "Australia/Adelaide",
		"America/Santiago", "Pacific/Auckland", "Pacific/Chatham", "America/Havana"} {
		c, err := ParseCron("0 0 * * *", zone)
		require.NoError(t, err)
		trs := c.transitions(now.Unix(), now.AddDate(2, 0, 0).Unix())
		if len(trs) > 2 {
			trs = trs[:2]
		}
		for _, tr := range trs {
			lo := min(tr.at+tr.offBefore, tr.at+tr.offAfter) // first missing or repeated wall
			kind := "spring"
			if tr.offAfter < tr.offBefore {
				kind = "fall"
			}
			w := time.Unix(lo, 0).UTC()
			day := fmt.Sprintf("%d %d", w.Day(), int(w.Month()))
			in := w.Add(15 * time.Minute) // a wall time inside the gap or overlap
			h0, h1 := max(w.Hour()-1, 0), min(w.Hour()+2, 23)
			cases = append(cases,
				liveCase{fmt.Sprintf("%s %s fixed %02d:%02d", zone, kind, in.Hour(), in.Minute()),
					fmt.Sprintf("%d %d %s *", in.Minute(), in.Hour(), day), zone},
				liveCase{fmt.Sprintf("%s %s fixed %02d:00", zone, kind, w.Hour()),
					fmt.Sprintf("0 %d %s *", w.Hour(), day), zone},
				liveCase{fmt.Sprintf("%s %s fixed twice an hour", zone, kind),
					fmt.Sprintf("0,30 %d-%d %s *", h0, h1, day), zone},
				liveCase{fmt.Sprintf("%s %s wildcard quarter hours", zone, kind),
					fmt.Sprintf("0,15,30,45 * %s *", day), zone},
				liveCase{fmt.Sprintf("%s %s wildcard every 20 minutes", zone, kind),
					fmt.Sprintf("*/20 %d-%d %s *", h0, h1, day), zone},
			)
		}
	}
	return cases
}

var liveScheduleSeq atomic.Int64

// temporalNextTimes creates a paused schedule with the spec and returns
// Temporal's next action times.
func temporalNextTimes(t *testing.T, tc client.Client, spec client.ScheduleSpec) []time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id := fmt.Sprintf("cron-agreement-%d-%d", time.Now().UnixNano(), liveScheduleSeq.Add(1))
	h, err := tc.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:     id,
		Spec:   spec,
		Paused: true,
		Action: &client.ScheduleWorkflowAction{ID: id, Workflow: "CronAgreementProbe", TaskQueue: "cron-agreement"},
	})
	require.NoError(t, err)
	defer func() { _ = h.Delete(context.Background()) }()
	var desc *client.ScheduleDescription
	require.Eventually(t, func() bool {
		desc, err = h.Describe(ctx)
		return err == nil && len(desc.Info.NextActionTimes) > 0
	}, 30*time.Second, 100*time.Millisecond, "describe: %v", err)
	return desc.Info.NextActionTimes
}

// compareLive checks Temporal's times against ours: ours are computed from
// `now` (taken just before the schedule was created), so a firing of ours in
// the few seconds before Temporal's own base time may be missing there.
func compareLive(t *testing.T, c *CronSchedule, now time.Time, temporal []time.Time, until time.Time) {
	t.Helper()
	ours := c.NextN(now, len(temporal)+1)
	for len(ours) > 0 && len(temporal) > 0 && ours[0].Before(temporal[0]) && ours[0].Sub(now) < time.Minute {
		ours = ours[1:]
	}
	var want, got []string
	for i := range temporal {
		if temporal[i].After(until) || i >= len(ours) {
			break
		}
		want = append(want, ours[i].Format(time.RFC3339))
		got = append(got, temporal[i].In(c.Location()).Format(time.RFC3339))
	}
	require.Equal(t, want, got)
}

func TestCronTemporalServerAgreement(t *testing.T) {
	tc := startTemporal(t)
	now := time.Now()
	cases := liveCases(t, now)
	require.GreaterOrEqual(t, len(cases), 40)
	for _, lc := range cases {
		t.Run(lc.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCron(lc.expr, lc.zone)
			require.NoError(t, err)

			// A long horizon: Temporal's ten next times (up to ten years
			// ahead for the date-pinned cases) are all compiled exactly.
			now := time.Now()
			horizon := now.AddDate(12, 0, 0)
			got := temporalNextTimes(t, tc, c.temporalSpec(now, horizon))
			require.Len(t, got, 10)
			compareLive(t, c, now, got, horizon)

			// The production spec: exact up to SpecRefreshAfter.
			now = time.Now()
			until := c.SpecRefreshAfter(now)
			if until.IsZero() {
				until = horizon
			}
			got = temporalNextTimes(t, tc, c.TemporalSpec(now))
			compareLive(t, c, now, got, until)
		})
	}
}

// TestCronTemporalServerQuirks records what the real server does with plain
// zone calendars (no DST fix-up) on the same dates, and checks that the
// in-process port of its algorithm (cron_temporalsim_test.go) predicts it.
func TestCronTemporalServerQuirks(t *testing.T) {
	tc := startTemporal(t)
	now := time.Now()
	var report []string
	for _, lc := range liveCases(t, now) {
		if !strings.Contains(lc.name, "spring") && !strings.Contains(lc.name, "fall") {
			continue
		}
		c, err := ParseCron(lc.expr, lc.zone)
		require.NoError(t, err)
		plain := client.ScheduleSpec{TimeZoneName: lc.zone, Calendars: c.baseCalendars(nil)}
		created := time.Now()
		got := temporalNextTimes(t, tc, plain)
		predicted, err := simTimes(plain, created, got[len(got)-1], len(got))
		require.NoError(t, err)
		require.Equal(t, formatIn(predicted, c.Location()), formatIn(got, c.Location()), lc.name)

		// Where plain calendars differ from our semantics, say how.
		ours := c.NextN(created, len(got))
		if i, diff := firstDiff(formatTimes(ours), formatIn(got, c.Location())); diff != "" {
			report = append(report, fmt.Sprintf("%-55s %-22q firing #%d: %s", lc.name, lc.expr, i, diff))
		}
	}
	t.Logf("plain zone calendars on Temporal 1.32 vs our semantics:\n%s", strings.Join(report, "\n"))
}

// TestTemporalStartAtSemantics pins how the server treats ScheduleSpec.StartAt
// (the basis of the literal future cases): NextActionTimes are computed from
// StartAt when it lies in the future, and StartAt itself is included when it
// is a firing instant (our Next is strictly after `from`).
func TestTemporalStartAtSemantics(t *testing.T) {
	tc := startTemporal(t)
	c, err := ParseCron("0 * * * *", "UTC")
	require.NoError(t, err)
	for _, tt := range []struct {
		startAt string
		want    []string
	}{
		{"2027-01-01T00:30:00Z", []string{"2027-01-01T01:00:00Z", "2027-01-01T02:00:00Z"}},
		{"2027-01-01T01:00:00Z", []string{"2027-01-01T01:00:00Z", "2027-01-01T02:00:00Z"}},
		{"2027-01-01T00:59:59Z", []string{"2027-01-01T01:00:00Z", "2027-01-01T02:00:00Z"}},
	} {
		from, err := time.Parse(time.RFC3339, tt.startAt)
		require.NoError(t, err)
		spec := c.TemporalSpec(from)
		spec.StartAt = from
		got := temporalNextTimes(t, tc, spec)
		require.GreaterOrEqual(t, len(got), 2)
		t.Logf("StartAt %s: %d times, first %v", tt.startAt, len(got), formatIn(got[:3], time.UTC))
		require.Equal(t, tt.want, formatIn(got[:2], time.UTC), "StartAt %s", tt.startAt)
	}
}
