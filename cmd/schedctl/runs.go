package main

import (
	"context"
	"flag"

	"schedsvc/gen/api"
)

var runsGroup = &group{name: "runs", summary: "read a schedule's run history", commands: []*command{
	{group: "runs", name: "list", args: "<schedule-id>", nargs: 1, summary: "List a schedule's runs, newest first",
		detail: "Pages by number (--page) or, faster for deep paging, by --cursor: the table ends with the\ncursor of the next page.",
		flags:  listRuns},
	{group: "runs", name: "get", args: "<schedule-id> <run-id>", nargs: 2, summary: "Show one run in full, with every attempt",
		flags: getRun},
}}

func listRuns(fs *flag.FlagSet) action {
	var page, pageSize optInt
	var cursor optString
	fs.Var(&page, "page", "1-based page `number` (ignored with --cursor)")
	fs.Var(&pageSize, "page-size", "`runs` per page, 1-100 (default 20)")
	fs.Var(&cursor, "cursor", "the next-page `cursor` a previous list printed")
	return func(ctx context.Context, s *session, args []string) error {
		id, err := parseID("schedule id", args[0])
		if err != nil {
			return err
		}
		resp, err := s.client.ListScheduleRuns(ctx, id, &api.ListScheduleRunsParams{Page: page.v, PageSize: pageSize.v, Cursor: cursor.v})
		return show(s, resp, err, writeRunList)
	}
}

func getRun(_ *flag.FlagSet) action {
	return func(ctx context.Context, s *session, args []string) error {
		id, err := parseID("schedule id", args[0])
		if err != nil {
			return err
		}
		runID, err := parseID("run id", args[1])
		if err != nil {
			return err
		}
		resp, err := s.client.GetScheduleRun(ctx, id, runID)
		return show(s, resp, err, writeRunDetail)
	}
}
