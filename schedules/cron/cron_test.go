package cron

import (
	"errors"
	"fmt"
	"math/rand"
	"schedsvc/problem"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

type cronCase struct {
	name, expr, zone, from string
	want                   []string // the next five firings, RFC 3339 in the zone
}

// cronCases: each with a fixed `from` and the next five firings written out.
// DST dates used: New York 2026-03-08 (02:00→03:00) and 2026-11-01
// (02:00→01:00); London 2026-03-29 (01:00→02:00) and 2026-10-25 (02:00→01:00);
// Lord Howe 2026-10-04 (02:00→02:30) and 2026-04-05 (02:00→01:30); Adelaide
// 2026-10-04 (02:00→03:00) and 2026-04-05 (03:00→02:00); Auckland 2026-09-27
// (02:00→03:00) and 2026-04-05 (03:00→02:00); Santiago 2026-09-06 (00:00→01:00)
// and 2026-04-04 (24:00→23:00); Havana 2026-03-08 (00:00→01:00); Sydney
// 2026-04-05 (03:00→02:00).
var cronCases = []cronCase{
	{"weekdays at nine", "0 9 * * 1-5", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z", "2026-01-07T09:00:00Z"}},
	{"day names list", "30 8 * * MON,WED,FRI", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-02T08:30:00Z", "2026-01-05T08:30:00Z", "2026-01-07T08:30:00Z", "2026-01-09T08:30:00Z", "2026-01-12T08:30:00Z"}},
	{"lower-case names", "0 18 * * sun,sat", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-03T18:00:00Z", "2026-01-04T18:00:00Z", "2026-01-10T18:00:00Z", "2026-01-11T18:00:00Z", "2026-01-17T18:00:00Z"}},
	{"month names", "0 0 1 JAN,JUL *", "UTC", "2026-01-01T00:00:00Z", []string{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z", "2028-01-01T00:00:00Z", "2028-07-01T00:00:00Z"}},
	{"every 15 minutes", "*/15 * * * *", "UTC", "2026-01-01T23:20:00Z", []string{"2026-01-01T23:30:00Z", "2026-01-01T23:45:00Z", "2026-01-02T00:00:00Z", "2026-01-02T00:15:00Z", "2026-01-02T00:30:00Z"}},
	{"start/step", "5/20 * * * *", "UTC", "2026-01-01T10:00:00Z", []string{"2026-01-01T10:05:00Z", "2026-01-01T10:25:00Z", "2026-01-01T10:45:00Z", "2026-01-01T11:05:00Z", "2026-01-01T11:25:00Z"}},
	{"every 6 hours", "0 */6 * * *", "UTC", "2026-01-01T01:00:00Z", []string{"2026-01-01T06:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T18:00:00Z", "2026-01-02T00:00:00Z", "2026-01-02T06:00:00Z"}},
	{"range with step", "0 9-17/4 * * *", "UTC", "2026-01-01T10:00:00Z", []string{"2026-01-01T13:00:00Z", "2026-01-01T17:00:00Z", "2026-01-02T09:00:00Z", "2026-01-02T13:00:00Z", "2026-01-02T17:00:00Z"}},
	{"lists", "0,30 8,12 * * *", "UTC", "2026-01-01T09:00:00Z", []string{"2026-01-01T12:00:00Z", "2026-01-01T12:30:00Z", "2026-01-02T08:00:00Z", "2026-01-02T08:30:00Z", "2026-01-02T12:00:00Z"}},
	{"every minute", "* * * * *", "UTC", "2026-01-01T00:00:30Z", []string{"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z", "2026-01-01T00:03:00Z", "2026-01-01T00:04:00Z", "2026-01-01T00:05:00Z"}},
	{"dom or dow: 13th or Fridays", "0 12 13 * FRI", "UTC", "2026-02-01T00:00:00Z", []string{"2026-02-06T12:00:00Z", "2026-02-13T12:00:00Z", "2026-02-20T12:00:00Z", "2026-02-27T12:00:00Z", "2026-03-06T12:00:00Z"}},
	{"dom or dow: 1st, 15th or Mondays", "0 0 1,15 * 1", "UTC", "2026-03-10T00:00:00Z", []string{"2026-03-15T00:00:00Z", "2026-03-16T00:00:00Z", "2026-03-23T00:00:00Z", "2026-03-30T00:00:00Z", "2026-04-01T00:00:00Z"}},
	{"dom step is restricted (OR)", "0 0 */10 * 0", "UTC", "2026-03-10T00:00:00Z", []string{"2026-03-11T00:00:00Z", "2026-03-15T00:00:00Z", "2026-03-21T00:00:00Z", "2026-03-22T00:00:00Z", "2026-03-29T00:00:00Z"}},
	{"dow star with dom: AND", "0 0 1 * *", "UTC", "2026-01-15T00:00:00Z", []string{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"}},
	{"dom star with dow: AND", "0 7 * * 3", "UTC", "2026-01-15T00:00:00Z", []string{"2026-01-21T07:00:00Z", "2026-01-28T07:00:00Z", "2026-02-04T07:00:00Z", "2026-02-11T07:00:00Z", "2026-02-18T07:00:00Z"}},
	{"31st skips short months", "0 0 31 * *", "UTC", "2026-01-31T00:00:00Z", []string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z"}},
	{"30th skips February", "0 6 30 * *", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-30T06:00:00Z", "2026-03-30T06:00:00Z", "2026-04-30T06:00:00Z", "2026-05-30T06:00:00Z", "2026-06-30T06:00:00Z"}},
	{"month end range", "0 0 28-31 2 *", "UTC", "2027-01-01T00:00:00Z", []string{"2027-02-28T00:00:00Z", "2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z", "2030-02-28T00:00:00Z"}},
	{"29 February", "0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z", "2040-02-29T00:00:00Z", "2044-02-29T00:00:00Z"}},
	{"29 February across 2100", "0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", []string{"2104-02-29T00:00:00Z", "2108-02-29T00:00:00Z", "2112-02-29T00:00:00Z", "2116-02-29T00:00:00Z", "2120-02-29T00:00:00Z"}},
	{"29 February or Monday", "0 0 29 2 1", "UTC", "2028-02-25T00:00:00Z", []string{"2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z", "2029-02-05T00:00:00Z", "2029-02-12T00:00:00Z", "2029-02-19T00:00:00Z"}},
	{"yearly near 2100", "@yearly", "UTC", "2099-06-01T00:00:00Z", []string{"2100-01-01T00:00:00Z", "2101-01-01T00:00:00Z", "2102-01-01T00:00:00Z", "2103-01-01T00:00:00Z", "2104-01-01T00:00:00Z"}},
	{"annually", "@annually", "UTC", "2026-06-01T00:00:00Z", []string{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z"}},
	{"monthly", "@monthly", "UTC", "2026-01-15T00:00:00Z", []string{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"}},
	{"weekly", "@weekly", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z", "2026-01-25T00:00:00Z", "2026-02-01T00:00:00Z"}},
	{"daily", "@daily", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z"}},
	{"midnight", "@midnight", "Europe/Berlin", "2026-01-01T00:00:00Z", []string{"2026-01-02T00:00:00+01:00", "2026-01-03T00:00:00+01:00", "2026-01-04T00:00:00+01:00", "2026-01-05T00:00:00+01:00", "2026-01-06T00:00:00+01:00"}},
	{"hourly", "@hourly", "UTC", "2026-01-01T22:30:00Z", []string{"2026-01-01T23:00:00Z", "2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z", "2026-01-02T02:00:00Z", "2026-01-02T03:00:00Z"}},
	{"new year's eve", "59 23 31 12 *", "UTC", "2026-01-01T00:00:00Z", []string{"2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z", "2028-12-31T23:59:00Z", "2029-12-31T23:59:00Z", "2030-12-31T23:59:00Z"}},
	{"far future New York", "0 12 * * *", "America/New_York", "2200-07-01T00:00:00Z", []string{"2200-07-01T12:00:00-04:00", "2200-07-02T12:00:00-04:00", "2200-07-03T12:00:00-04:00", "2200-07-04T12:00:00-04:00", "2200-07-05T12:00:00-04:00"}},
	{"Kolkata +05:30", "0 9 * * *", "Asia/Kolkata", "2026-01-01T00:00:00Z", []string{"2026-01-01T09:00:00+05:30", "2026-01-02T09:00:00+05:30", "2026-01-03T09:00:00+05:30", "2026-01-04T09:00:00+05:30", "2026-01-05T09:00:00+05:30"}},
	{"Kathmandu +05:45", "30 6 * * 1-5", "Asia/Kathmandu", "2026-01-01T00:00:00Z", []string{"2026-01-01T06:30:00+05:45", "2026-01-02T06:30:00+05:45", "2026-01-05T06:30:00+05:45", "2026-01-06T06:30:00+05:45", "2026-01-07T06:30:00+05:45"}},
	{"Chatham +13:45", "0 0 * * *", "Pacific/Chatham", "2026-06-01T00:00:00Z", []string{"2026-06-02T00:00:00+12:45", "2026-06-03T00:00:00+12:45", "2026-06-04T00:00:00+12:45", "2026-06-05T00:00:00+12:45", "2026-06-06T00:00:00+12:45"}},
	{"Adelaide ordinary", "0 9 * * *", "Australia/Adelaide", "2026-06-01T00:00:00Z", []string{"2026-06-02T09:00:00+09:30", "2026-06-03T09:00:00+09:30", "2026-06-04T09:00:00+09:30", "2026-06-05T09:00:00+09:30", "2026-06-06T09:00:00+09:30"}},
	{"Sao Paulo (no DST)", "0 0 * * *", "America/Sao_Paulo", "2026-10-31T00:00:00Z", []string{"2026-10-31T00:00:00-03:00", "2026-11-01T00:00:00-03:00", "2026-11-02T00:00:00-03:00", "2026-11-03T00:00:00-03:00", "2026-11-04T00:00:00-03:00"}},
	{"Kolkata dom or dow", "15 10 1 * SUN", "Asia/Kolkata", "2026-02-25T00:00:00Z", []string{"2026-03-01T10:15:00+05:30", "2026-03-08T10:15:00+05:30", "2026-03-15T10:15:00+05:30", "2026-03-22T10:15:00+05:30", "2026-03-29T10:15:00+05:30"}},
	{"New York spring, fixed 02:30", "30 2 * * *", "America/New_York", "2026-03-06T12:00:00Z", []string{"2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00", "2026-03-11T02:30:00-04:00"}},
	{"New York spring, fixed 02:00", "0 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", []string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00", "2026-03-10T02:00:00-04:00", "2026-03-11T02:00:00-04:00", "2026-03-12T02:00:00-04:00"}},
	{"New York spring, fixed two skipped times run once", "0,30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", []string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:00:00-04:00", "2026-03-10T02:30:00-04:00"}},
	{"New York spring, fixed 02:00 and 03:00 run once at 03:00", "0 2,3 8 3 *", "America/New_York", "2026-03-07T12:00:00Z", []string{"2026-03-08T03:00:00-04:00", "2027-03-08T02:00:00-05:00", "2027-03-08T03:00:00-05:00", "2028-03-08T02:00:00-05:00", "2028-03-08T03:00:00-05:00"}},
	{"New York spring, wildcard minute", "30 * 8 3 *", "America/New_York", "2026-03-08T05:00:00Z", []string{"2026-03-08T00:30:00-05:00", "2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-08T04:30:00-04:00", "2026-03-08T05:30:00-04:00"}},
	{"New York spring, wildcard step", "*/20 1-3 8 3 *", "America/New_York", "2026-03-08T05:00:00Z", []string{"2026-03-08T01:00:00-05:00", "2026-03-08T01:20:00-05:00", "2026-03-08T01:40:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:20:00-04:00"}},
	{"London spring, fixed 01:30", "30 1 * * *", "Europe/London", "2026-03-28T12:00:00Z", []string{"2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00", "2026-03-31T01:30:00+01:00", "2026-04-01T01:30:00+01:00", "2026-04-02T01:30:00+01:00"}},
	{"Lord Howe spring (30 min), fixed 02:15", "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", []string{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00", "2026-10-06T02:15:00+11:00", "2026-10-07T02:15:00+11:00", "2026-10-08T02:15:00+11:00"}},
	{"Lord Howe spring (30 min), wildcard", "*/10 2 4 10 *", "Australia/Lord_Howe", "2026-10-03T14:00:00Z", []string{"2026-10-04T02:30:00+11:00", "2026-10-04T02:40:00+11:00", "2026-10-04T02:50:00+11:00", "2027-10-04T02:00:00+11:00", "2027-10-04T02:10:00+11:00"}},
	{"Adelaide spring, fixed 02:30", "30 2 * * *", "Australia/Adelaide", "2026-10-03T00:00:00Z", []string{"2026-10-04T03:00:00+10:30", "2026-10-05T02:30:00+10:30", "2026-10-06T02:30:00+10:30", "2026-10-07T02:30:00+10:30", "2026-10-08T02:30:00+10:30"}},
	{"Auckland spring, fixed 02:45", "45 2 * * *", "Pacific/Auckland", "2026-09-26T00:00:00Z", []string{"2026-09-27T03:00:00+13:00", "2026-09-28T02:45:00+13:00", "2026-09-29T02:45:00+13:00", "2026-09-30T02:45:00+13:00", "2026-10-01T02:45:00+13:00"}},
	{"Santiago spring at midnight, fixed 00:00", "0 0 * * *", "America/Santiago", "2026-09-04T12:00:00Z", []string{"2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00", "2026-09-08T00:00:00-03:00", "2026-09-09T00:00:00-03:00"}},
	{"Havana spring at midnight, wildcard", "0 * 8 3 *", "America/Havana", "2026-03-08T02:30:00Z", []string{"2026-03-08T01:00:00-04:00", "2026-03-08T02:00:00-04:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00", "2026-03-08T05:00:00-04:00"}},
	{"New York fall, fixed 01:30 runs once", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", []string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00", "2026-11-04T01:30:00-05:00", "2026-11-05T01:30:00-05:00"}},
	{"New York fall, fixed 01:00 runs once", "0 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", []string{"2026-11-01T01:00:00-04:00", "2026-11-02T01:00:00-05:00", "2026-11-03T01:00:00-05:00", "2026-11-04T01:00:00-05:00", "2026-11-05T01:00:00-05:00"}},
	{"New York fall, wildcard runs both passes", "30 * 1 11 *", "America/New_York", "2026-11-01T04:00:00Z", []string{"2026-11-01T00:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:30:00-05:00", "2026-11-01T03:30:00-05:00"}},
	{"London fall, fixed 01:30 at the first", "30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z", []string{"2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z", "2026-10-28T01:30:00Z", "2026-10-29T01:30:00Z"}},
	{"London fall, fixed 00:30", "30 0 * * *", "Europe/London", "2026-10-24T12:00:00Z", []string{"2026-10-25T00:30:00+01:00", "2026-10-26T00:30:00Z", "2026-10-27T00:30:00Z", "2026-10-28T00:30:00Z", "2026-10-29T00:30:00Z"}},
	{"London fall, wildcard", "*/30 1 25 10 *", "Europe/London", "2026-10-24T12:00:00Z", []string{"2026-10-25T01:00:00+01:00", "2026-10-25T01:30:00+01:00", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z", "2027-10-25T01:00:00+01:00"}},
	{"Lord Howe fall (30 min), fixed 01:45", "45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00Z", []string{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30", "2026-04-07T01:45:00+10:30", "2026-04-08T01:45:00+10:30", "2026-04-09T01:45:00+10:30"}},
	{"Lord Howe fall (30 min), wildcard", "*/15 1 5 4 *", "Australia/Lord_Howe", "2026-04-04T12:00:00Z", []string{"2026-04-05T01:00:00+11:00", "2026-04-05T01:15:00+11:00", "2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30"}},
	{"Adelaide fall, wildcard quarter hours", "0,15,30,45 * * * *", "Australia/Adelaide", "2026-04-04T15:30:00Z", []string{"2026-04-05T02:15:00+10:30", "2026-04-05T02:30:00+10:30", "2026-04-05T02:45:00+10:30", "2026-04-05T02:00:00+09:30", "2026-04-05T02:15:00+09:30"}},
	{"Adelaide fall, fixed 02:15", "15 2 * * *", "Australia/Adelaide", "2026-04-04T00:00:00Z", []string{"2026-04-05T02:15:00+10:30", "2026-04-06T02:15:00+09:30", "2026-04-07T02:15:00+09:30", "2026-04-08T02:15:00+09:30", "2026-04-09T02:15:00+09:30"}},
	{"Auckland fall, hourly", "@hourly", "Pacific/Auckland", "2026-04-04T12:30:00Z", []string{"2026-04-05T02:00:00+13:00", "2026-04-05T02:00:00+12:00", "2026-04-05T03:00:00+12:00", "2026-04-05T04:00:00+12:00", "2026-04-05T05:00:00+12:00"}},
	{"Santiago fall at midnight, fixed 23:30", "30 23 * * *", "America/Santiago", "2026-04-03T12:00:00Z", []string{"2026-04-03T23:30:00-03:00", "2026-04-04T23:30:00-03:00", "2026-04-05T23:30:00-04:00", "2026-04-06T23:30:00-04:00", "2026-04-07T23:30:00-04:00"}},
	{"Sydney fall, fixed weekly", "30 2 * * SUN", "Australia/Sydney", "2026-03-30T00:00:00Z", []string{"2026-04-05T02:30:00+11:00", "2026-04-12T02:30:00+10:00", "2026-04-19T02:30:00+10:00", "2026-04-26T02:30:00+10:00", "2026-05-03T02:30:00+10:00"}},
}

// futureCronCases: like cronCases, but every `from` lies in the future (after
// 2026-11-28) and every firing before 2101, so that each case is also checked
// against the real Temporal server (TestCronTemporalServerFutureCases, with
// ScheduleSpec.StartAt = from). No `from` is itself a firing instant (StartAt
// is inclusive, Next is strictly after). DST dates used: New York 2027-03-14
// (02:00→03:00) and 2027-11-07 (02:00→01:00), 2099-03-08 and 2099-11-01;
// St John's 2027-03-14 (02:00→03:00, -03:30→-02:30) and 2027-11-07;
// London 2027-03-28 (01:00→02:00) and 2027-10-31 (02:00→01:00); Lord Howe
// 2027-04-04 (02:00→01:30) and 2027-10-03 (02:00→02:30); Adelaide 2027-04-04
// (03:00→02:00) and 2027-10-03 (02:00→03:00); Sydney 2027-04-04 and
// 2027-10-03 (same walls as Adelaide); Auckland 2027-04-04 (03:00→02:00) and
// 2027-09-26 (02:00→03:00); Chatham 2027-04-04 (03:45→02:45) and 2027-09-26
// (02:45→03:45); Santiago 2027-04-04 (24:00→23:00 on the 3rd) and 2027-09-05
// (00:00→01:00); Havana 2027-03-14 (00:00→01:00) and 2027-11-07 (01:00→00:00).
var futureCronCases = []cronCase{
	// Fields: names, steps, lists, ranges.
	{"future weekdays at nine", "0 9 * * 1-5", "UTC", "2027-01-01T00:00:00Z", []string{"2027-01-01T09:00:00Z", "2027-01-04T09:00:00Z", "2027-01-05T09:00:00Z", "2027-01-06T09:00:00Z", "2027-01-07T09:00:00Z"}},
	{"future day names list", "30 8 * * MON,WED,FRI", "UTC", "2027-01-01T10:00:00Z", []string{"2027-01-04T08:30:00Z", "2027-01-06T08:30:00Z", "2027-01-08T08:30:00Z", "2027-01-11T08:30:00Z", "2027-01-13T08:30:00Z"}},
	{"future month names", "0 0 1 JAN,JUL *", "UTC", "2027-02-01T12:00:00Z", []string{"2027-07-01T00:00:00Z", "2028-01-01T00:00:00Z", "2028-07-01T00:00:00Z", "2029-01-01T00:00:00Z", "2029-07-01T00:00:00Z"}},
	{"future every 15 minutes across new year", "*/15 * * * *", "UTC", "2027-12-31T23:20:00Z", []string{"2027-12-31T23:30:00Z", "2027-12-31T23:45:00Z", "2028-01-01T00:00:00Z", "2028-01-01T00:15:00Z", "2028-01-01T00:30:00Z"}},
	{"future start/step Kolkata", "5/20 * * * *", "Asia/Kolkata", "2027-06-01T10:00:00+05:30", []string{"2027-06-01T10:05:00+05:30", "2027-06-01T10:25:00+05:30", "2027-06-01T10:45:00+05:30", "2027-06-01T11:05:00+05:30", "2027-06-01T11:25:00+05:30"}},
	{"future range with step Berlin", "0 9-17/4 * * *", "Europe/Berlin", "2027-06-15T10:00:00+02:00", []string{"2027-06-15T13:00:00+02:00", "2027-06-15T17:00:00+02:00", "2027-06-16T09:00:00+02:00", "2027-06-16T13:00:00+02:00", "2027-06-16T17:00:00+02:00"}},
	{"future lists New York", "0,30 8,12 * * *", "America/New_York", "2027-07-04T09:00:00-04:00", []string{"2027-07-04T12:00:00-04:00", "2027-07-04T12:30:00-04:00", "2027-07-05T08:00:00-04:00", "2027-07-05T08:30:00-04:00", "2027-07-05T12:00:00-04:00"}},
	{"future every minute Kathmandu", "* * * * *", "Asia/Kathmandu", "2027-06-01T12:00:30+05:45", []string{"2027-06-01T12:01:00+05:45", "2027-06-01T12:02:00+05:45", "2027-06-01T12:03:00+05:45", "2027-06-01T12:04:00+05:45", "2027-06-01T12:05:00+05:45"}},
	{"future monthly Kathmandu", "@monthly", "Asia/Kathmandu", "2027-01-15T00:00:00+05:45", []string{"2027-02-01T00:00:00+05:45", "2027-03-01T00:00:00+05:45", "2027-04-01T00:00:00+05:45", "2027-05-01T00:00:00+05:45", "2027-06-01T00:00:00+05:45"}},
	{"future weekly Kolkata", "@weekly", "Asia/Kolkata", "2027-01-01T00:00:00+05:30", []string{"2027-01-03T00:00:00+05:30", "2027-01-10T00:00:00+05:30", "2027-01-17T00:00:00+05:30", "2027-01-24T00:00:00+05:30", "2027-01-31T00:00:00+05:30"}},
	{"future Kathmandu weekdays", "30 6 * * 1-5", "Asia/Kathmandu", "2027-01-01T00:00:00+05:45", []string{"2027-01-01T06:30:00+05:45", "2027-01-04T06:30:00+05:45", "2027-01-05T06:30:00+05:45", "2027-01-06T06:30:00+05:45", "2027-01-07T06:30:00+05:45"}},
	// Both day fields restricted (OR).
	{"future 13th or Fridays (Friday 13th once)", "0 12 13 * FRI", "UTC", "2027-08-01T00:00:00Z", []string{"2027-08-06T12:00:00Z", "2027-08-13T12:00:00Z", "2027-08-20T12:00:00Z", "2027-08-27T12:00:00Z", "2027-09-03T12:00:00Z"}},
	{"future 1st, 15th or Mondays Sydney", "0 0 1,15 * 1", "Australia/Sydney", "2027-03-10T00:00:00+11:00", []string{"2027-03-15T00:00:00+11:00", "2027-03-22T00:00:00+11:00", "2027-03-29T00:00:00+11:00", "2027-04-01T00:00:00+11:00", "2027-04-05T00:00:00+10:00"}},
	{"future dom step or Sundays", "0 0 */10 * 0", "UTC", "2028-01-05T00:00:00Z", []string{"2028-01-09T00:00:00Z", "2028-01-11T00:00:00Z", "2028-01-16T00:00:00Z", "2028-01-21T00:00:00Z", "2028-01-23T00:00:00Z"}},
	{"future Kolkata 1st or Sundays", "15 10 1 * SUN", "Asia/Kolkata", "2027-02-25T00:00:00+05:30", []string{"2027-02-28T10:15:00+05:30", "2027-03-01T10:15:00+05:30", "2027-03-07T10:15:00+05:30", "2027-03-14T10:15:00+05:30", "2027-03-21T10:15:00+05:30"}},
	// Month ends, 29 February, far years.
	{"future 31st Adelaide across DST", "15 10 31 * *", "Australia/Adelaide", "2027-04-01T00:00:00+10:30", []string{"2027-05-31T10:15:00+09:30", "2027-07-31T10:15:00+09:30", "2027-08-31T10:15:00+09:30", "2027-10-31T10:15:00+10:30", "2027-12-31T10:15:00+10:30"}},
	{"future 30th skips leap February", "0 6 30 * *", "UTC", "2028-01-31T00:00:00Z", []string{"2028-03-30T06:00:00Z", "2028-04-30T06:00:00Z", "2028-05-30T06:00:00Z", "2028-06-30T06:00:00Z", "2028-07-30T06:00:00Z"}},
	{"future February month end", "0 0 28-31 2 *", "UTC", "2027-03-01T00:00:00Z", []string{"2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z", "2030-02-28T00:00:00Z", "2031-02-28T00:00:00Z"}},
	{"future 29 February", "0 0 29 2 *", "UTC", "2027-01-01T00:00:00Z", []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z", "2040-02-29T00:00:00Z", "2044-02-29T00:00:00Z"}},
	{"future 29 February or Monday", "0 0 29 2 1", "UTC", "2028-02-25T00:00:00Z", []string{"2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z", "2029-02-05T00:00:00Z", "2029-02-12T00:00:00Z", "2029-02-19T00:00:00Z"}},
	{"future 29 February New York noon", "0 12 29 2 *", "America/New_York", "2028-02-28T12:00:00-05:00", []string{"2028-02-29T12:00:00-05:00", "2032-02-29T12:00:00-05:00", "2036-02-29T12:00:00-05:00", "2040-02-29T12:00:00-05:00", "2044-02-29T12:00:00-05:00"}},
	{"far 29 February up to 2096", "0 0 29 2 *", "UTC", "2080-01-01T00:00:00Z", []string{"2080-02-29T00:00:00Z", "2084-02-29T00:00:00Z", "2088-02-29T00:00:00Z", "2092-02-29T00:00:00Z", "2096-02-29T00:00:00Z"}},
	{"far yearly New York up to 2100", "@yearly", "America/New_York", "2095-06-01T00:00:00-04:00", []string{"2096-01-01T00:00:00-05:00", "2097-01-01T00:00:00-05:00", "2098-01-01T00:00:00-05:00", "2099-01-01T00:00:00-05:00", "2100-01-01T00:00:00-05:00"}},
	{"far new year's eve Chatham", "59 23 31 12 *", "Pacific/Chatham", "2095-01-01T00:00:00+13:45", []string{"2095-12-31T23:59:00+13:45", "2096-12-31T23:59:00+13:45", "2097-12-31T23:59:00+13:45", "2098-12-31T23:59:00+13:45", "2099-12-31T23:59:00+13:45"}},
	{"far New York spring 2099, fixed 02:30", "30 2 * * *", "America/New_York", "2099-03-07T12:00:00-05:00", []string{"2099-03-08T03:00:00-04:00", "2099-03-09T02:30:00-04:00", "2099-03-10T02:30:00-04:00", "2099-03-11T02:30:00-04:00", "2099-03-12T02:30:00-04:00"}},
	{"far New York fall 2099, fixed Sunday 01:30", "30 1 * * 0", "America/New_York", "2099-10-31T00:00:00-04:00", []string{"2099-11-01T01:30:00-04:00", "2099-11-08T01:30:00-05:00", "2099-11-15T01:30:00-05:00", "2099-11-22T01:30:00-05:00", "2099-11-29T01:30:00-05:00"}},
	// New York (60-minute shifts).
	{"future New York spring, fixed 02:30", "30 2 * * *", "America/New_York", "2027-03-13T12:00:00-05:00", []string{"2027-03-14T03:00:00-04:00", "2027-03-15T02:30:00-04:00", "2027-03-16T02:30:00-04:00", "2027-03-17T02:30:00-04:00", "2027-03-18T02:30:00-04:00"}},
	{"future New York spring, two skipped times run once", "0,30 2 * * *", "America/New_York", "2027-03-13T12:00:00-05:00", []string{"2027-03-14T03:00:00-04:00", "2027-03-15T02:00:00-04:00", "2027-03-15T02:30:00-04:00", "2027-03-16T02:00:00-04:00", "2027-03-16T02:30:00-04:00"}},
	{"future New York spring, fixed 02:00 and 03:00 run once", "0 2,3 14 3 *", "America/New_York", "2027-03-13T00:00:00-05:00", []string{"2027-03-14T03:00:00-04:00", "2028-03-14T02:00:00-04:00", "2028-03-14T03:00:00-04:00", "2029-03-14T02:00:00-04:00", "2029-03-14T03:00:00-04:00"}},
	{"future New York spring, wildcard step", "*/20 1-3 14 3 *", "America/New_York", "2027-03-14T00:30:00-05:00", []string{"2027-03-14T01:00:00-05:00", "2027-03-14T01:20:00-05:00", "2027-03-14T01:40:00-05:00", "2027-03-14T03:00:00-04:00", "2027-03-14T03:20:00-04:00"}},
	{"future New York fall, fixed 01:30 runs once", "30 1 * * *", "America/New_York", "2027-11-06T12:00:00-04:00", []string{"2027-11-07T01:30:00-04:00", "2027-11-08T01:30:00-05:00", "2027-11-09T01:30:00-05:00", "2027-11-10T01:30:00-05:00", "2027-11-11T01:30:00-05:00"}},
	{"future New York fall, wildcard hour runs both passes", "30 * 7 11 *", "America/New_York", "2027-11-07T00:00:00-04:00", []string{"2027-11-07T00:30:00-04:00", "2027-11-07T01:30:00-04:00", "2027-11-07T01:30:00-05:00", "2027-11-07T02:30:00-05:00", "2027-11-07T03:30:00-05:00"}},
	{"future New York fall, wildcard minute", "*/15 1 7 11 *", "America/New_York", "2027-11-07T01:20:00-04:00", []string{"2027-11-07T01:30:00-04:00", "2027-11-07T01:45:00-04:00", "2027-11-07T01:00:00-05:00", "2027-11-07T01:15:00-05:00", "2027-11-07T01:30:00-05:00"}},
	// St John's (non-whole offset, 60-minute shifts).
	{"future St John's spring, fixed 02:30", "30 2 * * *", "America/St_Johns", "2027-03-13T12:00:00-03:30", []string{"2027-03-14T03:00:00-02:30", "2027-03-15T02:30:00-02:30", "2027-03-16T02:30:00-02:30", "2027-03-17T02:30:00-02:30", "2027-03-18T02:30:00-02:30"}},
	{"future St John's fall, hourly", "@hourly", "America/St_Johns", "2027-11-07T00:30:00-02:30", []string{"2027-11-07T01:00:00-02:30", "2027-11-07T01:00:00-03:30", "2027-11-07T02:00:00-03:30", "2027-11-07T03:00:00-03:30", "2027-11-07T04:00:00-03:30"}},
	// London.
	{"future London spring, fixed 01:30", "30 1 * * *", "Europe/London", "2027-03-27T12:00:00Z", []string{"2027-03-28T02:00:00+01:00", "2027-03-29T01:30:00+01:00", "2027-03-30T01:30:00+01:00", "2027-03-31T01:30:00+01:00", "2027-04-01T01:30:00+01:00"}},
	{"future London spring, wildcard half hours", "0,30 * 28 3 *", "Europe/London", "2027-03-27T23:45:00Z", []string{"2027-03-28T00:00:00Z", "2027-03-28T00:30:00Z", "2027-03-28T02:00:00+01:00", "2027-03-28T02:30:00+01:00", "2027-03-28T03:00:00+01:00"}},
	{"future London fall, fixed 01:30 at the first", "30 1 * * *", "Europe/London", "2027-10-30T12:00:00+01:00", []string{"2027-10-31T01:30:00+01:00", "2027-11-01T01:30:00Z", "2027-11-02T01:30:00Z", "2027-11-03T01:30:00Z", "2027-11-04T01:30:00Z"}},
	{"future London fall, wildcard", "*/30 1 31 10 *", "Europe/London", "2027-10-30T12:00:00+01:00", []string{"2027-10-31T01:00:00+01:00", "2027-10-31T01:30:00+01:00", "2027-10-31T01:00:00Z", "2027-10-31T01:30:00Z", "2028-10-31T01:00:00Z"}},
	// Lord Howe (30-minute shifts, +10:30/+11).
	{"future Lord Howe fall, fixed 01:45", "45 1 * * *", "Australia/Lord_Howe", "2027-04-03T00:00:00+11:00", []string{"2027-04-03T01:45:00+11:00", "2027-04-04T01:45:00+11:00", "2027-04-05T01:45:00+10:30", "2027-04-06T01:45:00+10:30", "2027-04-07T01:45:00+10:30"}},
	{"future Lord Howe fall, wildcard", "*/15 1 4 4 *", "Australia/Lord_Howe", "2027-04-04T00:30:00+11:00", []string{"2027-04-04T01:00:00+11:00", "2027-04-04T01:15:00+11:00", "2027-04-04T01:30:00+11:00", "2027-04-04T01:45:00+11:00", "2027-04-04T01:30:00+10:30"}},
	{"future Lord Howe spring, fixed 02:15", "15 2 * * *", "Australia/Lord_Howe", "2027-10-02T00:00:00+10:30", []string{"2027-10-02T02:15:00+10:30", "2027-10-03T02:30:00+11:00", "2027-10-04T02:15:00+11:00", "2027-10-05T02:15:00+11:00", "2027-10-06T02:15:00+11:00"}},
	{"future Lord Howe spring, wildcard", "*/10 2 3 10 *", "Australia/Lord_Howe", "2027-10-02T12:00:00+10:30", []string{"2027-10-03T02:30:00+11:00", "2027-10-03T02:40:00+11:00", "2027-10-03T02:50:00+11:00", "2028-10-03T02:00:00+11:00", "2028-10-03T02:10:00+11:00"}},
	// Adelaide (+09:30/+10:30), Sydney.
	{"future Adelaide spring, fixed 02:30", "30 2 * * *", "Australia/Adelaide", "2027-10-02T00:00:00+09:30", []string{"2027-10-02T02:30:00+09:30", "2027-10-03T03:00:00+10:30", "2027-10-04T02:30:00+10:30", "2027-10-05T02:30:00+10:30", "2027-10-06T02:30:00+10:30"}},
	{"future Adelaide fall, wildcard quarter hours", "0,15,30,45 * * * *", "Australia/Adelaide", "2027-04-03T16:05:00Z", []string{"2027-04-04T02:45:00+10:30", "2027-04-04T02:00:00+09:30", "2027-04-04T02:15:00+09:30", "2027-04-04T02:30:00+09:30", "2027-04-04T02:45:00+09:30"}},
	{"future Adelaide fall, fixed 02:15", "15 2 * * *", "Australia/Adelaide", "2027-04-03T00:00:00+10:30", []string{"2027-04-03T02:15:00+10:30", "2027-04-04T02:15:00+10:30", "2027-04-05T02:15:00+09:30", "2027-04-06T02:15:00+09:30", "2027-04-07T02:15:00+09:30"}},
	{"future Sydney fall, fixed weekly", "30 2 * * SUN", "Australia/Sydney", "2027-03-29T00:00:00+11:00", []string{"2027-04-04T02:30:00+11:00", "2027-04-11T02:30:00+10:00", "2027-04-18T02:30:00+10:00", "2027-04-25T02:30:00+10:00", "2027-05-02T02:30:00+10:00"}},
	{"future Sydney spring, fixed weekly", "30 2 * * SUN", "Australia/Sydney", "2027-09-27T00:00:00+10:00", []string{"2027-10-03T03:00:00+11:00", "2027-10-10T02:30:00+11:00", "2027-10-17T02:30:00+11:00", "2027-10-24T02:30:00+11:00", "2027-10-31T02:30:00+11:00"}},
	// Auckland, Chatham (+12:45/+13:45).
	{"future Auckland spring, fixed 02:45", "45 2 * * *", "Pacific/Auckland", "2027-09-25T00:00:00+12:00", []string{"2027-09-25T02:45:00+12:00", "2027-09-26T03:00:00+13:00", "2027-09-27T02:45:00+13:00", "2027-09-28T02:45:00+13:00", "2027-09-29T02:45:00+13:00"}},
	{"future Auckland fall, hourly", "@hourly", "Pacific/Auckland", "2027-04-03T12:30:00Z", []string{"2027-04-04T02:00:00+13:00", "2027-04-04T02:00:00+12:00", "2027-04-04T03:00:00+12:00", "2027-04-04T04:00:00+12:00", "2027-04-04T05:00:00+12:00"}},
	{"future Chatham spring, fixed 03:00", "0 3 * * *", "Pacific/Chatham", "2027-09-25T00:00:00+12:45", []string{"2027-09-25T03:00:00+12:45", "2027-09-26T03:45:00+13:45", "2027-09-27T03:00:00+13:45", "2027-09-28T03:00:00+13:45", "2027-09-29T03:00:00+13:45"}},
	{"future Chatham fall, wildcard", "*/30 3 4 4 *", "Pacific/Chatham", "2027-04-04T00:00:00+13:45", []string{"2027-04-04T03:00:00+13:45", "2027-04-04T03:30:00+13:45", "2027-04-04T03:00:00+12:45", "2027-04-04T03:30:00+12:45", "2028-04-04T03:00:00+12:45"}},
	// Santiago and Havana (transitions at midnight).
	{"future Santiago spring at midnight, fixed 00:00", "0 0 * * *", "America/Santiago", "2027-09-03T12:00:00-04:00", []string{"2027-09-04T00:00:00-04:00", "2027-09-05T01:00:00-03:00", "2027-09-06T00:00:00-03:00", "2027-09-07T00:00:00-03:00", "2027-09-08T00:00:00-03:00"}},
	{"future Santiago fall at midnight, fixed 23:30", "30 23 * * *", "America/Santiago", "2027-04-02T12:00:00-03:00", []string{"2027-04-02T23:30:00-03:00", "2027-04-03T23:30:00-03:00", "2027-04-04T23:30:00-04:00", "2027-04-05T23:30:00-04:00", "2027-04-06T23:30:00-04:00"}},
	{"future Havana spring at midnight, wildcard", "0 * 14 3 *", "America/Havana", "2027-03-13T23:30:00-05:00", []string{"2027-03-14T01:00:00-04:00", "2027-03-14T02:00:00-04:00", "2027-03-14T03:00:00-04:00", "2027-03-14T04:00:00-04:00", "2027-03-14T05:00:00-04:00"}},
	{"future Havana fall, fixed 00:30", "30 0 * * *", "America/Havana", "2027-11-06T12:00:00-04:00", []string{"2027-11-07T00:30:00-04:00", "2027-11-08T00:30:00-05:00", "2027-11-09T00:30:00-05:00", "2027-11-10T00:30:00-05:00", "2027-11-11T00:30:00-05:00"}},
}

func TestCronNextN(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(cronCases), 40)
	require.GreaterOrEqual(t, len(futureCronCases), 40)
	for _, tc := range append(append([]cronCase{}, cronCases...), futureCronCases...) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(tc.expr, tc.zone)
			require.NoError(t, err)
			from, err := time.Parse(time.RFC3339, tc.from)
			require.NoError(t, err)

			got := c.NextN(from, len(tc.want))
			require.Equal(t, tc.want, formatTimes(got))
			require.Equal(t, tc.want[0], c.Next(from).Format(time.RFC3339))
			for i := 1; i < len(got); i++ {
				require.Equal(t, got[i], c.Next(got[i-1]), "Next after #%d", i-1)
				require.Equal(t, got[i-1], c.Prev(got[i]), "Prev before #%d", i)
				require.Equal(t, got[i-1], c.Next(got[i-1].Add(-time.Second)), "Next one second before #%d", i-1)
			}
			require.Equal(t, tc.zone, got[0].Location().String())
		})
	}
}

func formatTimes(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format(time.RFC3339)
	}
	return out
}

func TestCronPrev(t *testing.T) {
	t.Parallel()
	c, err := Parse("0 0 29 2 *", "UTC")
	require.NoError(t, err)
	require.Equal(t, "2024-02-29T00:00:00Z", c.Prev(time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)).Format(time.RFC3339))
	require.Equal(t, "2028-02-29T00:00:00Z", c.Prev(time.Date(2028, 2, 29, 0, 0, 0, 1, time.UTC)).Format(time.RFC3339))
	require.Equal(t, "2096-02-29T00:00:00Z", c.Prev(time.Date(2104, 1, 1, 0, 0, 0, 0, time.UTC)).Format(time.RFC3339))

	c, err = Parse("30 1 * * *", "America/New_York")
	require.NoError(t, err)
	// After the second 01:30 of the fall-back day, the last firing is the first 01:30.
	require.Equal(t, "2026-11-01T01:30:00-04:00", c.Prev(time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC)).Format(time.RFC3339))
}

type rejectCase struct {
	expr, zone string
	kind       problem.Kind
	field      string
	detail     string // a substring of Detail
}

func TestParseCronRejects(t *testing.T) {
	t.Parallel()
	cases := []rejectCase{
		{"0 0 0 * * *", "UTC", problem.InvalidCron, "cron_expression", "only 5 fields are supported"},
		{"0 0 * * * 2026", "UTC", problem.InvalidCron, "cron_expression", "drop the first (seconds) or last (year) field"},
		{"0 0 0 * * * 2026", "UTC", problem.InvalidCron, "cron_expression", "7 fields given"},
		{"0 9 * *", "UTC", problem.InvalidCron, "cron_expression", "4 fields given"},
		{"", "UTC", problem.InvalidCron, "cron_expression", "empty"},
		{"   ", "UTC", problem.InvalidCron, "cron_expression", "empty"},
		{"0 0 ? * *", "UTC", problem.InvalidCron, "cron_expression", "write `*` instead"},
		{"0 0 * * ?", "UTC", problem.InvalidCron, "cron_expression", "`?` is not standard cron"},
		{"0 0 L * *", "UTC", problem.InvalidCron, "cron_expression", "`L` and `W`"},
		{"0 0 15W * *", "UTC", problem.InvalidCron, "cron_expression", "`L` and `W`"},
		{"0 0 LW * *", "UTC", problem.InvalidCron, "cron_expression", "`L` and `W`"},
		{"0 0 * * 5L", "UTC", problem.InvalidCron, "cron_expression", "`L` and `W`"},
		{"0 0 * * 1#2", "UTC", problem.InvalidCron, "cron_expression", "`#` (n-th weekday of the month) is not supported"},
		{"CRON_TZ=Europe/Berlin 0 9 * * *", "UTC", problem.InvalidCron, "cron_expression", `put the zone name in the "timezone" field`},
		{"TZ=UTC 0 9 * * *", "UTC", problem.InvalidCron, "cron_expression", "TZ= prefix is not supported"},
		{"@every 1h", "UTC", problem.InvalidCron, "cron_expression", `"0 */1 * * *"`},
		{"@every 15m", "UTC", problem.InvalidCron, "cron_expression", `"*/15 * * * *"`},
		{"@every 24h", "UTC", problem.InvalidCron, "cron_expression", `"0 0 * * *"`},
		{"@every 90s", "UTC", problem.InvalidCron, "cron_expression", "@every is not supported"},
		{"@reboot", "UTC", problem.InvalidCron, "cron_expression", "unknown descriptor"},
		{"0 0 30 2 *", "UTC", problem.InvalidCron, "cron_expression", "never fires"},
		{"0 0 31 4,6,9,11 *", "UTC", problem.InvalidCron, "cron_expression", "never fires"},
		{"60 * * * *", "UTC", problem.InvalidCron, "cron_expression", "above maximum (59)"},
		{"0 24 * * *", "UTC", problem.InvalidCron, "cron_expression", "above maximum (23)"},
		{"0 0 0 * *", "UTC", problem.InvalidCron, "cron_expression", "below minimum (1)"},
		{"0 0 * 13 *", "UTC", problem.InvalidCron, "cron_expression", "above maximum (12)"},
		{"0 0 * * 7", "UTC", problem.InvalidCron, "cron_expression", "write 0 or SUN for Sunday"},
		{"0 0 * * MONDAY", "UTC", problem.InvalidCron, "cron_expression", "is not a day"},
		{"0 0 * FOO *", "UTC", problem.InvalidCron, "cron_expression", "is not a month"},
		{"0 MON * * *", "UTC", problem.InvalidCron, "cron_expression", "names are not allowed here"},
		{"*/0 * * * *", "UTC", problem.InvalidCron, "cron_expression", "step of range should be a positive number"},
		{"*/x * * * *", "UTC", problem.InvalidCron, "cron_expression", "a step must be a number"},
		{"5-1 * * * *", "UTC", problem.InvalidCron, "cron_expression", "beyond end of range"},
		{"1,,2 * * * *", "UTC", problem.InvalidCron, "cron_expression", "empty list element"},
		{"*-5 * * * *", "UTC", problem.InvalidCron, "cron_expression", "`*` cannot be part of a range"},
		{"0 9 * * 1-5;", "UTC", problem.InvalidCron, "cron_expression", "is not allowed"},
		{"0 9 * * *", "", problem.UnknownTimezone, "timezone", "the timezone is empty"},
		{"0 9 * * *", "Local", problem.UnknownTimezone, "timezone", "not an IANA zone name"},
		{"0 9 * * *", "local", problem.UnknownTimezone, "timezone", "not an IANA zone name"},
		{"0 9 * * *", "Mars/Olympus_Mons", problem.UnknownTimezone, "timezone", "not a known IANA zone name"},
		{"0 9 * * *", "+05:30", problem.UnknownTimezone, "timezone", "not a known IANA zone name"},
		{"0 9 * * *", " UTC", problem.UnknownTimezone, "timezone", "is not an IANA zone name"},
		{"0 9 * * *", "../../etc/passwd", problem.UnknownTimezone, "timezone", "is not an IANA zone name"},
	}
	for _, tc := range cases {
		t.Run(tc.expr+"|"+tc.zone, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(tc.expr, tc.zone)
			require.Nil(t, c)
			var verr *problem.Error
			require.True(t, errors.As(err, &verr), "want *problem.Error, got %T %v", err, err)
			require.Equal(t, tc.kind, verr.Kind)
			require.Equal(t, tc.field, verr.Field)
			require.Contains(t, verr.Detail, tc.detail)
		})
	}
}

func TestParseCronAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ expr, zone string }{
		{"0 9 * * *", "UTC"},
		{"0 9 * * *", "Etc/GMT+5"},
		{"  0   9 * *   MON-FRI ", "Europe/Berlin"},
		{"0 9 * jan-mar mon", "Asia/Kolkata"},
		{"@YEARLY", "UTC"},
		{"0 0 29 2 *", "UTC"},
		{"0 0 31 1-12 *", "UTC"},
		{"0-59/15 */3 1-31/2 */2 0-6", "UTC"},
	} {
		c, err := Parse(tc.expr, tc.zone)
		require.NoError(t, err, "%q", tc.expr)
		require.Equal(t, tc.expr, c.expr)
		require.Equal(t, tc.zone, c.loc.String())
	}
}

func TestCronDescribe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ expr, want string }{
		{"0 9 * * 1-5", "At 09:00, Monday through Friday"},
		{"30 8 * * MON,WED,FRI", "At 08:30, only on Monday, Wednesday and Friday"},
		{"* * * * *", "Every minute"},
		{"*/15 * * * *", "Every 15 minutes"},
		{"*/15 9-17 * * *", "Every 15 minutes, between 09:00 and 17:59"},
		{"0 */2 * * *", "At minute 0 past every 2nd hour"},
		{"5 * * * *", "At minute 5 past every hour"},
		{"0 8,9 * * *", "At 08:00 and 09:00"},
		{"0 0 1 * *", "At 00:00, on day 1 of the month"},
		{"0 12 13 * FRI", "At 12:00, on day 13 of the month or only on Friday"},
		{"0 0 1 JAN,JUL *", "At 00:00, on day 1 of the month, only in January and July"},
		{"@weekly", "At 00:00, only on Sunday"},
		{"@hourly", "At minute 0 past every hour"},
		{"0 0 29 2 *", "At 00:00, on day 29 of the month, only in February"},
		{"0 6 * 3-5 *", "At 06:00, March through May"},
	} {
		c, err := Parse(tc.expr, "UTC")
		require.NoError(t, err)
		require.Equal(t, tc.want, c.Describe(), tc.expr)
	}
}

func TestCronMinInterval(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 8, 30, 0, 0, time.UTC)
	cases := []struct {
		expr, zone string
		min        time.Duration
		reject     bool
		detail     string // substring of Detail when rejected
	}{
		{"0 8,9 * * *", "UTC", 2 * time.Hour, true, "runs at 2026-11-29T08:00:00Z and 2026-11-29T09:00:00Z would be only 1h apart"},
		{"0 */2 * * *", "UTC", 2 * time.Hour, false, ""},
		{"0 */2 * * *", "America/New_York", 2 * time.Hour, false, ""},
		// London jumps 01:00→02:00: 00:00 GMT and 02:00 BST are an hour apart.
		{"0 */2 * * *", "Europe/London", 2 * time.Hour, true, "runs at 2027-03-28T00:00:00Z and 2027-03-28T02:00:00+01:00 would be only 1h apart"},
		{"* * * * *", "America/New_York", time.Minute, false, ""},
		{"* * * * *", "America/New_York", 2 * time.Minute, true, "only 1m apart"},
		{"*/45 * * * *", "UTC", 30 * time.Minute, true, "runs at 2026-11-28T08:45:00Z and 2026-11-28T09:00:00Z would be only 15m apart"},
		{"*/45 * * * *", "America/New_York", 15 * time.Minute, false, ""},
		{"0 0,23 * * *", "UTC", 2 * time.Hour, true, "runs at 2026-11-28T23:00:00Z and 2026-11-29T00:00:00Z"},
		{"0 0,22 * * *", "UTC", 2 * time.Hour, false, ""},
		{"0 0,23 28,29 2 *", "UTC", 2 * time.Hour, true, "runs at 2028-02-28T23:00:00Z and 2028-02-29T00:00:00Z"},
		{"0 0,23 1 * *", "UTC", 2 * time.Hour, false, ""},
		{"30 1,3 * * *", "UTC", 2 * time.Hour, false, ""},
		{"30 1,3 * * *", "America/New_York", 2 * time.Hour, true, "runs at 2027-03-14T01:30:00-05:00 and 2027-03-14T03:30:00-04:00 would be only 1h apart"},
		{"0 0 * * *", "UTC", 24 * time.Hour, false, ""},
		{"0 0 * * *", "America/New_York", 24 * time.Hour, true, "only 23h apart"},
		{"30 2 * * *", "America/New_York", 23 * time.Hour, false, ""},
		// Lord Howe springs forward 30 minutes (02:00→02:30): 02:15 runs at 02:30.
		{"15 2 * * *", "Australia/Lord_Howe", 24 * time.Hour, true, "runs at 2027-10-02T02:15:00+10:30 and 2027-10-03T02:30:00+11:00 would be only 23h45m apart"},
		{"0 * * * *", "Australia/Lord_Howe", time.Hour, false, ""},
		{"*/30 * * * *", "Australia/Lord_Howe", 30 * time.Minute, false, ""},
		{"0,15,30,45 * * * *", "Australia/Adelaide", 15 * time.Minute, false, ""},
		{"*/20 * * * *", "Asia/Kathmandu", 20 * time.Minute, false, ""},
		{"0 0 29 2 *", "America/New_York", 365 * 24 * time.Hour, false, ""},
		{"0 0 1 * *", "UTC", 31 * 24 * time.Hour, true, "only 672h apart"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s|%s|%s", tc.expr, tc.zone, tc.min), func(t *testing.T) {
			t.Parallel()
			c, err := Parse(tc.expr, tc.zone)
			require.NoError(t, err)
			err = c.checkMinInterval(tc.min, now)
			if !tc.reject {
				require.NoError(t, err)
				return
			}
			var verr *problem.Error
			require.True(t, errors.As(err, &verr), "want *problem.Error, got %v", err)
			require.Equal(t, problem.IntervalTooShort, verr.Kind)
			require.Equal(t, "cron_expression", verr.Field)
			require.Contains(t, verr.Detail, tc.detail)
		})
	}
}

// The verdict does not depend on the time of day (Decision 2).
func TestCronMinIntervalIndependentOfNow(t *testing.T) {
	t.Parallel()
	c, err := Parse("0 8,9 * * *", "UTC")
	require.NoError(t, err)
	base := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	for m := 0; m < 24*60; m += 7 {
		require.Error(t, c.checkMinInterval(2*time.Hour, base.Add(time.Duration(m)*time.Minute)), "at +%dm", m)
	}
	require.Error(t, c.CheckMinInterval(2*time.Hour))
}

func TestCronMinIntervalFast(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr, zone string
		min        time.Duration
	}{
		{"* * * * *", "America/New_York", time.Minute},
		{"* * * * *", "America/New_York", 2 * time.Minute},
		{"*/2 * * * *", "Australia/Lord_Howe", 2 * time.Minute},
		{"0 0 29 2 *", "Europe/London", 30 * 24 * time.Hour},
	} {
		c, err := Parse(tc.expr, tc.zone)
		require.NoError(t, err)
		start := time.Now()
		_ = c.CheckMinInterval(tc.min)
		// A few ms on a developer machine; generous for a loaded CI runner.
		require.Less(t, time.Since(start), 250*time.Millisecond, "%s %s", tc.expr, tc.min)
	}
}

func BenchmarkCheckMinInterval(b *testing.B) {
	c, err := Parse("* * * * *", "America/New_York")
	require.NoError(b, err)
	c2, err := Parse("*/5 * * * *", "Australia/Lord_Howe")
	require.NoError(b, err)
	for b.Loop() {
		_ = c.CheckMinInterval(time.Minute)
		_ = c.CheckMinInterval(2 * time.Minute)
		_ = c2.CheckMinInterval(5 * time.Minute)
	}
}

// checkTemporalSpec validates a spec the way server 1.32 does
// (validateStructuredCalendar, validateInterval) and checks that every
// calendar field is set explicitly.
func checkTemporalSpec(t *testing.T, spec client.ScheduleSpec) {
	t.Helper()
	checkRanges := func(rs []client.ScheduleRange, field string, lo, hi int) {
		for _, r := range rs {
			require.True(t, r.Start >= lo && r.Start <= hi, "%s Start %d", field, r.Start)
			require.True(t, r.End == 0 || r.End >= r.Start && r.End <= hi, "%s End %d", field, r.End)
			require.GreaterOrEqual(t, r.Step, 0)
		}
	}
	for _, cal := range append(append([]client.ScheduleCalendarSpec{}, spec.Calendars...), spec.Skip...) {
		require.NotNil(t, cal.Second)
		require.NotNil(t, cal.Minute)
		require.NotNil(t, cal.Hour)
		require.NotNil(t, cal.DayOfMonth)
		require.NotNil(t, cal.Month)
		require.NotNil(t, cal.DayOfWeek)
		checkRanges(cal.Second, "Second", 0, 59)
		checkRanges(cal.Minute, "Minute", 0, 59)
		checkRanges(cal.Hour, "Hour", 0, 23)
		checkRanges(cal.DayOfMonth, "DayOfMonth", 1, 31)
		checkRanges(cal.Month, "Month", 1, 12)
		checkRanges(cal.Year, "Year", 2000, 2100)
		checkRanges(cal.DayOfWeek, "DayOfWeek", 0, 6)
		require.LessOrEqual(t, len(cal.Comment), 200)
	}
	for _, iv := range spec.Intervals {
		require.GreaterOrEqual(t, iv.Every, time.Second)
		require.GreaterOrEqual(t, iv.Offset, time.Duration(0))
		require.Less(t, iv.Offset, iv.Every)
	}
	require.Empty(t, spec.CronExpressions)
	require.NotEmpty(t, spec.TimeZoneName)
}

// TestCronTemporalSpecCases: for every table case, Temporal's evaluation of
// the compiled spec (the server's algorithm, ported in
// temporalsim_test.go) gives exactly our firings.
func TestCronTemporalSpecCases(t *testing.T) {
	t.Parallel()
	for _, tc := range append(append([]cronCase{}, cronCases...), futureCronCases...) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(tc.expr, tc.zone)
			require.NoError(t, err)
			from, err := time.Parse(time.RFC3339, tc.from)
			require.NoError(t, err)
			var want []string
			for _, s := range tc.want {
				if w, _ := time.Parse(time.RFC3339, s); w.Year() <= 2100 { // Temporal's calendars end in 2100
					want = append(want, s)
				}
			}
			if len(want) == 0 {
				return
			}
			last, _ := time.Parse(time.RFC3339, want[len(want)-1])

			// A horizon that covers all five firings.
			spec := c.temporalSpec(from, last.Add(24*time.Hour))
			checkTemporalSpec(t, spec)
			got, err := simTimes(spec, from, last, len(want))
			require.NoError(t, err)
			require.Equal(t, want, formatIn(got, c.loc))

			// The public spec: exact up to SpecRefreshAfter.
			spec = c.TemporalSpec(from)
			checkTemporalSpec(t, spec)
			until := last
			if r := c.SpecRefreshAfter(from); !r.IsZero() && r.Before(until) {
				until = r
			}
			got, err = simTimes(spec, from, until, len(want))
			require.NoError(t, err)
			require.Equal(t, formatTimes(c.NextN(from, len(got))), formatIn(got, c.loc))
		})
	}
}

func formatIn(ts []time.Time, loc *time.Location) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.In(loc).Format(time.RFC3339)
	}
	return out
}

var dstZones = []string{"America/New_York", "Europe/London", "Australia/Lord_Howe", "Australia/Adelaide",
	"Asia/Kolkata", "Asia/Kathmandu", "America/Santiago", "America/Havana", "Pacific/Chatham", "Europe/Berlin",
	"Pacific/Auckland", "UTC", "America/St_Johns", "Africa/Cairo", "Asia/Gaza", "Africa/Casablanca", "Australia/Sydney"}

func randCronField(r *rand.Rand, lo, hi int) string {
	switch r.Intn(7) {
	case 0, 1:
		return "*"
	case 2:
		return fmt.Sprintf("*/%d", 1+r.Intn((hi-lo)/2+1))
	case 3:
		a := lo + r.Intn(hi-lo+1)
		return fmt.Sprintf("%d-%d", a, a+r.Intn(hi-a+1))
	case 4:
		parts := make([]string, 1+r.Intn(4))
		for i := range parts {
			parts[i] = fmt.Sprint(lo + r.Intn(hi-lo+1))
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(lo + r.Intn(hi-lo+1))
}

// randCronExpr biases the hour towards the hours of DST transitions.
func randCronExpr(r *rand.Rand) string {
	h := randCronField(r, 0, 23)
	if r.Intn(2) == 0 {
		h = fmt.Sprint([]int{0, 1, 2, 3, 22, 23}[r.Intn(6)])
		if r.Intn(3) == 0 {
			h += "," + fmt.Sprint(r.Intn(24))
		}
	}
	return fmt.Sprintf("%s %s %s %s %s", randCronField(r, 0, 59), h, randCronField(r, 1, 31),
		randCronField(r, 1, 12), randCronField(r, 0, 6))
}

// TestCronTemporalSpecRandom: random expressions, zones and compile times;
// Temporal (simulated) and Next agree on every firing until the refresh time.
func TestCronTemporalSpecRandom(t *testing.T) {
	t.Parallel()
	n := 400
	if testing.Short() {
		n = 60
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < n; i++ {
		expr, zone := randCronExpr(r), dstZones[r.Intn(len(dstZones))]
		now := time.Date(2025+r.Intn(3), time.Month(1+r.Intn(12)), 1+r.Intn(28), r.Intn(24), r.Intn(60), r.Intn(60), 0, time.UTC)
		c, err := Parse(expr, zone)
		if err != nil {
			continue
		}
		spec := c.TemporalSpec(now)
		checkTemporalSpec(t, spec)
		until := c.SpecRefreshAfter(now)
		if until.IsZero() {
			until = now.AddDate(2, 0, 0)
		}
		got, err := simTimes(spec, now, until, 5000)
		require.NoError(t, err)
		var want []time.Time
		for u := c.Next(now); !u.IsZero() && !u.After(until) && len(want) < len(got)+1; u = c.Next(u) {
			want = append(want, u)
		}
		if len(got) == 5000 && len(want) > len(got) {
			want = want[:len(got)] // Temporal's list was cut at the cap
		}
		if i, diff := firstDiff(formatTimes(want), formatIn(got, c.loc)); diff != "" {
			t.Fatalf("%q in %s compiled at %s: firing #%d: %s", expr, zone, now, i, diff)
		}
	}
}

// firstDiff compares our firings with Temporal's and describes the first difference.
func firstDiff(ours, temporal []string) (int, string) {
	for i := 0; i < len(ours) || i < len(temporal); i++ {
		switch {
		case i >= len(ours):
			return i, "Temporal has an extra " + temporal[i]
		case i >= len(temporal):
			return i, "Temporal lacks " + ours[i]
		case ours[i] != temporal[i]:
			return i, "ours " + ours[i] + ", Temporal " + temporal[i]
		}
	}
	return 0, ""
}

// TestTemporalSimReproducesServerQuirks pins the DST behaviour measured on a
// real Temporal 1.32 server with plain zone calendars, so the simulation is
// known to model the server, and shows why the spec needs the DST fix-up.
func TestTemporalSimReproducesServerQuirks(t *testing.T) {
	t.Parallel()
	plain := func(expr, zone string) client.ScheduleSpec {
		c, err := Parse(expr, zone)
		require.NoError(t, err)
		return client.ScheduleSpec{TimeZoneName: zone, Calendars: c.baseCalendars(nil)}
	}
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return ts
	}
	sim := func(spec client.ScheduleSpec, from, until string) []string {
		ts, err := simTimes(spec, at(from), at(until), 100)
		require.NoError(t, err)
		loc, _ := time.LoadLocation(spec.TimeZoneName)
		return formatIn(ts, loc)
	}
	// New York 02:00 does not run on the spring-forward day.
	require.Equal(t, []string{"2026-03-07T02:00:00-05:00", "2026-03-09T02:00:00-04:00"},
		sim(plain("0 2 * * *", "America/New_York"), "2026-03-07T00:00:00Z", "2026-03-09T12:00:00Z"))
	// New York 01:00 runs twice on the fall-back day.
	require.Equal(t, []string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"},
		sim(plain("0 1 * * *", "America/New_York"), "2026-11-01T00:00:00Z", "2026-11-01T12:00:00Z"))
	// London 01:30 runs once, at the second occurrence.
	require.Equal(t, []string{"2026-10-25T01:30:00Z"},
		sim(plain("30 1 * * *", "Europe/London"), "2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z"))
	// Lord Howe 02:15 runs at 02:45 on the spring-forward day.
	require.Equal(t, []string{"2026-10-04T02:45:00+11:00"},
		sim(plain("15 2 * * *", "Australia/Lord_Howe"), "2026-10-03T00:00:00Z", "2026-10-04T12:00:00Z"))
	// Adelaide quarter hours: a single run (16:45Z) between 15:30Z and 18:00Z.
	require.Equal(t, []string{"2026-04-05T02:15:00+09:30"},
		sim(plain("0,15,30,45 * * * *", "Australia/Adelaide"), "2026-04-04T15:30:00Z", "2026-04-04T17:59:59Z"))
}

func TestCronTemporalSpecShape(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

	c, err := Parse("0 9 * * 1-5", "UTC")
	require.NoError(t, err)
	spec := c.TemporalSpec(now)
	require.Equal(t, client.ScheduleSpec{
		TimeZoneName: "UTC",
		Calendars: []client.ScheduleCalendarSpec{{
			Second:     []client.ScheduleRange{{Start: 0, End: 0}},
			Minute:     []client.ScheduleRange{{Start: 0, End: 0}},
			Hour:       []client.ScheduleRange{{Start: 9, End: 9}},
			DayOfMonth: []client.ScheduleRange{{Start: 1, End: 31}},
			Month:      []client.ScheduleRange{{Start: 1, End: 12}},
			DayOfWeek:  []client.ScheduleRange{{Start: 1, End: 5}},
			Comment:    "0 9 * * 1-5",
		}},
	}, spec)
	require.True(t, c.SpecRefreshAfter(now).IsZero(), "UTC never needs a refresh")

	// Both day fields restricted: two calendars (OR).
	c, err = Parse("0 12 13 * FRI", "Asia/Kolkata")
	require.NoError(t, err)
	spec = c.TemporalSpec(now)
	require.Len(t, spec.Calendars, 2)
	require.Equal(t, []client.ScheduleRange{{Start: 13, End: 13}}, spec.Calendars[0].DayOfMonth)
	require.Equal(t, []client.ScheduleRange{{Start: 0, End: 6}}, spec.Calendars[0].DayOfWeek)
	require.Equal(t, []client.ScheduleRange{{Start: 1, End: 31}}, spec.Calendars[1].DayOfMonth)
	require.Equal(t, []client.ScheduleRange{{Start: 5, End: 5}}, spec.Calendars[1].DayOfWeek)

	// New York: the spring-forward run of a 02:30 job is a one-instant interval.
	c, err = Parse("30 2 * * *", "America/New_York")
	require.NoError(t, err)
	spec = c.TemporalSpec(now)
	checkTemporalSpec(t, spec)
	require.Equal(t, "America/New_York", spec.TimeZoneName)
	require.Contains(t, spec.Intervals, client.ScheduleIntervalSpec{
		Every:  20000 * 24 * time.Hour,
		Offset: time.Duration(time.Date(2027, 3, 14, 7, 0, 0, 0, time.UTC).Unix()-20000*86400) * time.Second,
	})
	// Refresh two days before the first transition after the 400-day horizon
	// (2028-03-12T07:00Z).
	require.Equal(t, "2028-03-10T02:00:00-05:00", c.SpecRefreshAfter(now).Format(time.RFC3339))
}

// fuzzParseCronSeeds is FuzzParseCron's seed corpus; TestCronTemporalServerFuzzCorpus
// also runs its accepted expressions against the real Temporal server.
var fuzzParseCronSeeds = func() []fuzzCronInput {
	var out []fuzzCronInput
	for _, seed := range []string{"0 9 * * 1-5", "*/15 * * * *", "0 0 29 2 *", "@weekly", "0 12 13 * FRI",
		"30 2 * * *", "0 0 30 2 *", "0 0 ? * *", "@every 5m", "5/20 1-3 */2 JAN-MAR mon,fri", "* * * * *", "0 0 L * *"} {
		out = append(out, fuzzCronInput{seed, 1774000000, 0}, fuzzCronInput{seed, 1792000000, 2})
	}
	return out
}()

// fuzzCronInput is one input of FuzzParseCron.
type fuzzCronInput struct {
	expr     string
	fromUnix int64
	zone     uint8
}

// fuzzParseCronZones: the zone of an input is fuzzParseCronZones[zone % len].
var fuzzParseCronZones = []string{"UTC", "America/New_York", "Australia/Lord_Howe", "Europe/London", "Asia/Kathmandu", "America/Santiago"}

func (in fuzzCronInput) zoneName() string {
	return fuzzParseCronZones[int(in.zone)%len(fuzzParseCronZones)]
}

func FuzzParseCron(f *testing.F) {
	for _, in := range fuzzParseCronSeeds {
		f.Add(in.expr, in.fromUnix, in.zone)
	}
	f.Fuzz(func(t *testing.T, expr string, fromUnix int64, zone uint8) {
		// Keep `from` within 1990–2300.
		fromUnix = 631152000 + (fromUnix%10_000_000_000+10_000_000_000)%10_000_000_000
		from := time.Unix(fromUnix, 0)
		startTiming := time.Now()
		defer func() {
			if d := time.Since(startTiming); d > 2*time.Second {
				t.Fatalf("SLOW %s", d)
			}
		}()
		c, err := Parse(expr, fuzzCronInput{expr, fromUnix, zone}.zoneName())
		if err != nil {
			var verr *problem.Error
			require.True(t, errors.As(err, &verr))
			require.Equal(t, problem.InvalidCron, verr.Kind)
			require.NotEmpty(t, verr.Detail)
			return
		}
		require.NotEmpty(t, c.Describe())
		ts := c.NextN(from, 5)
		prev := from
		for i, x := range ts {
			require.True(t, x.After(prev), "#%d %s not after %s", i, x, prev)
			require.Equal(t, x, c.Next(prev))
			if i > 0 {
				require.Equal(t, ts[i-1], c.Prev(x))
			}
			prev = x
		}
		if len(ts) > 0 {
			require.Equal(t, ts[0], c.Next(from))
		}
	})
}
