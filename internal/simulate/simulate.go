// Package simulate answers "what if this draft had been our program?": it
// replays the recorded history into fresh in-memory engines — one under the
// draft, one under the active program — and reports, per member and
// partner, what the draft would change: points, levels, badges, leaderboard
// places and qualified tiers, with totals. Nothing is written anywhere. The
// engines are the live scoring code (internal/engine), so a simulation of
// the active program changes nothing.
package simulate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/gcpause"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/store"
)

// History is the recorded facts a simulation replays: what the service
// reads at start-up.
type History struct {
	Partners    []rung.PartnerVersion
	Members     []rung.Member
	Programs    []rung.ProgramVersion // oldest first; the last is the active one
	Adjustments []rung.Adjustment
	// Records streams the event log in Seq order. fn may not keep the
	// record after it returns, but may keep its Raw and its strings.
	Records func(ctx context.Context, fn func(*rung.Record) error) error
	// Heads, when set, streams the same records without their attributes,
	// as store.Store's RecordHeads does: Raw, Partner and Member are valid
	// only during fn, and Raw must be set. A replay that copies every body
	// anyway decodes the attributes from its copy, and reads the log this
	// way.
	Heads func(ctx context.Context, fn func(*rung.Record) error) error
	// Size is how many records Records yields, when known (it sizes the
	// engines' tables).
	Size int
}

// errStop ends a read of the log at the last record Load saw.
var errStop = errors.New("stop")

// Load reads a store's facts as the service does at start-up. The log is
// read up to the record that was last when Load ran.
func Load(ctx context.Context, st store.Store) (*History, error) {
	last, err := st.LastSeq(ctx)
	if err != nil {
		return nil, fmt.Errorf("simulate: read the log: %w", err)
	}
	h := &History{Size: int(last)}
	if h.Partners, err = st.PartnerVersions(ctx); err != nil {
		return nil, fmt.Errorf("simulate: read partners: %w", err)
	}
	if h.Members, err = st.Members(ctx); err != nil {
		return nil, fmt.Errorf("simulate: read members: %w", err)
	}
	if h.Programs, err = st.Programs(ctx); err != nil {
		return nil, fmt.Errorf("simulate: read programs: %w", err)
	}
	if h.Adjustments, err = st.Adjustments(ctx); err != nil {
		return nil, fmt.Errorf("simulate: read adjustments: %w", err)
	}
	h.Records = upTo(st.Records, last)
	h.Heads = upTo(st.RecordHeads, last)
	return h, nil
}

// upTo streams the log with read up to the record last.
func upTo(read func(ctx context.Context, after int64, fn func(*rung.Record) error) error, last int64) func(ctx context.Context, fn func(*rung.Record) error) error {
	return func(ctx context.Context, fn func(*rung.Record) error) error {
		err := read(ctx, 0, func(r *rung.Record) error {
			if r.Seq > last {
				return errStop
			}
			return fn(r)
		})
		if errors.Is(err, errStop) {
			return nil
		}
		return err
	}
}

// Options shape a simulation.
type Options struct {
	// From and To bound the period: the draft's rules replace the
	// recorded ones for events that occurred from From on (zero: the whole
	// history), and the state is compared as it stands at the end of the
	// period, just before To (zero: Now). Points "in the period" are those
	// awarded for events that occurred in [From, To).
	From, To time.Time
	// Now is the current time (the default end of the period).
	Now time.Time
	// PointValue gives the money value of one point under a program, for
	// the reward liability (outstanding balance × value); nil means the
	// program's point_value (PointValue); !ok for both programs: the report
	// has no liability.
	PointValue func(p *program.Program) (value float64, ok bool)
	// Live, when set, runs fn with the live engine (under its read lock).
	// It is used as the baseline instead of a second replay when the live
	// engine's program versions score the history exactly as the active
	// program would over the period: half the work.
	Live func(fn func(*engine.Engine) error) error
}

