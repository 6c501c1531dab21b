package main

import (
	"context"
	"flag"
	"strings"
	"time"

	"schedsvc/gen/api"
)

var cronGroup = &group{name: "cron", summary: "cron expression tools (nothing is created)", commands: []*command{
	{group: "cron", name: "preview", args: "<expression>", nargs: -1, summary: "Show when an expression fires, checked as create checks it",
		detail: "The expression is one argument in quotes, or its fields as separate arguments:\n\n  schedctl cron preview '0 9 * * MON-FRI' --timezone Europe/Berlin --count 3",
		flags:  previewCron},
}}

func previewCron(fs *flag.FlagSet) action {
	var timezone, from optString
	var count optInt
	fs.Var(&timezone, "timezone", "IANA `zone` to evaluate it in (default UTC)")
	fs.Var(&count, "count", "how many firing `times`, 1-100 (default 5)")
	fs.Var(&from, "from", "list the times after this RFC 3339 `instant` (default now)")
	return func(ctx context.Context, s *session, args []string) error {
		params := &api.PreviewCronParams{CronExpression: strings.Join(args, " "), Timezone: timezone.v, Count: count.v}
		if from.v != nil {
			t, err := time.Parse(time.RFC3339, *from.v)
			if err != nil {
				return usagef("", "--from %q is not an RFC 3339 time such as 2026-11-28T10:00:00Z", *from.v)
			}
			params.From = &t
		}
		resp, err := s.client.PreviewCron(ctx, params)
		return show(s, resp, err, writePreview)
	}
}
