package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const eventsJSON = `{"events": [
  {"id": 45, "kind": "paused_after_failures", "actor": "system", "reason": "paused automatically: 3 consecutive runs did not complete",
   "changes": null, "created_at": "2026-11-30T07:45:10.502Z"},
  {"id": 43, "kind": "updated", "actor": "user_8f2d41", "reason": null,
   "changes": {"timezone": {"old": "UTC", "new": "Europe/Berlin"}, "cron_expression": {"old": "0 8 * * *", "new": "0 10 * * *"}},
   "created_at": "2026-11-28T09:12:03.118Z"},
  {"id": 42, "kind": "created", "actor": "user_8f2d41", "reason": null, "changes": null, "created_at": "2026-11-20T08:15:30Z"}
], "page_size": 3, "next_cursor": "IzQy"}`

func TestEventListTable(t *testing.T) {
	t.Parallel()
	require.Equal(t, ""+
		"ID  AT                        KIND                   ACTOR        DETAIL\n"+
		"45  2026-11-30T07:45:10.502Z  paused_after_failures  system       paused automatically: 3 consecutive runs did not complete\n"+
		"43  2026-11-28T09:12:03.118Z  updated                user_8f2d41  cron_expression: \"0 8 * * *\" → \"0 10 * * *\"; timezone: \"UTC\" → \"Europe/Berlin\"\n"+
		"42  2026-11-20T08:15:30Z      created                user_8f2d41  -\n"+
		"\n"+
		"3 events (page size 3); next page: --cursor IzQy\n",
		render(t, eventsJSON, writeEventList))
}
