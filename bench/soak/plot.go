package main

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// writePlot draws RSS, p99 latency and goroutines over the soak, one panel
// each, into a PNG.
func writePlot(path string, rows []sampleRow, title string) error {
	series := func(f func(sampleRow) float64) plotter.XYs {
		xy := make(plotter.XYs, 0, len(rows))
		for _, r := range rows {
			xy = append(xy, plotter.XY{X: r.Seconds / 60, Y: f(r)})
		}
		return xy
	}
	// Latency only where requests were due (none are after the budget).
	due := func(f func(sampleRow) float64) plotter.XYs {
		xy := make(plotter.XYs, 0, len(rows))
		for _, r := range rows {
			if r.Requests > 0 {
				xy = append(xy, plotter.XY{X: r.Seconds / 60, Y: f(r)})
			}
		}
		return xy
	}
	blue := color.RGBA{R: 31, G: 119, B: 180, A: 255}
	orange := color.RGBA{R: 255, G: 127, B: 14, A: 255}
	panel := func(title, ylabel string, legendTop bool, lines ...any) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "minutes into the soak"
		p.Y.Label.Text = ylabel
		p.X.Min, p.Y.Min = 0, 0
		p.Add(plotter.NewGrid())
		p.Legend.Top = legendTop
		p.Legend.Left = true
		for i := 0; i < len(lines); i += 3 {
			l, err := plotter.NewLine(lines[i+1].(plotter.XYs))
			if err != nil {
				return nil, err
			}
			l.Color = lines[i+2].(color.Color)
			l.Width = vg.Points(1.5)
			p.Add(l)
			p.Legend.Add(lines[i].(string), l)
		}
		return p, nil
	}
	rss, err := panel(title+": resident memory", "RSS (MiB)", false,
		"gateway", series(func(r sampleRow) float64 { return float64(r.GatewayRSSKiB) / 1024 }), blue,
		"worker", series(func(r sampleRow) float64 { return float64(r.WorkerRSSKiB) / 1024 }), orange)
	if err != nil {
		return err
	}
	lat, err := panel("p99 latency per 10 s window", "p99 (ms)", true,
		"from due time", due(func(r sampleRow) float64 { return r.P99Millis }), blue,
		"from sending", due(func(r sampleRow) float64 { return r.ServiceP99Millis }), orange)
	if err != nil {
		return err
	}
	gor, err := panel("goroutines", "goroutines", false,
		"gateway", series(func(r sampleRow) float64 { return float64(r.GatewayGoroutines) }), blue,
		"worker", series(func(r sampleRow) float64 { return float64(r.WorkerGoroutines) }), orange)
	if err != nil {
		return err
	}
	img := vgimg.New(vg.Points(720), vg.Points(900))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 3, Cols: 1, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 5}
	plots := [][]*plot.Plot{{rss}, {lat}, {gor}}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
