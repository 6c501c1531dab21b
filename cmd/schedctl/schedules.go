package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"schedsvc/gen/api"
)

// groups is every command schedctl has, in the order --help lists them.
var groups = []*group{schedulesGroup, runsGroup, cronGroup}

var schedulesGroup = &group{name: "schedules", summary: "create, read, change, pause, resume, run now, backfill and delete schedules", commands: []*command{
	{group: "schedules", name: "list", nargs: 0, summary: "List your schedules, newest first",
		detail: "Pages by number (--page) or, faster for deep paging, by --cursor: the table ends with the\ncursor of the next page.",
		flags:  listSchedules},
	{group: "schedules", name: "get", args: "<schedule-id>", nargs: 1, summary: "Show one schedule with its counters and next runs",
		flags: getSchedule},
	{group: "schedules", name: "create", nargs: 0, summary: "Create a schedule",
		detail: createDetail, flags: createSchedule},
	{group: "schedules", name: "update", args: "<schedule-id>", nargs: 1, summary: "Change fields of a schedule (only those given)",
		detail: updateDetail, flags: updateSchedule},
	{group: "schedules", name: "pause", args: "<schedule-id>", nargs: 1, summary: "Pause a schedule (no runs until resumed)",
		flags: pauseOrResume(pause)},
	{group: "schedules", name: "resume", args: "<schedule-id>", nargs: 1, summary: "Resume a paused schedule",
		flags: pauseOrResume(resume)},
	{group: "schedules", name: "delete", args: "<schedule-id>", nargs: 1, summary: "Delete a schedule (its run history is kept)",
		flags: deleteSchedule},
	triggerCommand,
	backfillCommand,
	eventsCommand,
}}

const createDetail = `
The fields come from flags, from a JSON body (-f file.json, or -f - for standard input), or
both: a flag replaces that field of the body. --name, --cron and --query are required unless
the body has them; the service fills in the defaults of the others.

  schedctl schedules create --name 'Weekday digest' --cron '0 9 * * MON-FRI' \
    --timezone Europe/Berlin --query "Summarise yesterday's support tickets"
  schedctl schedules create -f schedule.json --idempotency-key "$(uuidgen)"`

const updateDetail = `
Only the fields given change (a partial update). The fields come from flags, from a JSON body
(-f file.json, or -f - for standard input), or both: a flag replaces that field of the body.
--max-attempts and the backoffs replace the whole retry policy.

  schedctl schedules update 3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05 --cron '0 10 * * MON-FRI'`

func listSchedules(fs *flag.FlagSet) action {
	var page, pageSize optInt
	var status, cursor optString
	fs.Var(&page, "page", "1-based page `number` (ignored with --cursor)")
	fs.Var(&pageSize, "page-size", "schedules per page, 1-100 (default 50)")
	fs.Var(&cursor, "cursor", "the next-page `cursor` a previous list printed")
	fs.Var(&status, "status", "only schedules with this `status`: ACTIVE or PAUSED")
	return func(ctx context.Context, s *session, _ []string) error {
		params := &api.ListSchedulesParams{Page: page.v, PageSize: pageSize.v, Cursor: cursor.v}
		if status.v != nil {
			st := api.ScheduleStatus(*status.v)
			params.Status = &st
		}
		resp, err := s.client.ListSchedules(ctx, params)
		return show(s, resp, err, writeScheduleList)
	}
}

func getSchedule(_ *flag.FlagSet) action {
	return func(ctx context.Context, s *session, args []string) error {
		id, err := parseID("schedule id", args[0])
		if err != nil {
			return err
		}
		resp, err := s.client.GetSchedule(ctx, id)
		return show(s, resp, err, writeSchedule)
	}
}

// scheduleFields are the flags of the fields create and update share.
type scheduleFields struct {
	file                                 string
	name, description, cron, timezone    optString
	query, context, executor, overlap    optString
	budget                               optFloat
	timeout, pauseAfter                  optInt
	maxAttempts, initBackoff, maxBackoff optInt
	clearContext                         optBool // update only
}

