package main

import (
	"context"
	"flag"
	"io"
	"strconv"
	"time"

	"schedsvc/gen/api"
)

var triggerCommand = &command{group: "schedules", name: "trigger", args: "<schedule-id>", nargs: 1,
	summary: "Run a schedule now, once (paused schedules too)",
	detail: `
The run is recorded with trigger MANUAL and counts like any other. --overlap-policy replaces
the schedule's overlap policy for this run (with SKIP nothing starts while a run still goes).

  schedctl schedules trigger 3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05 --overlap-policy ALLOW_ALL`,
	flags: triggerSchedule}

var backfillCommand = &command{group: "schedules", name: "backfill", args: "<schedule-id>", nargs: 1,
	summary: "Run the firings a past range holds",
	detail: `
Runs every firing of the cron expression from --start to --end (both RFC 3339, both included,
end not in the future), each recorded with trigger BACKFILL and its nominal time. The runs
start at once: with the overlap policy SKIP only the first runs, so give --overlap-policy
BUFFER_ALL (one after another) or ALLOW_ALL (side by side) to run them all. The service
refuses a range with more firings than its maximum (100 unless configured otherwise).

  schedctl schedules backfill 3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05 \
    --start 2026-11-23T00:00:00Z --end 2026-11-25T23:59:59Z --overlap-policy BUFFER_ALL`,
	flags: backfillSchedule}

func triggerSchedule(fs *flag.FlagSet) action {
	var overlap, idemKey optString
	fs.Var(&overlap, "overlap-policy", "`policy` for this run: SKIP, BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER or ALLOW_ALL (default the schedule's)")
	fs.Var(&idemKey, "idempotency-key", "`key` sent as Idempotency-Key, so that a retry with the same key starts nothing more")
	return func(ctx context.Context, s *session, args []string) error {
		id, err := parseID("schedule id", args[0])
		if err != nil {
			return err
		}
		body := api.TriggerRequest{OverlapPolicy: overlapPolicy(overlap.v)}
		resp, err := s.client.TriggerSchedule(ctx, id, &api.TriggerScheduleParams{IdempotencyKey: idemKey.v}, body)
		return show(s, resp, err, writeTriggered)
	}
}

func backfillSchedule(fs *flag.FlagSet) action {
	var start, end, overlap, idemKey optString
	fs.Var(&start, "start", "the range's first RFC 3339 `instant` (required)")
	fs.Var(&end, "end", "the range's last RFC 3339 `instant`, not in the future (required)")
	fs.Var(&overlap, "overlap-policy", "`policy` for these runs: SKIP, BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER or ALLOW_ALL (default the schedule's)")
	fs.Var(&idemKey, "idempotency-key", "`key` sent as Idempotency-Key, so that a retry with the same key starts nothing more")
	return func(ctx context.Context, s *session, args []string) error {
		id, err := parseID("schedule id", args[0])
		if err != nil {
			return err
		}
		from, err := instantFlag("start", start.v)
		if err != nil {
			return err
		}
		to, err := instantFlag("end", end.v)
		if err != nil {
			return err
		}
		body := api.BackfillRequest{Start: from, End: to, OverlapPolicy: overlapPolicy(overlap.v)}
		resp, err := s.client.BackfillSchedule(ctx, id, &api.BackfillScheduleParams{IdempotencyKey: idemKey.v}, body)
		return show(s, resp, err, writeBackfilled)
	}
}

// instantFlag is the required RFC 3339 flag --name.
func instantFlag(name string, v *string) (time.Time, error) {
	if v == nil {
		return time.Time{}, usagef("", "--%s is required: an RFC 3339 time such as 2026-11-28T10:00:00Z", name)
	}
	t, err := time.Parse(time.RFC3339, *v)
	if err != nil {
		return time.Time{}, usagef("", "--%s %q is not an RFC 3339 time such as 2026-11-28T10:00:00Z", name, *v)
	}
	return t, nil
}

// overlapPolicy is the flag's value as the API's; the service checks it.
func overlapPolicy(v *string) *api.OverlapPolicy {
	if v == nil {
		return nil
	}
	p := api.OverlapPolicy(*v)
	return &p
}

func writeTriggered(w io.Writer, t *api.TriggerAccepted) {
	row(w, "Schedule:", t.ScheduleId.String())
	row(w, "Run for:", t.TriggeredAt.Format(time.RFC3339))
}

func writeBackfilled(w io.Writer, b *api.BackfillAccepted) {
	row(w, "Schedule:", b.ScheduleId.String())
	row(w, "Runs:", strconv.Itoa(b.Count))
	for _, t := range b.TriggeredAt {
		row(w, "Run for:", t.Format(time.RFC3339))
	}
}
