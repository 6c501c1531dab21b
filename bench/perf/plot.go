package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255}, // ours
	color.RGBA{R: 255, G: 127, B: 14, A: 255}, // baseline
	color.RGBA{R: 44, G: 160, B: 44, A: 255},
}

type series struct {
	name   string
	xy     plotter.XYs
	points bool // mark each measurement
}

type chart struct {
	title, x, y string
	logX, logY  bool
	legendLeft  bool
	legendTop   bool
	yMax        float64   // 0: automatic
	legendDrop  vg.Length // how far below the top a top legend sits; 0: just below the title
	series      []series
	xTicks      []float64 // labelled x values (the levels measured); nil: automatic
}

// linearTicks labels about six round values between min and max.
type linearTicks struct{}

func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi <= lo {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'f', -1, 64)}}
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	dec := 0
	for dec < 6 && math.Abs(step*math.Pow(10, float64(dec))-math.Round(step*math.Pow(10, float64(dec)))) > 1e-9 {
		dec++
	}
	var ts []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi+step/1e6; i++ {
		ts = append(ts, plot.Tick{Value: i * step, Label: strconv.FormatFloat(i*step, 'f', dec, 64)})
	}
	return ts
}

// draw writes c as a 720×432 pt PNG.
func (c chart) draw(path string) error {
	p := plot.New()
	p.Title.Text = c.title
	p.X.Label.Text = c.x
	p.Y.Label.Text = c.y
	p.Add(plotter.NewGrid())
	p.Legend.Left, p.Legend.Top = c.legendLeft, c.legendTop
	if c.legendTop {
		p.Legend.YOffs = -max(vg.Points(14), c.legendDrop) // below the title
	}
	p.Legend.XOffs = map[bool]vg.Length{true: vg.Points(8), false: -vg.Points(8)}[c.legendLeft]
	if c.logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if c.logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	} else {
		p.Y.Min = 0
		p.Y.Tick.Marker = linearTicks{}
	}
	if !c.logX {
		p.X.Tick.Marker = linearTicks{}
	}
	if c.xTicks != nil {
		var ts []plot.Tick
		for _, v := range c.xTicks {
			ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ts)
	}
	if c.yMax > 0 {
		p.Y.Max = c.yMax
	}
	for i, s := range c.series {
		if len(s.xy) == 0 {
			continue
		}
		l, err := plotter.NewLine(s.xy)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, s.name, err)
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.name, l)
		if s.points {
			sc, err := plotter.NewScatter(s.xy)
			if err != nil {
				return err
			}
			sc.Color = l.Color
			sc.Shape = draw.CircleGlyph{}
			sc.Radius = vg.Points(3)
			p.Add(sc)
		}
	}
	return p.Save(720, 432, path)
}

// cdf is the empirical distribution of vs among total values (those beyond vs never came): y
// is the fraction of total at or below x.
func cdf(vs []float64, total int) plotter.XYs {
	s := slices.Clone(vs)
	slices.Sort(s)
	xy := make(plotter.XYs, 0, 2*len(s)+1)
	if len(s) > 0 {
		xy = append(xy, plotter.XY{X: min(0, s[0]), Y: 0})
	}
	for i, v := range s {
		xy = append(xy, plotter.XY{X: v, Y: float64(i) / float64(total)}, plotter.XY{X: v, Y: float64(i+1) / float64(total)})
	}
	return xy
}

// writePlots draws one PNG per figure measured and returns their paths.
func writePlots(dir string, r *results) ([]string, error) {
	var out []string
	save := func(name string, c chart) error {
		path := filepath.Join(dir, name)
		if err := c.draw(path); err != nil {
			return err
		}
		out = append(out, path)
		return nil
	}
	if r.P1 != nil {
		var ticks []float64
		xy := func(ps []p1Point) plotter.XYs {
			var v plotter.XYs
			ticks = nil
			for _, p := range ps {
				v = append(v, plotter.XY{X: float64(p.Conns), Y: p.RPS})
				ticks = append(ticks, float64(p.Conns))
			}
			return v
		}
		ours, base := xy(r.P1.Ours), xy(r.P1.Baseline)
		if err := save("bench-p1.png", chart{title: "P1: GET /api/v1/schedules/{id} (wrk, " + r.P1.Duration + " each)",
			x: "connections", y: "requests per second", logX: true, legendLeft: false, legendTop: false,
			series: []series{{"gateway", ours, true}, {"bare net/http + pgx point select", base, true}}, xTicks: ticks}); err != nil {
			return nil, err
		}
	}
	if r.P2 != nil {
		var ours, base plotter.XYs
		for _, p := range r.P2.Points {
			ours = append(ours, plotter.XY{X: float64(p.Page), Y: p.Ours.P50})
			base = append(base, plotter.XY{X: float64(p.Page), Y: p.Baseline.P50})
		}
		if err := save("bench-p2.png", chart{title: fmt.Sprintf("P2: one page of a history of %s runs (median of each page)", thousands(r.P2.Runs)),
			x: "page number (20 runs a page, newest first)", y: "latency (ms)", logX: true, logY: true, legendLeft: true, legendTop: true, legendDrop: vg.Points(130),
			series: []series{{"GET /runs?page=n through the gateway", ours, true}, {"the seed's shape: COUNT(*) + OFFSET over the view", base, true}}}); err != nil {
			return nil, err
		}
	}
	if r.P3 != nil {
		line := func(s *p3Set) series {
			name := s.Name
			if s.Started < s.Count {
				name = fmt.Sprintf("%s (%d of %d started within %s)", s.Name, s.Started, s.Count, waitFor)
			}
			return series{name, cdf(s.Lags, s.Count), false}
		}
		ss := []series{line(&r.P3.Ours), line(&r.P3.Floor)}
		if r.P3.OursTwo != nil {
			ss = append(ss, line(r.P3.OursTwo))
		}
		if err := save("bench-p3.png", chart{title: fmt.Sprintf("P3: %d schedules due in the same minute", r.P3.Count),
			x: "start lag (s): run started − time it was due", y: "fraction of the batch started", legendLeft: true, legendTop: true, yMax: 1,
			series: ss}); err != nil {
			return nil, err
		}
	}
	if r.P4 != nil {
		var ticks []float64
		xy := func(ps []p4Point) plotter.XYs {
			var v plotter.XYs
			ticks = nil
			for _, p := range ps {
				v = append(v, plotter.XY{X: float64(p.Callers), Y: p.Rate})
				ticks = append(ticks, float64(p.Callers))
			}
			return v
		}
		ours, raw := xy(r.P4.Ours), xy(r.P4.Raw)
		if err := save("bench-p4.png", chart{title: "P4: creating schedules, one user (" + r.P4.Duration + " each)",
			x: "concurrent callers", y: "schedules created per second", logX: true, legendLeft: true, legendTop: true,
			series: []series{{"POST /api/v1/schedules", ours, true}, {"raw ScheduleClient.Create", raw, true}}, xTicks: ticks}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