func (f *scheduleFields) register(fs *flag.FlagSet, update bool) {
	fs.StringVar(&f.file, "f", "", "read the request body (JSON) from this `file`; - is standard input")
	fs.Var(&f.name, "name", "display `name`, 1-200 characters")
	fs.Var(&f.description, "description", "free-text `description`")
	fs.Var(&f.cron, "cron", "standard 5-field cron `expression`, e.g. '0 9 * * MON-FRI'")
	fs.Var(&f.timezone, "timezone", "IANA `zone` the expression runs in (create's default: UTC)")
	fs.Var(&f.query, "query", "the task `query`: what each run does")
	fs.Var(&f.context, "context", "task context, a JSON `object`, e.g. '{\"channel\":\"#ops\"}'")
	fs.Var(&f.budget, "budget", "maximum spend per run in `USD` (create's default: 1.0)")
	fs.Var(&f.timeout, "timeout-seconds", "maximum run duration in `seconds`, 1-86400 (create's default: 600)")
	fs.Var(&f.executor, "executor", "`executor` of each run: llm, http, workflow or echo")
	fs.Var(&f.overlap, "overlap", "overlap `policy`: SKIP, BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER or ALLOW_ALL")
	fs.Var(&f.pauseAfter, "pause-after-failures", "pause after `n` consecutive failed runs; 0 never")
	fs.Var(&f.maxAttempts, "max-attempts", "retry policy: `attempts` per run, 1-10")
	fs.Var(&f.initBackoff, "initial-backoff", "retry policy: `seconds` before the second attempt (default 10)")
	fs.Var(&f.maxBackoff, "max-backoff", "retry policy: longest wait between attempts in `seconds` (default 300)")
	if update {
		fs.Var(&f.clearContext, "clear-context", "remove the task context")
	}
}

// body is the request body: the -f document, if any, with every given flag set over it. It is
// sent as is, so a field this version of schedctl does not know still reaches the service.
func (f *scheduleFields) body(stdin io.Reader) (map[string]any, error) {
	body := map[string]any{}
	if f.file != "" {
		doc, err := readBody(f.file, stdin)
		if err != nil {
			return nil, err
		}
		body = doc
	}
	set := func(key string, v any, given bool) {
		if given {
			body[key] = v
		}
	}
	set("name", strText(f.name.v), f.name.v != nil)
	set("description", strText(f.description.v), f.description.v != nil)
	set("cron_expression", strText(f.cron.v), f.cron.v != nil)
	set("timezone", strText(f.timezone.v), f.timezone.v != nil)
	set("task_query", strText(f.query.v), f.query.v != nil)
	set("executor", strText(f.executor.v), f.executor.v != nil)
	set("overlap_policy", strText(f.overlap.v), f.overlap.v != nil)
	if f.budget.v != nil {
		body["max_budget_per_run_usd"] = *f.budget.v
	}
	if f.timeout.v != nil {
		body["timeout_seconds"] = *f.timeout.v
	}
	if f.pauseAfter.v != nil {
		body["pause_after_failures"] = *f.pauseAfter.v
	}
	if f.clearContext.v != nil {
		body["clear_task_context"] = *f.clearContext.v
	}
	if f.context.v != nil {
		var obj map[string]any
		if err := json.Unmarshal([]byte(*f.context.v), &obj); err != nil || obj == nil {
			return nil, usagef("", "--context must be a JSON object, e.g. '{\"channel\":\"#ops\"}'")
		}
		body["task_context"] = obj
	}
	if f.maxAttempts.v != nil || f.initBackoff.v != nil || f.maxBackoff.v != nil {
		policy, _ := body["retry_policy"].(map[string]any)
		if policy == nil {
			policy = map[string]any{}
		}
		for key, v := range map[string]*int{"max_attempts": f.maxAttempts.v, "initial_backoff_seconds": f.initBackoff.v, "max_backoff_seconds": f.maxBackoff.v} {
			if v != nil {
				policy[key] = *v
			}
		}
		body["retry_policy"] = policy
	}
	return body, nil
}

