package schedules

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"schedsvc/problem"
)

// encodeCursor makes the opaque next_cursor of a page from the keyset
// position of its last item: "#seq" for runs, "time,id" for schedules.
func encodeCursor(k Keyset) string {
	raw := k.At.UTC().Format(time.RFC3339Nano) + "," + k.ID.String()
	if k.Seq > 0 {
		raw = "#" + strconv.FormatInt(k.Seq, 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeCursor reads a cursor of the kind the list takes: bySeq for runs.
func decodeCursor(s string, bySeq bool) (Keyset, error) {
	bad := problem.Invalid(problem.InvalidRequest, "cursor", "the cursor is not one this API returned; pass next_cursor from a previous page unchanged")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Keyset{}, bad
	}
	if seq, isSeq := strings.CutPrefix(string(raw), "#"); isSeq || bySeq {
		n, err := strconv.ParseInt(seq, 10, 64)
		if !isSeq || !bySeq || err != nil || n < 1 {
			return Keyset{}, bad
		}
		return Keyset{Seq: n}, nil
	}
	at, id, ok := strings.Cut(string(raw), ",")
	if !ok {
		return Keyset{}, bad
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return Keyset{}, bad
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return Keyset{}, bad
	}
	return Keyset{At: t, ID: u}, nil
}

// listQuery is what the store reads for page p: one row more than the page
// holds, which tells whether another page follows. bySeq says the list is
// of runs, positioned by sequence number.
func listQuery(p PageRequest, bySeq bool) (ListQuery, error) {
	q := ListQuery{Limit: p.PageSize + 1, Offset: (p.Page - 1) * p.PageSize}
	if p.Cursor != "" {
		after, err := decodeCursor(p.Cursor, bySeq)
		if err != nil {
			return ListQuery{}, err
		}
		q.After, q.Offset = &after, 0
	}
	return q, nil
}

// pageOf turns the items listQuery read into the page and the cursor of
// the page after it.
func pageOf[T any](items []T, p PageRequest, total int64, position func(T) Keyset) Page[T] {
	page := Page[T]{Total: total, Page: p.Page, PageSize: p.PageSize, Items: items}
	if len(items) > p.PageSize {
		page.Items = items[:p.PageSize]
		next := encodeCursor(position(page.Items[p.PageSize-1]))
		page.NextCursor = &next
	}
	return page
}
