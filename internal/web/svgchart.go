package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// A small SVG chart renderer for the analytics pages: line, bar and
// histogram charts drawn on the server, so they need no JavaScript and
// pass the CSP (presentation attributes and classes, no inline style).
// Every chart has a <title> and <desc> the svg is labelled by; the pages
// show the same figures in a table next to it. A chart without data draws
// its frame and says so.

// chartSeries is one line of a line chart.
type chartSeries struct {
	Name   string
	Values []float64
}

// chart is what a chart is drawn from.
type chart struct {
	ID     string // unique on the page: ids of title and desc
	Title  string
	Desc   string
	Labels []string // x labels, one per value
	Series []chartSeries
	Empty  string // the text shown without data
	// YFormat formats the y axis ticks; plain numbers when nil.
	YFormat func(float64) string
}

const (
	chartW, chartH         = 640, 240
	padL, padR, padT, padB = 56, 12, 12, 40
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
	maxXLabels             = 8
	seriesClasses          = 6
	emptyTextX, emptyTextY = chartW / 2, chartH / 2
	ticks                  = 4
	barGapRatio            = 0.2
	histogramBarGapRatio   = 0.02
	defaultNoData          = "No data for this period"
	svgOpen                = `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`
	svgTitle               = `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`
	svgFrame               = `<rect class="frame" x="%d" y="%d" width="%d" height="%d" fill="none"/>`
	svgEmpty               = `<text class="empty" x="%d" y="%d" text-anchor="middle">%s</text>`
	svgTick                = `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/><text class="tick" x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`
	svgXLabel              = `<text class="tick" x="%s" y="%d" text-anchor="middle">%s</text>`
	svgLegendItem          = `<text class="legend s%d" x="%d" y="%d">%s</text>`
	svgBar                 = `<rect class="bar s%d" x="%s" y="%s" width="%s" height="%s"><title>%s: %s</title></rect>`
	svgLine                = `<polyline class="line s%d" fill="none" points="%s"><title>%s</title></polyline>`
)

func fnum(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

func plainNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// niceMax rounds a maximum up to 1, 2, 2.5 or 5 times a power of ten so
// the ticks read well; at least 1.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func (c *chart) start(b *strings.Builder) {
	fmt.Fprintf(b, svgOpen, chartW, chartH, c.ID, c.ID)
	fmt.Fprintf(b, svgTitle, c.ID, html.EscapeString(c.Title), c.ID, html.EscapeString(c.Desc))
	fmt.Fprintf(b, svgFrame, padL, padT, plotW, plotH)
}

func (c *chart) empty(b *strings.Builder) template.HTML {
	msg := c.Empty
	if msg == "" {
		msg = defaultNoData
	}
	fmt.Fprintf(b, svgEmpty, emptyTextX, emptyTextY, html.EscapeString(msg))
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

// hasData reports whether any value is not zero.
func (c *chart) hasData() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v != 0 {
				return true
			}
		}
	}
	return false
}

func (c *chart) yAxis(b *strings.Builder, top float64) {
	f := c.YFormat
	if f == nil {
		f = plainNum
	}
	for i := 0; i <= ticks; i++ {
		v := top * float64(i) / ticks
		y := fnum(float64(padT+plotH) - float64(plotH)*float64(i)/ticks)
		fmt.Fprintf(b, svgTick, padL, padL+plotW, y, y, padL-6, y, html.EscapeString(f(v)))
	}
}

// xLabels writes at most maxXLabels labels, evenly picked, at the x of
// each slot.
func (c *chart) xLabels(b *strings.Builder, x func(i int) float64) {
	n := len(c.Labels)
	step := max(1, (n+maxXLabels-1)/maxXLabels)
	for i := 0; i < n; i += step {
		fmt.Fprintf(b, svgXLabel, fnum(x(i)), padT+plotH+16, html.EscapeString(c.Labels[i]))
	}
}

func (c *chart) legend(b *strings.Builder) {
	if len(c.Series) < 2 {
		return
	}
	x := padL
	for i, s := range c.Series {
		fmt.Fprintf(b, svgLegendItem, i%seriesClasses, x, chartH-6, html.EscapeString("■ "+s.Name))
		x += 14 + 7*len([]rune(s.Name))
	}
}

func (c *chart) top() float64 {
	m := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			m = max(m, v)
		}
	}
	return niceMax(m)
}

// lineChart draws each series as a line over the labels.
func lineChart(c chart) template.HTML {
	var b strings.Builder
	c.start(&b)
	if len(c.Labels) == 0 || !c.hasData() {
		return c.empty(&b)
	}
	top := c.top()
	c.yAxis(&b, top)
	n := len(c.Labels)
	x := func(i int) float64 {
		if n == 1 {
			return padL + plotW/2
		}
		return padL + float64(plotW)*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return float64(padT+plotH) - float64(plotH)*v/top }
	for si, s := range c.Series {
		pts := make([]string, 0, len(s.Values))
		for i, v := range s.Values {
			pts = append(pts, fnum(x(i))+","+fnum(y(v)))
		}
		fmt.Fprintf(&b, svgLine, si%seriesClasses, strings.Join(pts, " "), html.EscapeString(s.Name))
	}
	c.xLabels(&b, x)
	c.legend(&b)
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

// barChart draws the first series as bars, one per label (stacked series
// are not needed by the pages).
func barChart(c chart) template.HTML {
	return bars(c, barGapRatio)
}

// histogramChart draws bins as touching bars.
func histogramChart(c chart) template.HTML {
	return bars(c, histogramBarGapRatio)
}

func bars(c chart, gap float64) template.HTML {
	var b strings.Builder
	c.start(&b)
	if len(c.Labels) == 0 || len(c.Series) == 0 || !c.hasData() {
		return c.empty(&b)
	}
	top := c.top()
	c.yAxis(&b, top)
	n := len(c.Labels)
	slot := float64(plotW) / float64(n)
	w := slot * (1 - gap)
	f := c.YFormat
	if f == nil {
		f = plainNum
	}
	for i, v := range c.Series[0].Values {
		h := float64(plotH) * v / top
		fmt.Fprintf(&b, svgBar, 0, fnum(padL+slot*float64(i)+slot*gap/2), fnum(float64(padT+plotH)-h), fnum(w), fnum(h),
			html.EscapeString(c.Labels[i]), html.EscapeString(f(v)))
	}
	c.xLabels(&b, func(i int) float64 { return padL + slot*(float64(i)+0.5) })
	b.WriteString("</svg>")
	return template.HTML(b.String())
}