// readBody reads a JSON object from a file, or from stdin for "-".
func readBody(path string, stdin io.Reader) (map[string]any, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usagef("", "-f %s: %v", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers reach the service exactly as written
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, usagef("", "-f %s: not a JSON object: %v", path, err)
	}
	return doc, nil
}

func createSchedule(fs *flag.FlagSet) action {
	var fields scheduleFields
	fields.register(fs, false)
	var idemKey optString
	fs.Var(&idemKey, "idempotency-key", "`key` sent as Idempotency-Key: a retry with the same key and body creates nothing new")
	return func(ctx context.Context, s *session, _ []string) error {
		body, err := fields.body(s.stdin)
		if err != nil {
			return err
		}
		var missing []string
		for key, flagName := range map[string]string{"name": "--name", "cron_expression": "--cron", "task_query": "--query"} {
			if _, ok := body[key]; !ok {
				missing = append(missing, flagName)
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			return usagef("", "create needs --name, --cron and --query (or those fields in -f); missing %s", strings.Join(missing, ", "))
		}
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		resp, err := s.client.CreateScheduleWithBody(ctx, &api.CreateScheduleParams{IdempotencyKey: idemKey.v}, "application/json", bytes.NewReader(data))
		return show(s, resp, err, writeCreated)
	}
}

func updateSchedule(fs *flag.FlagSet) action {
	var fields scheduleFields
	fields.register(fs, true)
	return func(ctx context.Context, s *session, args []string) error {
		id, err := parseID("schedule id", args[0])
		if err != nil {
			return err
		}
		body, err := fields.body(s.stdin)
		if err != nil {
			return err
		}
		if len(body) == 0 && fields.file == "" {
			return usagef("", "nothing to change: give the fields to change as flags or in -f")
		}
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		resp, err := s.client.UpdateScheduleWithBody(ctx, id, "application/json", bytes.NewReader(data))
		return show(s, resp, err, writeSchedule)
	}
}

type pauseVerb int

const (
	pause pauseVerb = iota
	resume
)

func pauseOrResume(verb pauseVerb) func(fs *flag.FlagSet) action {
	return func(fs *flag.FlagSet) action {
		var reason, idemKey optString
		fs.Var(&reason, "reason", "`reason`, recorded on the schedule (up to 500 characters)")
		fs.Var(&idemKey, "idempotency-key", "`key` sent as Idempotency-Key, so that a retry with the same key changes nothing more")
		return func(ctx context.Context, s *session, args []string) error {
			id, err := parseID("schedule id", args[0])
			if err != nil {
				return err
			}
			body := api.ScheduleActionRequest{Reason: reason.v}
			if verb == pause {
				resp, err := s.client.PauseSchedule(ctx, id, &api.PauseScheduleParams{IdempotencyKey: idemKey.v}, body)
				return show(s, resp, err, writeSchedule)
			}
			resp, err := s.client.ResumeSchedule(ctx, id, &api.ResumeScheduleParams{IdempotencyKey: idemKey.v}, body)
			return show(s, resp, err, writeSchedule)
		}
	}
}

func deleteSchedule(fs *flag.FlagSet) action {
	var idemKey optString
	fs.Var(&idemKey, "idempotency-key", "`key` sent as Idempotency-Key, so that a retry with the same key changes nothing more")
	return func(ctx context.Context, s *session, args []string) error {
		id, err := parseID("schedule id", args[0])
		if err != nil {
			return err
		}
		resp, err := s.client.DeleteSchedule(ctx, id, &api.DeleteScheduleParams{IdempotencyKey: idemKey.v})
		body, err := receive(resp, err)
		if err != nil {
			return err
		}
		if s.output == "json" {
			return writeRaw(s.stdout, body) // 204: there is no body
		}
		if _, err := fmt.Fprintln(s.stdout, "deleted", id); err != nil {
			return err
		}
		return noteReplay(s, resp)
	}
}
