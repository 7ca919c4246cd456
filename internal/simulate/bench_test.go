package simulate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/hugeheap"
)

// syntheticHistory is n events from demo.Synthetic over a year, 1,000
// partners and 20,000 members, under the demo program. The log holds the
// events in occurred order (events are recorded about when they happen)
// as the store keeps them: encoded, decoded again as they are read.
func syntheticHistory(b *testing.B, n int) *History {
	b.Helper()
	partners, members := 1000, 20000
	if v, err := strconv.Atoi(os.Getenv("RUNG_BENCH_SIM_MEMBERS")); err == nil && v > 0 {
		partners, members = max(1, v/20), v
	}
	joined := now.AddDate(-2, 0, 0)
	h := &History{Size: n, Programs: []rung.ProgramVersion{{Version: 1, Source: string(demo.Program), EffectiveFrom: time.Unix(0, 0).UTC()}}}
	for i := range partners {
		h.Partners = append(h.Partners, rung.PartnerVersion{Version: 1, ValidFrom: joined,
			Partner: rung.Partner{ID: fmt.Sprintf("p%d", i), Name: "P", Size: []string{"smb", "mid", "enterprise"}[i%3], Region: "emea", JoinedAt: joined}})
	}
	for m := range members {
		p := fmt.Sprintf("p%d", m%partners)
		h.Members = append(h.Members, rung.Member{ID: fmt.Sprintf("m%d", m), Partner: p, JoinedAt: joined,
			Memberships: []rung.Membership{{Partner: p, JoinedAt: joined}}})
	}
	syn := demo.Synthetic{Rand: rand.New(rand.NewPCG(1, 2)), Partners: partners, Members: members,
		From: now.AddDate(-1, 0, 0), Span: 365 * 24 * time.Hour}
	events := make([]rung.Event, n)
	for i := range events {
		events[i] = syn.Next()
	}
	slices.SortFunc(events, func(a, b rung.Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
	h.Records, h.Heads = encodedLog(b, events)
	return h
}

// benchSimulate simulates doubling the demo program's training award over n
// synthetic events and reports the wall time of a simulation and the CPU
// time per record.
func benchSimulate(b *testing.B, n int) {
	h := syntheticHistory(b, n)
	runtime.GC()
	draft := strings.Replace(string(demo.Program), "      award: 50\n", "      award: 100\n", 1)
	b.ResetTimer()
	for b.Loop() {
		cpu := cputime.Process()
		start := time.Now()
		r, err := Run(context.Background(), h, []byte(draft), Options{Now: now})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		if r.Records != n || r.Totals.PointsIssued.Delta <= 0 {
			b.Fatalf("%d records, %+v", r.Records, r.Totals.PointsIssued)
		}
		b.ReportMetric(took.Seconds(), "s/simulation")
		b.ReportMetric(float64(n)/took.Seconds(), "records/s")
		b.ReportMetric(float64(cputime.Since(cpu).Nanoseconds())/float64(n), "cpu-ns/record")
		r = nil
		runtime.GC()
	}
}

// BenchmarkSimulate runs RUNG_BENCH_SIM_EVENTS events (default 200,000).
func BenchmarkSimulate(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("RUNG_BENCH_SIM_EVENTS")); err == nil && v > 0 {
		n = v
	}
	benchSimulate(b, n)
}

func BenchmarkSimulate1M(b *testing.B)  { benchSimulate(b, 1_000_000) }
func BenchmarkSimulate2M(b *testing.B)  { benchSimulate(b, 2_000_000) }
func BenchmarkSimulate10M(b *testing.B) { benchSimulate(b, 10_000_000) }

// BenchmarkSimulateDemo simulates doubling the training award over the
// demo's year of history (three quarters of it vanity logins), the
// history BenchmarkReplayDemo replays into one engine.
func BenchmarkSimulateDemo(b *testing.B) {
	h := demoHistory(b)
	n := len(demoEvents(h))
	draft := strings.Replace(string(demo.Program), "      award: 50\n", "      award: 100\n", 1)
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		if _, err := Run(context.Background(), h, []byte(draft), Options{Now: now}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cputime.Since(cpu).Nanoseconds())/float64(n*b.N), "cpu-ns/record")
}

