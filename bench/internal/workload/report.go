package workload

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Latencies collects request durations. Each client keeps its own and the
// run merges them at the end, so recording needs no lock.
type Latencies []time.Duration

// Add records one request.
func (l *Latencies) Add(d time.Duration) { *l = append(*l, d) }

// Merge joins several clients' latencies.
func Merge(ls []Latencies) Latencies {
	var out Latencies
	for _, l := range ls {
		out = append(out, l...)
	}
	return out
}

// Summary is the latency distribution of a run, in milliseconds.
type Summary struct {
	P50, P90, P99, Max, Mean float64
}

// Summarize sorts l and returns its percentiles (nearest rank).
func (l Latencies) Summarize() Summary {
	if len(l) == 0 {
		return Summary{}
	}
	slices.Sort(l)
	pct := func(p float64) float64 {
		i := int(p*float64(len(l))+0.5) - 1
		i = max(0, min(len(l)-1, i))
		return ms(l[i])
	}
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	return Summary{P50: pct(0.50), P90: pct(0.90), P99: pct(0.99), Max: ms(l[len(l)-1]), Mean: ms(sum / time.Duration(len(l)))}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Report is the outcome of one run: one JSON line on stdout for scripts
// (rate is the figure to take the median of) and one sentence on stderr
// for people.
type Report struct {
	Tool     string  `json:"tool"`     // "rung" or "redis"
	Scenario string  `json:"scenario"` // setup, batch, single, leaderboard
	Clients  int     `json:"clients"`
	Seconds  float64 `json:"seconds"`  // wall time, first request to last answer
	Requests int64   `json:"requests"` // HTTP requests or Redis round trips
	Items    int64   `json:"items"`    // events, PUTs or reads completed and verified
	Failed   int64   `json:"failed"`   // items not accepted, or requests that failed
	Rate     float64 `json:"rate"`     // Items per second
	Unit     string  `json:"unit"`
	P50ms    float64 `json:"p50_ms"`
	P90ms    float64 `json:"p90_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	// ClientCPU is the CPU seconds the tool itself used, setup included.
	ClientCPU float64 `json:"client_cpu_s"`
	// HTTP names the load generator's HTTP client (loadgen's --http).
	HTTP string `json:"http,omitempty"`
	// Extra holds scenario-specific figures (per-kind latencies of reads).
	Extra map[string]float64 `json:"extra,omitempty"`
	// Errors holds the first few failures, verbatim.
	Errors []string `json:"errors,omitempty"`
}

// SetLatency copies a latency summary into the report.
func (r *Report) SetLatency(s Summary) {
	r.P50ms, r.P90ms, r.P99ms, r.MaxMs = s.P50, s.P90, s.P99, s.Max
}

// Print writes the JSON line to out and the sentence to human.
func (r *Report) Print(out, human io.Writer) {
	r.ClientCPU = ProcessCPU()
	b, _ := json.Marshal(r)
	fmt.Fprintf(out, "%s\n", b)
	fmt.Fprintf(human, "%s %s: %s %s (%d clients, %.1f s, %s items in %s requests, %d failed); latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		r.Tool, r.Scenario, Thousands(r.Rate), r.Unit, r.Clients, r.Seconds, Thousands(float64(r.Items)), Thousands(float64(r.Requests)), r.Failed,
		r.P50ms, r.P90ms, r.P99ms, r.MaxMs)
	for _, e := range r.Errors {
		fmt.Fprintf(human, "  failure: %s\n", e)
	}
}

// Thousands formats a number rounded to a whole with thousands separators.
func Thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Failures keeps the first few failure messages of a run; clients share
// one.
type Failures struct {
	mu   sync.Mutex
	list []string
}

// Add keeps msg if fewer than five are kept.
func (f *Failures) Add(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.list) < 5 {
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		f.list = append(f.list, msg)
	}
}

// List returns the kept messages.
func (f *Failures) List() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list
}
