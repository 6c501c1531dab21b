package schedules

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/google/uuid"

	"schedsvc/problem"
)

// encodeCursor makes the opaque next_cursor of a page from the keyset
// position of its last item.
func encodeCursor(k Keyset) string {
	raw := k.At.UTC().Format(time.RFC3339Nano) + "," + k.ID.String()
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (Keyset, error) {
	bad := problem.Invalid(problem.InvalidRequest, "cursor", "the cursor is not one this API returned; pass next_cursor from a previous page unchanged")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Keyset{}, bad
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
// holds, which tells whether another page follows.
func listQuery(p PageRequest) (ListQuery, error) {
	q := ListQuery{Limit: p.PageSize + 1, Offset: (p.Page - 1) * p.PageSize}
	if p.Cursor != "" {
		after, err := decodeCursor(p.Cursor)
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