// BenchmarkSimulateDemoScale simulates doubling the training award over the
// demo's history scaled RUNG_BENCH_SIM_SCALE times (default 5: 1,600
// partners, 16,000 members, about 0.9M records; 55 gives about 10M), the
// way the server runs it: the live engine, built beforehand from the same
// log, is the baseline, so the draft is the one replay. The history is kept
// encoded, as a store holds it, and decoded as it is read.
func BenchmarkSimulateDemoScale(b *testing.B) {
	scale := 5
	if v, err := strconv.Atoi(os.Getenv("RUNG_BENCH_SIM_SCALE")); err == nil && v > 0 {
		scale = v
	}
	// As rung does at start (cmd/rung): the heap the process may grow
	// into, up to its memory limit, faults in huge pages.
	mark := time.Now()
	advised := hugeheap.Prepare(debug.SetMemoryLimit(-1))
	b.Logf("huge pages advised for %d MiB of heap in %v (THP mode %q)", advised>>20, time.Since(mark).Round(time.Millisecond), hugeheap.Mode())
	d := demo.Generate(demo.Options{Now: now, Partners: 320 * scale, Members: 3200 * scale})
	h := encodedHistory(b, d.Partners, d.Members, d.Events, string(demo.Program))
	n := len(d.Events)
	d = nil
	live := bulkEngine(b, h)
	runtime.GC()
	draft := strings.Replace(string(demo.Program), "      award: 50\n", "      award: 100\n", 1)
	// The live engine is read as the service reads it, holding its read
	// lock (writes wait): that time is logged.
	var liveRead time.Duration
	o := Options{Now: now, Live: func(fn func(*engine.Engine) error) error {
		start := time.Now()
		defer func() { liveRead = time.Since(start) }()
		return fn(live)
	}}
	b.ResetTimer()
	for b.Loop() {
		stop := startProfile(b)
		var ru0, ru1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu := cputime.Process()
		start := time.Now()
		r, err := Run(context.Background(), h, []byte(draft), o)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		cpuTook := cputime.Since(cpu)
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		runtime.ReadMemStats(&ms1)
		stop()
		if r.Records != n || r.Baseline != "live" || r.Totals.PointsIssued.Delta <= 0 {
			b.Fatalf("%d records, baseline %s, %+v", r.Records, r.Baseline, r.Totals.PointsIssued)
		}
		b.Logf("%d records in %v (the live engine read in %v), %v CPU (%v system, %d page faults); %d GCs; peak RSS %d MiB", n,
			took.Round(time.Millisecond), liveRead.Round(time.Millisecond), cpuTook.Round(time.Millisecond),
			time.Duration(syscall.TimevalToNsec(ru1.Stime)-syscall.TimevalToNsec(ru0.Stime)).Round(time.Millisecond),
			ru1.Minflt-ru0.Minflt, ms1.NumGC-ms0.NumGC, ru1.Maxrss>>10)
		b.ReportMetric(float64(n), "records")
		b.ReportMetric(took.Seconds(), "s/simulation")
		b.ReportMetric(float64(n)/took.Seconds(), "records/s")
		b.ReportMetric(float64(cpuTook.Nanoseconds())/float64(n), "cpu-ns/record")
		r = nil
		runtime.GC()
	}
}

// startProfile starts a CPU profile into the file RUNG_BENCH_SIM_CPUPROFILE
// names, if any, and returns the function that ends it: a profile of the
// simulation alone, without the benchmark's set-up.
func startProfile(b *testing.B) (stop func()) {
	path := os.Getenv("RUNG_BENCH_SIM_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// encodedHistory is a History whose log is held encoded in one buffer (a
// tenth of the memory of decoded events) and decoded as it is read.
func encodedHistory(b *testing.B, partners []rung.Partner, members []rung.Member, events []rung.Event, progs ...string) *History {
	b.Helper()
	h := memoryHistory(b, partners, members, nil, progs...)
	h.Size = len(events)
	h.Records, h.Heads = encodedLog(b, events)
	return h
}

// encodedLog encodes events, in order, into one buffer and returns
// readers of it that decode each record as the store's log readers do:
// Records, then RecordHeads.
func encodedLog(b *testing.B, events []rung.Event) (records, heads func(context.Context, func(*rung.Record) error) error) {
	b.Helper()
	ids := make([]string, len(events))
	ends := make([]int, len(events))
	var log []byte
	for i := range events {
		ids[i] = events[i].ID
		var err error
		if log, err = codec.EncodeRecord(log, &rung.Record{Event: events[i]}); err != nil {
			b.Fatal(err)
		}
		ends[i] = len(log)
	}
	// As the store's reader does, one record is reused for every record
	// read (fn may not keep it) and type and source are shared strings;
	// heads are decoded without their attributes.
	read := func(decode func([]byte, *rung.Record, *codec.Names) error) func(context.Context, func(*rung.Record) error) error {
		return func(ctx context.Context, fn func(*rung.Record) error) error {
			start := 0
			var r rung.Record
			names := new(codec.Names)
			for i := range ids {
				r = rung.Record{Seq: int64(i + 1), Version: 1, Raw: log[start:ends[i]:ends[i]]}
				if err := decode(r.Raw, &r, names); err != nil {
					return err
				}
				r.Event.ID = ids[i]
				if err := fn(&r); err != nil {
					return err
				}
				start = ends[i]
			}
			return nil
		}
	}
	return read(codec.DecodeRecordNamed), read(codec.DecodeRecordHead)
}

// bulkEngine loads a history into an engine as the service does at start.
func bulkEngine(b *testing.B, h *History) *engine.Engine {
	b.Helper()
	vs, err := compile(h.Programs)
	if err != nil {
		b.Fatal(err)
	}
	e := newEngine(h, vs, now)
	if err := h.Records(context.Background(), func(r *rung.Record) error { e.Apply(r); return nil }); err != nil {
		b.Fatal(err)
	}
	for _, a := range h.Adjustments {
		e.AddAdjustment(a)
	}
	e.EndBulk(now)
	return e
}
