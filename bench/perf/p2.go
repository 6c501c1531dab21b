package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// p2Point is the latency of reading one page, over HTTP and in the seed's SQL shape.
type p2Point struct {
	Page     int  `json:"page"`
	Ours     dist `json:"ours_ms"`
	Baseline dist `json:"seed_shape_ms"`
}

type p2Result struct {
	Runs     int       `json:"runs"`
	PageSize int       `json:"page_size"`
	SeedTime string    `json:"seed_time"`
	Reps     int       `json:"reps"`
	BaseReps int       `json:"seed_shape_reps"`
	Points   []p2Point `json:"points"`
	// The deepest page again, by the cursor the page before it hands out.
	Cursor *p2Point `json:"cursor,omitempty"`
}

// worst is the slowest page (by median) over the first page's median, and that page.
func (r *p2Result) worst() (float64, p2Point) {
	if len(r.Points) == 0 {
		return 0, p2Point{}
	}
	first := r.Points[0].Ours.P50
	w, wp := 0.0, r.Points[0]
	for _, p := range r.Points {
		if x := ratio(p.Ours.P50, first); x > w {
			w, wp = x, p
		}
	}
	return w, wp
}

const p2PageSize = 20

func (b *bench) p2(ctx context.Context) (*p2Result, error) {
	u, err := b.newUser("p2")
	if err != nil {
		return nil, err
	}
	id, err := b.create(ctx, u, yearly, 0)
	if err != nil {
		return nil, err
	}
	r := &p2Result{Runs: b.o.p2Runs, PageSize: p2PageSize, Reps: b.o.p2Reps, BaseReps: max(3, b.o.p2Reps/4)}
	fmt.Fprintf(b.say, "  seeding %d runs with generate_series\n", r.Runs)
	t0 := time.Now()
	if _, err := b.pool.Exec(ctx, query("seed_runs"), id, r.Runs); err != nil {
		return nil, fmt.Errorf("seed runs: %w", err)
	}
	if _, err := b.pool.Exec(ctx, query("seed_counter"), id, r.Runs); err != nil {
		return nil, fmt.Errorf("seed counter: %w", err)
	}
	if _, err := b.pool.Exec(ctx, query("analyze")); err != nil {
		return nil, err
	}
	r.SeedTime = time.Since(t0).Round(100 * time.Millisecond).String()
	fmt.Fprintf(b.say, "  seeded in %s\n", r.SeedTime)
	last := (r.Runs + p2PageSize - 1) / p2PageSize
	var pages []int
	for _, page := range b.o.p2Pages {
		if page <= last {
			pages = append(pages, page)
		}
	}
	path := func(page int) string {
		return fmt.Sprintf("/api/v1/schedules/%s/runs?page=%d&page_size=%d", id, page, p2PageSize)
	}
	// One read of each page that is not timed: the answer must be a full page.
	for _, page := range pages {
		var items struct {
			Runs []struct {
				ID string `json:"id"`
			} `json:"runs"`
		}
		if _, err := b.do(ctx, u, http.MethodGet, path(page), nil, &items); err != nil {
			return nil, err
		}
		if want := min(p2PageSize, r.Runs-(page-1)*p2PageSize); len(items.Runs) != want {
			return nil, fmt.Errorf("page %d holds %d runs, want %d", page, len(items.Runs), want)
		}
	}
	// The deepest page by cursor: the next_cursor of the page before it.
	deepest := pages[len(pages)-1]
	var cursorPath string
	if deepest > 1 {
		var prev struct {
			NextCursor *string `json:"next_cursor"`
		}
		if _, err := b.do(ctx, u, http.MethodGet, path(deepest-1), nil, &prev); err != nil {
			return nil, err
		}
		if prev.NextCursor == nil {
			return nil, fmt.Errorf("page %d has no next_cursor", deepest-1)
		}
		cursorPath = fmt.Sprintf("/api/v1/schedules/%s/runs?cursor=%s&page_size=%d", id, url.QueryEscape(*prev.NextCursor), p2PageSize)
	}
	var byCursor []float64
	// Round by round over every page, so that a burst of other load on the machine falls on
	// all depths alike rather than on one.
	ours := make([][]float64, len(pages))
	base := make([][]float64, len(pages))
	for rep := range r.Reps {
		if cursorPath != "" {
			t := time.Now()
			if _, err := b.do(ctx, u, http.MethodGet, cursorPath, nil, nil); err != nil {
				return nil, err
			}
			byCursor = append(byCursor, millis(time.Since(t)))
		}
		for i, page := range pages {
			t := time.Now()
			if _, err := b.do(ctx, u, http.MethodGet, path(page), nil, nil); err != nil {
				return nil, err
			}
			ours[i] = append(ours[i], millis(time.Since(t)))
			// The seed's shape at depth can take seconds a read: one slow read is figure enough.
			if rep < r.BaseReps && (rep == 0 || base[i][0] < 2000) {
				t := time.Now()
				if err := b.seedShapePage(ctx, id, page); err != nil {
					return nil, err
				}
				base[i] = append(base[i], millis(time.Since(t)))
			}
		}
	}
	if cursorPath != "" {
		r.Cursor = &p2Point{Page: deepest, Ours: summarise(byCursor)}
		fmt.Fprintf(b.say, "  page %6d by cursor: p50 %7.2f ms (p99 %7.2f)\n", deepest, r.Cursor.Ours.P50, r.Cursor.Ours.P99)
	}
	for i, page := range pages {
		p := p2Point{Page: page, Ours: summarise(ours[i]), Baseline: summarise(base[i])}
		r.Points = append(r.Points, p)
		fmt.Fprintf(b.say, "  page %6d: ours p50 %7.2f ms (p99 %7.2f)   seed shape p50 %8.2f ms\n", page, p.Ours.P50, p.Ours.P99, p.Baseline.P50)
	}
	return r, nil
}

// seedShapePage reads a page the way the seed did: COUNT(*) over the view for the total, then
// an OFFSET page ordered by trigger time, every row read to the client.
func (b *bench) seedShapePage(ctx context.Context, id string, page int) error {
	var n int64
	if err := b.pool.QueryRow(ctx, query("seed_shape_count"), id).Scan(&n); err != nil {
		return err
	}
	rows, err := b.pool.Query(ctx, query("seed_shape_page"), id, p2PageSize, (page-1)*p2PageSize)
	if err != nil {
		return err
	}
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	return rows.Err()
}
