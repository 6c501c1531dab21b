package cron

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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
		c, err := Parse("0 0 * * *", zone)
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
func compareLive(t *testing.T, c *Schedule, now time.Time, temporal []time.Time, until time.Time) {
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
		got = append(got, temporal[i].In(c.loc).Format(time.RFC3339))
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
			c, err := Parse(lc.expr, lc.zone)
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
// in-process port of its algorithm (temporalsim_test.go) predicts it.
func TestCronTemporalServerQuirks(t *testing.T) {
	tc := startTemporal(t)
	now := time.Now()
	var report []string
	for _, lc := range liveCases(t, now) {
		if !strings.Contains(lc.name, "spring") && !strings.Contains(lc.name, "fall") {
			continue
		}
		c, err := Parse(lc.expr, lc.zone)
		require.NoError(t, err)
		plain := client.ScheduleSpec{TimeZoneName: lc.zone, Calendars: c.baseCalendars(nil)}
		created := time.Now()
		got := temporalNextTimes(t, tc, plain)
		predicted, err := simTimes(plain, created, got[len(got)-1], len(got))
		require.NoError(t, err)
		require.Equal(t, formatIn(predicted, c.loc), formatIn(got, c.loc), lc.name)

		// Where plain calendars differ from our semantics, say how.
		ours := c.NextN(created, len(got))
		if i, diff := firstDiff(formatTimes(ours), formatIn(got, c.loc)); diff != "" {
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
	c, err := Parse("0 * * * *", "UTC")
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

// TestCronTemporalServerFutureCases: every literal future case (from after
// today, all firings before 2101) is checked both ways: TestCronNextN checks
// our NextN against the literal times, and here a paused schedule with the
// compiled spec and StartAt = from must report the same literal times as its
// first five NextActionTimes.
func TestCronTemporalServerFutureCases(t *testing.T) {
	tc := startTemporal(t)
	require.GreaterOrEqual(t, len(futureCronCases), 40)
	for _, fc := range futureCronCases {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(fc.expr, fc.zone)
			require.NoError(t, err)
			from, err := time.Parse(time.RFC3339, fc.from)
			require.NoError(t, err)
			require.True(t, from.After(time.Now()), "from %s must lie in the future", fc.from)
			require.NotEqual(t, from, c.Next(from.Add(-time.Second)), "from %s is a firing instant (StartAt is inclusive)", fc.from)
			last, err := time.Parse(time.RFC3339, fc.want[len(fc.want)-1])
			require.NoError(t, err)
			require.LessOrEqual(t, last.Year(), temporalMaxYear)
			require.Equal(t, fc.want, formatTimes(c.NextN(from, len(fc.want))), "our NextN")

			// A spec whose horizon covers all five firings.
			spec := c.temporalSpec(from, last.Add(24*time.Hour))
			spec.StartAt = from
			got := temporalNextTimes(t, tc, spec)
			require.GreaterOrEqual(t, len(got), len(fc.want))
			require.Equal(t, fc.want, formatIn(got[:len(fc.want)], c.loc), "Temporal, long-horizon spec")

			// The production spec compiled at `from`: exact up to SpecRefreshAfter(from).
			spec = c.TemporalSpec(from)
			spec.StartAt = from
			got = temporalNextTimes(t, tc, spec)
			want := fc.want
			if until := c.SpecRefreshAfter(from); !until.IsZero() {
				for len(want) > 0 && mustParse(t, want[len(want)-1]).After(until) {
					want = want[:len(want)-1]
				}
			}
			require.GreaterOrEqual(t, len(got), len(want))
			require.Equal(t, want, formatIn(got[:len(want)], c.loc), "Temporal, production spec")
		})
	}
}

func mustParse(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return ts
}

// readFuzzCorpus reads the FuzzParseCron inputs stored in
// testdata/fuzz/FuzzParseCron ("go test fuzz v1" files: a string, an int64
// and a uint8/byte line).
func readFuzzCorpus(t *testing.T) []fuzzCronInput {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", "FuzzParseCron")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []fuzzCronInput
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		require.Len(t, lines, 4, "%s", e.Name())
		require.Equal(t, "go test fuzz v1", strings.TrimSpace(lines[0]), "%s", e.Name())
		arg := func(line, typ string) string {
			line = strings.TrimSpace(line)
			require.True(t, strings.HasPrefix(line, typ+"(") && strings.HasSuffix(line, ")"), "%s: %q is not %s(...)", e.Name(), line, typ)
			return line[len(typ)+1 : len(line)-1]
		}
		var in fuzzCronInput
		in.expr, err = strconv.Unquote(arg(lines[1], "string"))
		require.NoError(t, err, "%s: string", e.Name())
		in.fromUnix, err = strconv.ParseInt(arg(lines[2], "int64"), 0, 64)
		require.NoError(t, err, "%s: int64", e.Name())
		if l := strings.TrimSpace(lines[3]); strings.HasPrefix(l, "byte(") {
			r, _, tail, err := strconv.UnquoteChar(strings.TrimSuffix(strings.TrimPrefix(arg(l, "byte"), "'"), "'"), '\'')
			require.NoError(t, err, "%s: byte", e.Name())
			require.Empty(t, tail, "%s: byte", e.Name())
			require.Less(t, r, rune(256), "%s: byte", e.Name())
			in.zone = uint8(r)
		} else {
			v, err := strconv.ParseUint(arg(l, "uint8"), 0, 8)
			require.NoError(t, err, "%s: uint8", e.Name())
			in.zone = uint8(v)
		}
		out = append(out, in)
	}
	return out
}

// TestCronTemporalServerFuzzCorpus: every accepted expression of the fuzz
// corpus (seeds and testdata/fuzz/FuzzParseCron), with the zone its input
// selects, gives the same next times from NextN and from a paused schedule
// on the real server with the production spec, up to SpecRefreshAfter.
func TestCronTemporalServerFuzzCorpus(t *testing.T) {
	corpus := readFuzzCorpus(t)
	require.NotEmpty(t, corpus, "testdata/fuzz/FuzzParseCron is empty")
	tc := startTemporal(t)
	type key struct{ expr, zone string }
	seen := map[key]bool{}
	accepted := 0
	for _, in := range append(append([]fuzzCronInput{}, fuzzParseCronSeeds...), corpus...) {
		k := key{in.expr, in.zoneName()}
		if seen[k] {
			continue
		}
		seen[k] = true
		c, err := Parse(k.expr, k.zone)
		if err != nil {
			continue
		}
		accepted++
		t.Run(fmt.Sprintf("%q|%s", k.expr, k.zone), func(t *testing.T) {
			t.Parallel()
			now := time.Now()
			until := c.SpecRefreshAfter(now)
			if until.IsZero() {
				until = now.AddDate(20, 0, 0)
			}
			got := temporalNextTimes(t, tc, c.TemporalSpec(now))
			compareLive(t, c, now, got, until)
		})
	}
	t.Logf("fuzz corpus: %d inputs (%d seeds, %d files), %d distinct (expression, zone), %d accepted and compared",
		len(fuzzParseCronSeeds)+len(corpus), len(fuzzParseCronSeeds), len(corpus), len(seen), accepted)
}
