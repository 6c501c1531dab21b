package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"schedsvc/gen/api"
)

var eventsCommand = &command{group: "schedules", name: "events", args: "<schedule-id>", nargs: 1,
	summary: "Show a schedule's audit trail, newest first (readable after delete)",
	detail:  "Pages by --cursor only: the table ends with the cursor of the next page.",
	flags:   listEvents}

func listEvents(fs *flag.FlagSet) action {
	var pageSize optInt
	var cursor optString
	fs.Var(&pageSize, "page-size", "`events` per page, 1-100 (default 20)")
	fs.Var(&cursor, "cursor", "the next-page `cursor` a previous list printed")
	return func(ctx context.Context, s *session, args []string) error {
		id, err := parseID("schedule id", args[0])
		if err != nil {
			return err
		}
		resp, err := s.client.ListScheduleEvents(ctx, id, &api.ListScheduleEventsParams{PageSize: pageSize.v, Cursor: cursor.v})
		return show(s, resp, err, writeEventList)
	}
}

func writeEventList(w io.Writer, l *api.ScheduleEventList) {
	row(w, "ID", "AT", "KIND", "ACTOR", "DETAIL")
	for _, e := range l.Events {
		row(w, strconv.FormatInt(e.Id, 10), e.CreatedAt.Format(timeMillis), string(e.Kind), e.Actor, eventDetail(e))
	}
	fmt.Fprintf(w, "\n%d events (page size %d)", len(l.Events), l.PageSize)
	if l.NextCursor != nil {
		fmt.Fprintf(w, "; next page: --cursor %s", *l.NextCursor)
	}
	fmt.Fprintln(w)
}

// eventDetail is the reason of an event, or what an update changed as
// field: old → new, fields in name order.
func eventDetail(e api.ScheduleEvent) string {
	if e.Changes == nil {
		if e.Reason == nil {
			return ""
		}
		return *e.Reason
	}
	fields := make([]string, 0, len(*e.Changes))
	for f := range *e.Changes {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	parts := make([]string, len(fields))
	for i, f := range fields {
		c := (*e.Changes)[f]
		parts[i] = fmt.Sprintf("%s: %s → %s", f, jsonText(c.Old), jsonText(c.New))
	}
	return strings.Join(parts, "; ")
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
