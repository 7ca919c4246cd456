// Package opsmetrics is Rung's operations telemetry: counters, histograms
// and gauges served at /metrics in the Prometheus text exposition format
// (version 0.0.4), and an HTTP middleware that gives every request an id,
// a structured log line and a latency observation.
//
// The exposition is written here rather than with the Prometheus client
// library: Rung needs three kinds of metric and one output format, which
// is about two hundred lines, against a dependency tree (client_golang,
// its protobuf model and procfs) larger than the rest of Rung's.
package opsmetrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds metrics and writes them out.
type Registry struct {
	mu      sync.Mutex
	metrics []metric
}

type metric interface {
	name() string
	write(w *bufio.Writer)
}

func (r *Registry) add(m metric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = append(r.metrics, m)
}

// Write writes every metric in the text exposition format, by name.
func (r *Registry) Write(w io.Writer) error {
	r.mu.Lock()
	ms := append([]metric(nil), r.metrics...)
	r.mu.Unlock()
	sort.Slice(ms, func(i, j int) bool { return ms[i].name() < ms[j].name() })
	bw := bufio.NewWriter(w)
	for _, m := range ms {
		m.write(bw)
	}
	return bw.Flush()
}

// header writes a metric family's HELP and TYPE lines.
func header(w *bufio.Writer, name, help, typ string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

// labelText renders {a="x",b="y"}; extra is appended (the le of a bucket).
func labelText(names, values []string, extra ...string) string {
	if len(names) == 0 && len(extra) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s="%s"`, n, escapeLabel(values[i]))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s="%s"`, extra[i], escapeLabel(extra[i+1]))
	}
	b.WriteByte('}')
	return b.String()
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// series key: label values joined by a separator that cannot occur in
// them unescaped.
func key(values []string) string { return strings.Join(values, "\xff") }

// appendKey appends key(values) to b: a lookup by string(appendKey(...))
// into a stack buffer does not allocate, and a histogram is observed on
// every request.
func appendKey(b []byte, values []string) []byte {
	for i, v := range values {
		if i > 0 {
			b = append(b, 0xff)
		}
		b = append(b, v...)
	}
	return b
}

// CounterVec is a counter per combination of label values.
type CounterVec struct {
	n, help string
	labels  []string
	mu      sync.Mutex
	series  map[string]*counterSeries
}

type counterSeries struct {
	values []string
	v      atomic.Uint64
}

// NewCounterVec registers a counter with labels (none for a plain one).
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{n: name, help: help, labels: labels, series: map[string]*counterSeries{}}
	r.add(c)
	return c
}

// Add adds n to the series of the label values (as many as the labels).
func (c *CounterVec) Add(n uint64, values ...string) {
	if len(values) != len(c.labels) {
		panic(fmt.Sprintf("opsmetrics: %s takes %d label values, got %d", c.n, len(c.labels), len(values)))
	}
	k := key(values)
	c.mu.Lock()
	s := c.series[k]
	if s == nil {
		s = &counterSeries{values: append([]string(nil), values...)}
		c.series[k] = s
	}
	c.mu.Unlock()
	s.v.Add(n)
}

// Inc adds one.
func (c *CounterVec) Inc(values ...string) { c.Add(1, values...) }

func (c *CounterVec) name() string { return c.n }

func (c *CounterVec) write(w *bufio.Writer) {
	header(w, c.n, c.help, "counter")
	c.mu.Lock()
	keys := make([]string, 0, len(c.series))
	for k := range c.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := c.series[k]
		fmt.Fprintf(w, "%s%s %d\n", c.n, labelText(c.labels, s.values), s.v.Load())
	}
	if len(c.labels) == 0 && len(keys) == 0 {
		fmt.Fprintf(w, "%s 0\n", c.n)
	}
	c.mu.Unlock()
}

// HistogramVec is a histogram per combination of label values.
type HistogramVec struct {
	n, help string
	labels  []string
	bounds  []float64 // upper bounds, ascending, without +Inf
	mu      sync.Mutex
	series  map[string]*histSeries
}

type histSeries struct {
	values []string
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	count  uint64
}

// NewHistogramVec registers a histogram with the bucket upper bounds given
// (ascending; +Inf is added).
func (r *Registry) NewHistogramVec(name, help string, bounds []float64, labels ...string) *HistogramVec {
	h := &HistogramVec{n: name, help: help, labels: labels, bounds: bounds, series: map[string]*histSeries{}}
	r.add(h)
	return h
}

// Observe records v in the series of the label values.
func (h *HistogramVec) Observe(v float64, values ...string) {
	if len(values) != len(h.labels) {
		panic(fmt.Sprintf("opsmetrics: %s takes %d label values, got %d", h.n, len(h.labels), len(values)))
	}
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: le is inclusive
	var buf [128]byte
	k := appendKey(buf[:0], values)
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.series[string(k)]
	if s == nil {
		s = &histSeries{values: append([]string(nil), values...), counts: make([]uint64, len(h.bounds)+1)}
		h.series[string(k)] = s
	}
	s.counts[i]++
	s.sum += v
	s.count++
}

func (h *HistogramVec) name() string { return h.n }

func (h *HistogramVec) write(w *bufio.Writer) {
	header(w, h.n, h.help, "histogram")
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(h.series))
	for k := range h.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := h.series[k]
		var cum uint64
		for i, b := range h.bounds {
			cum += s.counts[i]
			fmt.Fprintf(w, "%s_bucket%s %d\n", h.n, labelText(h.labels, s.values, "le", formatFloat(b)), cum)
		}
		cum += s.counts[len(h.bounds)]
		fmt.Fprintf(w, "%s_bucket%s %d\n", h.n, labelText(h.labels, s.values, "le", "+Inf"), cum)
		fmt.Fprintf(w, "%s_sum%s %s\n", h.n, labelText(h.labels, s.values), formatFloat(s.sum))
		fmt.Fprintf(w, "%s_count%s %d\n", h.n, labelText(h.labels, s.values), s.count)
	}
}

// GaugeFunc is a gauge read from a function when scraped.
type GaugeFunc struct {
	n, help string
	fn      atomic.Pointer[func() float64]
}

// NewGaugeFunc registers a gauge whose value fn gives (0 while fn is nil).
func (r *Registry) NewGaugeFunc(name, help string, fn func() float64) *GaugeFunc {
	g := &GaugeFunc{n: name, help: help}
	g.Set(fn)
	r.add(g)
	return g
}

// Set replaces the function the gauge reads.
func (g *GaugeFunc) Set(fn func() float64) {
	if fn == nil {
		g.fn.Store(nil)
		return
	}
	g.fn.Store(&fn)
}

func (g *GaugeFunc) name() string { return g.n }

func (g *GaugeFunc) write(w *bufio.Writer) {
	header(w, g.n, g.help, "gauge")
	v := 0.0
	if fn := g.fn.Load(); fn != nil {
		v = (*fn)()
	}
	fmt.Fprintf(w, "%s %s\n", g.n, formatFloat(v))
}