// Run simulates a draft program (YAML) over a history. A draft that does
// not parse or validate returns the same error as applying it; nothing is
// half-done and nothing is written.
func Run(ctx context.Context, h *History, draft []byte, o Options) (*Report, error) {
	start := time.Now()
	p, err := program.Parse(draft)
	if err != nil {
		return nil, err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.PointValue == nil {
		o.PointValue = PointValue
	}
	to := o.To
	if to.IsZero() {
		to = o.Now
	}
	if !o.From.IsZero() && !o.From.Before(to) {
		return nil, rung.Errorf(rung.EINVALID, "the period is empty: from (%s) must be before to (%s)", o.From.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	at := to
	if !o.To.IsZero() {
		at = to.Add(-time.Nanosecond) // the state at the end of the period
	}
	stored, err := compile(h.Programs)
	if err != nil {
		return nil, err
	}
	from := o.From
	if from.IsZero() {
		from = time.Unix(0, 0).UTC()
	}
	var kept []*engine.Version // recorded versions before the period
	for _, v := range stored {
		if !o.From.IsZero() && v.From.Before(o.From) {
			kept = append(kept, v)
		}
	}
	next := 1
	var base []*engine.Version
	if n := len(stored); n > 0 {
		active := stored[n-1]
		next = active.N + 1
		base = append(append([]*engine.Version(nil), kept...), &engine.Version{N: active.N, From: from, Program: active.Program})
	}
	drafted := append(append([]*engine.Version(nil), kept...), &engine.Version{N: next, From: from, Program: p})

	useLive := o.Live != nil && liveScoresLikeBase(stored, o.From)
	var before, after *engine.Snapshot
	var live liveRead // the live engine's read, when it is the baseline
	if useLive {
		// The live engine is read beside the replay, which it does not
		// depend on: the replay's reader leaves part of a core idle.
		live.start(func() error {
			return o.Live(func(e *engine.Engine) error {
				before = e.Snapshot(o.From, at)
				return nil
			})
		})
	}
	engines := []*engine.Engine{newEngine(h, drafted, at)}
	if !useLive {
		engines = append(engines, newEngine(h, base, at))
	}
	resume := pauseGC(h.Size)
	records, inPeriod, err := replay(ctx, h, engines, o.From, to)
	resume()
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	if err != nil {
		live.wait() // not left holding the service's read lock
		return nil, err
	}
	if useLive {
		after = finish(h, engines[0], o.From, at)
		if err := live.wait(); err != nil {
			return nil, err
		}
	} else {
		// The two engines are finished and read on their own cores.
		var wg sync.WaitGroup
		wg.Go(func() { after = finish(h, engines[0], o.From, at) })
		before = finish(h, engines[1], o.From, at)
		wg.Wait()
	}
	var active *program.Program
	if len(base) > 0 {
		active = base[len(base)-1].Program
	}
	r := compare(before, after, active, p, o.PointValue)
	r.Program = p.Name
	if len(stored) > 0 {
		r.Active = stored[len(stored)-1].N
	}
	r.Baseline = "replay"
	if useLive {
		r.Baseline = "live"
	}
	r.From, r.To = o.From, to
	r.Records, r.EventsInPeriod = records, inPeriod
	if inPeriod == 0 {
		r.Empty = true
		r.Message = "no events occurred in the period: there is nothing to simulate"
		if !o.From.IsZero() || !o.To.IsZero() {
			r.Message += "; choose a period that holds recorded events"
		}
	}
	r.TookMS = time.Since(start).Milliseconds()
	return r, nil
}

// liveRead is a read of the live engine on a goroutine of its own. A panic
// in it is raised again by wait, on the goroutine that waits, where the
// server's handlers recover it as they did when the read ran there.
type liveRead struct {
	done     chan error
	panicked any
}

// start runs read.
func (l *liveRead) start(read func() error) {
	l.done = make(chan error, 1)
	go func() {
		var err error
		defer func() {
			l.panicked = recover()
			l.done <- err
		}()
		err = read()
	}()
}

// wait returns the read's error once it is done; nil if none was started.
func (l *liveRead) wait() error {
	if l.done == nil {
		return nil
	}
	err := <-l.done
	l.done = nil
	if l.panicked != nil {
		panic(l.panicked)
	}
	return err
}

// compile parses the recorded program versions.
func compile(progs []rung.ProgramVersion) ([]*engine.Version, error) {
	vs := make([]*engine.Version, 0, len(progs))
	for _, pv := range progs {
		p, err := program.Parse([]byte(pv.Source))
		if err != nil {
			return nil, fmt.Errorf("simulate: program version %d no longer compiles: %w", pv.Version, err)
		}
		vs = append(vs, &engine.Version{N: pv.Version, From: pv.EffectiveFrom, Program: p})
	}
	return vs, nil
}

// liveScoresLikeBase reports whether the recorded versions score every
// event as the baseline does (the active program from the period's start,
// the recorded versions before it): then the live engine is the baseline.
func liveScoresLikeBase(stored []*engine.Version, from time.Time) bool {
	switch {
	case len(stored) == 0:
		return true
	case from.IsZero():
		return len(stored) == 1
	default:
		return !stored[len(stored)-1].From.After(from)
	}
}

// newEngine makes an engine with the history's partners and members under
// the given versions (none: no program), ready for a bulk replay — the
// order the service loads in.
func newEngine(h *History, vs []*engine.Version, now time.Time) *engine.Engine {
	e := engine.New()
	for _, pv := range h.Partners {
		e.PutPartner(pv)
	}
	for _, m := range h.Members {
		e.PutMember(m)
	}
	if len(vs) > 0 {
		// SetVersions only fails without versions.
		_ = e.SetVersions(vs, now)
	}
	e.BeginBulk(h.Size)
	return e
}

// finish adds the adjustments, ends the bulk load and reads the state.
func finish(h *History, e *engine.Engine, from, at time.Time) *engine.Snapshot {
	for _, a := range h.Adjustments {
		e.AddAdjustment(a)
	}
	e.EndBulk(at)
	return e.Snapshot(from, at)
}

// batchSize is how many records go to the engines at a time.
const batchSize = 2048

// batch is a run of records on its way to the engines. Batches are reused:
// the last engine to apply one hands it back (pending counts the engines
// still applying it), so a replay touches the same few batches' memory
// rather than new memory for every record it reads.
type batch struct {
	recs []rung.Record
	// subs holds each record's partner and member, found by the reader
	// (engine.Subjects) so that the engines do not look them up; nil when
	// the engines apply records as they are.
	subs []engine.Subject
	// attrs holds a map for each record's attributes, reused with the
	// batch, when the records are decoded from the subjects' copies of
	// their bodies (History.Heads).
	attrs   []map[string]any
	pending atomic.Int32
}

// batchesKept is how many applied batches wait for reuse: as many as can
// be in flight, so the reader seldom makes a new one.
const batchesKept = 24

// replay reads the log once and applies every record to every engine, each
// engine on a goroutine of its own. It returns how many records it read
// and how many of them are event versions that occurred in [from, to).
func replay(ctx context.Context, h *History, engines []*engine.Engine, from, to time.Time) (records, inPeriod int, err error) {
	// The reader finds every record's subjects while the engines apply
	// earlier batches: one lookup serves every engine, given the same
	// subjects in the same order.
	// Engines that defer placing events to the end of the load do not
	// look subjects up while the log is read.
	var subjects *engine.Subjects
	if slices.ContainsFunc(engines, func(e *engine.Engine) bool { return !e.Deferred() }) {
		subjects = engines[0].Subjects()
		for _, e := range engines[1:] {
			if !subjects.Fits(e) {
				subjects = nil
				break
			}
		}
	}
	free := make(chan *batch, batchesKept)
	chans := make([]chan *batch, len(engines))
	var wg sync.WaitGroup
	for i, e := range engines {
		chans[i] = make(chan *batch, 8)
		wg.Add(1)
		go func(e *engine.Engine, c chan *batch) {
			defer wg.Done()
			for b := range c {
				if b.subs != nil {
					for j := range b.recs {
						e.ApplyResolved(&b.recs[j], b.subs[j])
					}
				} else {
					for j := range b.recs {
						e.Apply(&b.recs[j])
					}
				}
				if b.pending.Add(-1) == 0 {
					select {
					case free <- b:
					default:
					}
				}
			}
		}(e, chans[i])
	}
	next := func() *batch {
		select {
		case b := <-free:
			b.recs = b.recs[:0] // each record is overwritten as it is filled
			b.subs = b.subs[:0]
			return b
		default:
			b := &batch{recs: make([]rung.Record, 0, batchSize)}
			if subjects != nil {
				b.subs = make([]engine.Subject, 0, batchSize)
			}
			return b
		}
	}
	b := next()
	send := func() {
		b.pending.Store(int32(len(chans)))
		for _, c := range chans {
			c <- b
		}
		b = next()
	}
	fromN, toN := from.UnixNano(), to.UnixNano()
	if from.IsZero() {
		fromN = -1 << 63
	}
	read := h.Records
	heads := subjects != nil && h.Heads != nil
	if heads {
		read = h.Heads
	}
	names := new(codec.Names)
	if read != nil {
		err = read(ctx, func(r *rung.Record) error {
			records++
			if !r.Retracted {
				if at := r.Event.OccurredAt.UnixNano(); at >= fromN && at < toN {
					inPeriod++
				}
			}
			if subjects == nil {
				b.recs = append(b.recs, *r)
			} else if sub := subjects.Resolve(r); !heads {
				b.recs = append(b.recs, *r)
				b.subs = append(b.subs, sub)
			} else if err := b.addHead(r, sub, names); err != nil {
				return err
			}
			if len(b.recs) == batchSize {
				send()
			}
			return ctx.Err()
		})
	}
	if len(b.recs) > 0 {
		send()
	}
	for _, c := range chans {
		close(c)
	}
	wg.Wait()
	if err != nil {
		return records, inPeriod, fmt.Errorf("simulate: read the log: %w", err)
	}
	return records, inPeriod, nil
}

// addHead adds a record read as a head (History.Heads), whose subjects sub
// holds, decoded again with its attributes from the subjects' copy of its
// body: its strings and Raw point into that copy, which the engines keep,
// and its attributes fill the map this place in the batch reuses. A body
// the subjects did not copy (a retraction, a very large body) is decoded
// from a copy of its own. A head without its body cannot be decoded; a
// record that does not decode is not added.
func (b *batch) addHead(r *rung.Record, sub engine.Subject, names *codec.Names) error {
	if r.Raw == nil {
		return fmt.Errorf("record seq %d (%s) was read without its body", r.Seq, r.Event.ID)
	}
	j := len(b.recs)
	if j == len(b.attrs) { // records are added one at a time
		b.attrs = append(b.attrs, map[string]any{})
	}
	body := sub.Body()
	if body == nil {
		body = bytes.Clone(r.Raw)
	}
	rec := rung.Record{Seq: r.Seq, Version: r.Version, Event: rung.Event{ID: r.Event.ID}, Raw: body}
	if err := codec.DecodeRecordKept(body, &rec, b.attrs[j], names); err != nil {
		return fmt.Errorf("record seq %d (%s): %w", r.Seq, r.Event.ID, err)
	}
	b.recs = append(b.recs, rec)
	b.subs = append(b.subs, sub)
	return nil
}

// bytesPerRecord bounds what a replay adds to the heap for each record,
// with room to spare (a replay keeps some 300 bytes a record per engine).
const bytesPerRecord = 2 << 10

// pauseGC stops the collector while the engines replay, as start-up does
// (package gcpause): nothing they build becomes garbage then, and each
// collection would mark the whole state built so far (and the live
// engine's). The soft memory limit in force still holds the heap; without
// one, the heap may grow by bytesPerRecord a record; with neither a limit
// nor a size of the history, the collector is not paused.
func pauseGC(records int) (resume func()) {
	if records <= 0 && !gcpause.Limited() {
		return func() {}
	}
	return gcpause.Pause(int64(max(records, 0)) * bytesPerRecord)
}
