package service

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/opsmetrics"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/store"
)

type kind int

const (
	kindEvents kind = iota + 1
	kindRetract
	kindPartner
	kindMember
	kindProgram
	kindAdjust
	kindCustom
)

// request is one change waiting for the writer.
type request struct {
	kind   kind
	events []*Incoming
	id     string // retract
	by     string
	// The facts of the other kinds are pointers: a request for events,
	// the most common by far, is 248 bytes rather than 952.
	partner *rung.Partner
	member  *rung.Member
	prog    *program.Program
	source  string
	from    time.Time // program effective from; zero: now (or the beginning for the first)
	adjust  *rung.Adjustment
	ownID   bool // adjust.ID was made here, not sent
	custom  func() error

	// done is signalled once out holds the answer.
	done chan struct{}

	// filled by prepare
	out   result
	batch struct {
		records []*rung.Record
		notes   []*Result // parallel to records; nil for retractions
	}
}

type result struct {
	err     error
	version int
	partner *rung.PartnerVersion
	member  *rung.Member
}

// Incoming is an event as received, with its result to fill.
type Incoming struct {
	Event  rung.Event
	Result Result
	// Err is a problem found while parsing; the event is rejected with it.
	Err string
}

// Result is the outcome of one event of an ingest request (SPEC §2).
type Result struct {
	ID      string   `json:"id"`
	Status  string   `json:"status"`
	Version int      `json:"version,omitempty"`
	Error   string   `json:"error,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// validType reports whether s is an event type: ^[a-z0-9][a-z0-9_.-]*$
// (checked by hand: it runs for every event).
func validType(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// The range of times Rung takes: far enough either way for any partner
// program, well inside what int64 nanoseconds hold.
const minYear, maxYear = 1900, 2200

func inRange(t time.Time) bool { return t.Year() >= minYear && t.Year() < maxYear }

// MaxFuture is how far in the future an event may be dated.
const MaxFuture = 5 * time.Minute

// checkEvent validates what can be checked without the state.
func checkEvent(ev *rung.Event, now time.Time) string {
	switch {
	case hasNUL(ev.ID, ev.Type, ev.Partner, ev.Member, ev.Source):
		return "id, type, partner, member and source must not contain NUL characters"
	case ev.ID == "":
		return "id is required: give every event a unique id, e.g. \"<source>:<record>:<type>\""
	case len(ev.ID) > 200:
		return fmt.Sprintf("id is %d characters long; at most 200 are allowed", len(ev.ID))
	case ev.Type == "":
		return "type is required, e.g. \"deal.won\""
	case !validType(ev.Type):
		return fmt.Sprintf("type %q is not valid: use lower-case letters, digits and . _ -, starting with a letter or digit (e.g. \"deal.won\")", ev.Type)
	case ev.Partner == "":
		return "partner is required: the id of the partner the event is for"
	case ev.OccurredAt.IsZero():
		return "occurred_at is required: an RFC 3339 time such as \"2026-11-02T14:00:00Z\""
	case !inRange(ev.OccurredAt):
		return fmt.Sprintf("occurred_at %s is out of range: Rung takes times from %d to %d", ev.OccurredAt.Format(time.RFC3339), minYear, maxYear-1)
	case ev.OccurredAt.After(now.Add(MaxFuture)):
		return fmt.Sprintf("occurred_at %s is in the future (the server's time is %s); at most 5 minutes ahead is allowed — check the sender's clock and time zone",
			ev.OccurredAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return ""
}

var errClosing = rung.Errorf(rung.EUNAVAILABLE, "the server is shutting down; send again shortly")

func (s *Service) submit(r *request) {
	if r.done == nil {
		r.done = make(chan struct{}, 1)
	}
	// Close takes the write side of closeMu before it stops the writer, so
	// nothing is queued after the writer's last look at the queue.
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		r.fail(errClosing)
		return
	}
	s.reqs <- r
}

func (s *Service) do(ctx context.Context, r *request) result {
	r.done = make(chan struct{}, 1)
	s.submit(r)
	select {
	case <-r.done:
		return r.out
	case <-ctx.Done():
		// The request may still be applied; the writer finishes it. The
		// caller can send it again: events are idempotent.
		return result{err: ctx.Err()}
	}
}

// writer validates and commits requests one group at a time, and hands
// each committed group to the applier. While the applier updates the
// engine, the writer prepares and commits the next group.
//
// On a store of its own (not shared), the commit runs on a goroutine of its
// own: while group N is being committed, the writer already prepares the
// next group of events on top of N's pending changes (validation, dedupe,
// encoding), and once N's commit returns, adds the events that arrived
// meanwhile. The committer hands N to the applier as its commit returns,
// and the writer merges N into the index before the next group's commit
// starts, so commits, their seqs and the answers stay in order, and one
// group at most is in flight. If N's commit fails,
// its requests and those of the group prepared on top of it are answered
// with the error: nothing of either is stored, applied or acknowledged, and
// the index never took them. Groups with anything but events, and every
// group on a shared store (whose commits are retried after reading what
// other instances wrote), are prepared with nothing in flight.
func (s *Service) writer() {
	// One goroutine commits every flight: a goroutine of its own for each
	// group grew a new stack to the depth SQLite's code needs, every time.
	s.commits = make(chan *flight)
	go s.committer(s.commits)
	var fl *flight // the group being committed; nil when none
	defer func() {
		if fl != nil {
			s.settle(fl, <-fl.done)
		}
		close(s.commits)
		s.stopWake()
		close(s.applyc)
		<-s.applierDone
		close(s.stopped)
	}()
	var tick <-chan time.Time
	if s.shared {
		t := time.NewTicker(s.followEvery)
		defer t.Stop()
		tick = t.C
	}
	var next *request // taken from the queue, not yet in a group
	for {
		first := next
		next = nil
		if first == nil {
			var landed <-chan error
			if fl != nil {
				landed = fl.done
			}
			select {
			case first = <-s.reqs:
			case err := <-landed:
				s.settle(fl, err)
				fl = nil
				continue
			case <-tick:
				fl = s.settleNow(fl)
				s.followNow()
				continue
			case <-s.wake:
				fl = s.settleNow(fl)
				s.followNow()
				continue
			case <-s.stop:
				// Answer what is still queued; nothing more can arrive.
				for {
					select {
					case r := <-s.reqs:
						r.fail(errClosing)
					default:
						return
					}
				}
			}
		}
		group := []*request{first}
		n := len(first.events)
	drain:
		for n < s.maxGroup && first.kind != kindCustom {
			select {
			case r := <-s.reqs:
				if r.kind == kindCustom {
					next = r
					break drain
				}
				group = append(group, r)
				n += len(r.events)
			default:
				break drain
			}
		}
		if first.kind == kindCustom || (s.shared && !onlyEvents(group)) {
			// On a shared store partners, members and programs commit
			// the way process does: again after reading what other
			// instances wrote when theirs came first.
			fl = s.settleNow(fl)
			s.process(group)
			continue
		}
		if fl == nil || !onlyEvents(group) {
			// Partners, members, programs and the like are prepared
			// against the committed index only.
			fl = s.settleNow(fl)
			g := s.prepareGroup(group, nil)
			if s.shared && len(g.b.Members) > 0 {
				s.process(group) // new members commit holding the lock
				continue
			}
			fl = s.commitAsync(g)
			continue
		}
		// Prepare on top of the group in flight; once it is stored, take
		// in the events that arrived meanwhile.
		g := s.prepareGroup(group, fl.pd)
		s.stacked.Add(int64(len(group)))
		err := <-fl.done
		s.settle(fl, err)
		fl = nil
		g.pd.base = nil
		if err != nil {
			// Prepared on top of what was not stored: nothing of it may
			// be. On a shared store the group is prepared again (the
			// one below may have been refused for another instance's
			// commit of the same events); on SQLite it fails with it.
			if s.shared {
				s.process(g.group)
			} else {
				g.fail(err)
			}
			continue
		}
	more:
		for next == nil && n < s.maxGroup {
			select {
			case r := <-s.reqs:
				if r.kind != kindEvents {
					next = r
					break more
				}
				s.prepare(r, g.b, g.pd, g.now)
				g.group = append(g.group, r)
				n += len(r.events)
			default:
				break more
			}
		}
		if s.shared && len(g.b.Members) > 0 {
			s.process(g.group) // new members commit holding the lock
			continue
		}
		fl = s.commitAsync(g)
	}
}

// onlyEvents reports whether every request of group ingests events.
func onlyEvents(group []*request) bool {
	for _, r := range group {
		if r.kind != kindEvents {
			return false
		}
	}
	return true
}

// answer tells r's sender that r.out holds the answer.
func (r *request) answer() { r.done <- struct{}{} }

// fail answers r with err.
func (r *request) fail(err error) {
	r.out = result{err: err}
	r.answer()
}

// prepared is a group validated and turned into a batch.
type prepared struct {
	group []*request
	b     *store.Batch
	pd    *pending
	now   time.Time
}

// flight is a prepared group whose commit is under way; done gets the
// commit's outcome.
type flight struct {
	*prepared
	done      chan error
	committed time.Time // when the commit returned; set before done is
}

// prepareGroup prepares group against the index and, when base is not nil,
// the pending changes of the group in flight.
func (s *Service) prepareGroup(group []*request, base *pending) *prepared {
	n := 0
	for _, r := range group {
		n += len(r.events)
	}
	g := &prepared{group: group, now: s.clock(), b: &store.Batch{Records: make([]*rung.Record, 0, n)}}
	g.pd = &pending{events: make(map[string]*pendingEvent, n), partners: map[string]rung.PartnerVersion{}, members: map[string]rung.Member{},
		evSlab: make([]pendingEvent, 0, n), recSlab: make([]rung.Record, 0, n), notes: make([]*Result, 0, n),
		chunk: encodeChunk(n), base: base}
	for _, r := range group {
		r.out, r.batch.records, r.batch.notes = result{}, nil, nil
		s.prepare(r, g.b, g.pd, g.now)
	}
	return g
}

// settleNow waits for fl's commit, if any, and settles it; it returns nil
// for the writer's next flight. The writer settles before it reads what
// other instances wrote, so its own commits are in the index (and their
// seqs among its own) by then.
func (s *Service) settleNow(fl *flight) *flight {
	if fl != nil {
		s.settle(fl, <-fl.done)
	}
	return nil
}

// settle lands fl, whose commit returned err. On a shared store a failed
// commit is not final: another instance may have committed some of the same
// events first (ECONFLICT), or the outcome is unknown (the connection broke
// at COMMIT). The group is then prepared and committed again after reading
// what was committed, as process does, and answered by its outcome.
func (s *Service) settle(fl *flight, err error) {
	if err == nil || !s.shared {
		s.land(fl, err)
		return
	}
	if ferr := s.follow(context.Background()); ferr != nil {
		s.land(fl, err)
		return
	}
	s.log.Info("commit failed; prepared again after reading what other instances wrote", "err", err, "attempt", 1)
	s.process(fl.group)
}

// commitAsync starts committing g on the committer goroutine.
func (s *Service) commitAsync(g *prepared) *flight {
	fl := &flight{prepared: g, done: make(chan error, 1)}
	s.launched.Add(1)
	if g.b.Empty() {
		fl.done <- nil
		return fl
	}
	s.commits <- fl
	return fl
}

// committer commits the flights it is given, one at a time, until the
// writer closes flights. The writer hands it a flight only when none is in
// flight, so it never waits for a flight's sender.
func (s *Service) committer(flights <-chan *flight) {
	for fl := range flights {
		start := time.Now()
		err := s.st.Commit(context.Background(), fl.b)
		fl.committed = time.Now()
		if err == nil {
			opsmetrics.Committed(fl.committed.Sub(start), len(fl.b.Records))
			// Straight to the applier, before the writer hears of it:
			// the writer may be busy preparing the next group, and
			// waking it to hand the group on was one goroutine more
			// between a single event's commit and its answer. The
			// writer merges the group into its index when it settles
			// the flight (land); until then it prepares on top of it.
			s.groups.Add(1)
			s.applyc <- &applyJob{group: fl.group, batch: fl.b, compiled: fl.pd.compiled, now: fl.now, committed: fl.committed}
		}
		fl.done <- err
	}
}

// land finishes a group whose commit returned err: on success it enters the
// index (the committer has handed it to the applier, which answers it); on
// failure its requests are answered with the error.
func (s *Service) land(fl *flight, err error) {
	if err != nil {
		s.log.Error("commit failed", "err", err, "attempts", 1)
		fl.fail(err)
		return
	}
	if fl.b.Empty() {
		// Nothing to store (duplicates, rejections, no-op updates): still
		// answered by the applier, in order.
		s.applyc <- &applyJob{group: fl.group, batch: fl.b, now: fl.now}
		return
	}
	s.idx.merge(fl.pd, fl.b)
}

// fail answers every request of g with the failed commit's error.
func (g *prepared) fail(err error) {
	err = commitError(err)
	for _, r := range g.group {
		r.fail(err)
	}
}

// commitError is what a request whose group could not be stored is told.
func commitError(err error) error {
	return rung.Errorf(rung.EUNAVAILABLE, "could not store the change (%s); nothing was applied — send it again", rung.ErrorMessage(err))
}

// pending is what a group has prepared but not yet committed, so later
// requests of the same group see it.
type pending struct {
	events   map[string]*pendingEvent
	partners map[string]rung.PartnerVersion
	members  map[string]rung.Member
	programs []rung.ProgramVersion
	compiled []*engine.Version
	// encoded is where the group's records are encoded, once: slices of
	// it become the records' Raw. It is allocated chunk bytes at a time,
	// sized for the group: a group of one event used to take 64 KiB, the
	// largest allocation of a single-event request.
	encoded []byte
	chunk   int
	// evSlab holds the group's pending events, sized for all of them up
	// front (events taken in later make it grow; pointers into the old
	// array stay valid, its entries are never changed). recSlab holds its
	// new records the same way, and notes the results of the events
	// behind b.Records, in order: a request's share of both is a window
	// of them (prepareEvents), not slices of its own.
	evSlab  []pendingEvent
	recSlab []rung.Record
	notes   []*Result
	// base is the group in flight this one is prepared on top of, nil when
	// none: what it adds counts as committed. Only events are prepared on
	// top of another group, so only events, partners and members are
	// looked up in it.
	base *pending
}

type pendingEvent struct {
	hash      uint64
	version   int
	retracted bool
	ev        *rung.Event // in the group's records (recSlab, or a retraction's own)
}

func (s *Service) process(group []*request) {
	if len(group) == 1 && group[0].kind == kindCustom {
		// Custom work (a rebuild) runs with nothing in flight.
		s.drain()
		group[0].fail(group[0].custom())
		return
	}
	var b *store.Batch
	var pd *pending
	var now time.Time
	prepare := func() {
		g := s.prepareGroup(group, nil)
		b, pd, now = g.b, g.pd, g.now
	}
	// Member records are last-writer-wins in the store, and a member's
	// new record (its membership history) is built from the one in the
	// index. On a shared store a group that writes members therefore
	// commits holding the lock that orders commits, after catching up, so
	// that it builds on the latest record and nobody writes in between.
	exclusive := false
	var committed time.Time // zero after a commit holding the lock: it is not timed
	for attempt := 1; ; attempt++ {
		if !exclusive && attempt < exclusiveFrom {
			prepare()
			if b.Empty() {
				break
			}
			exclusive = s.shared && len(b.Members) > 0
		}
		var err error
		if !exclusive && attempt < exclusiveFrom {
			start := time.Now()
			if err = s.st.Commit(context.Background(), b); err == nil {
				committed = time.Now()
				opsmetrics.Committed(committed.Sub(start), len(b.Records))
			}
		} else {
			// Optimistic commits kept colliding with other instances', or
			// the group writes members: hold the lock that orders commits
			// while catching up and preparing, so this one cannot collide.
			err = s.st.CommitExclusive(context.Background(), func(ctx context.Context) (*store.Batch, error) {
				if err := s.follow(ctx); err != nil {
					return nil, err
				}
				prepare()
				return b, nil
			})
		}
		if err == nil {
			break
		}
		// On a shared store, another instance may have committed the same
		// event, partner or program version first (ECONFLICT), or the
		// commit's outcome is unknown (the connection broke at COMMIT):
		// either way, read what was committed, and prepare the group again
		// against it. A random pause first, so that two instances that
		// keep writing the same events do not keep colliding.
		retry := s.shared && attempt < maxAttempts
		if retry {
			time.Sleep(time.Duration(mrand.Int64N(int64(attempt) * int64(5*time.Millisecond))))
			if ferr := s.follow(context.Background()); ferr != nil {
				retry = false
			}
		}
		if !retry {
			s.log.Error("commit failed", "err", err, "attempts", attempt)
			err = commitError(err)
			for _, r := range group {
				r.fail(err)
			}
			return
		}
		s.log.Info("commit failed; prepared again after reading what other instances wrote", "err", err, "attempt", attempt)
	}
	if !b.Empty() {
		s.groups.Add(1)
	}
	s.idx.merge(pd, b)
	s.applyc <- &applyJob{group: group, batch: b, compiled: pd.compiled, now: now, committed: committed}
}

// encodeChunk is how many bytes to set aside at a time for encoding a
// group of n events: about 512 a record (the demo's events take 150–300),
// at least 1 KiB, at most 64 KiB.
func encodeChunk(n int) int { return min(64<<10, max(1<<10, n*512)) }

// maxAttempts bounds how often a group is prepared and committed again
// after a failed commit; from attempt exclusiveFrom on, the commit holds
// the lock that orders commits while it prepares.
const maxAttempts, exclusiveFrom = 5, 3

// applyJob is a committed group waiting for the engine.
type applyJob struct {
	group    []*request
	batch    *store.Batch
	followed []*rung.Record // records other instances wrote
	compiled []*engine.Version
	now      time.Time
	barrier  chan struct{} // set for a drain: closed when reached
	// committed is when the group's commit returned; zero when it was
	// not timed (nothing stored, a commit holding the lock, records other
	// instances wrote).
	committed time.Time
}

// drain waits until the applier has applied every committed group.
func (s *Service) drain() {
	j := &applyJob{barrier: make(chan struct{})}
	s.applyc <- j
	<-j.barrier
}

// applier applies committed groups to the engine, in commit order, and
// answers their requests.
func (s *Service) applier() {
	defer close(s.applierDone)
	for j := range s.applyc {
		if j.barrier != nil {
			close(j.barrier)
			continue
		}
		s.apply(j)
		if !j.committed.IsZero() {
			opsmetrics.Applied(time.Since(j.committed))
		}
	}
}

func (s *Service) apply(j *applyJob) {
	b := j.batch
	s.mu.Lock()
	s.noteTouched(j) // touched.go: what the outbox producer compares
	for _, pv := range b.Partners {
		s.eng.PutPartner(pv)
	}
	for _, m := range b.Members {
		s.eng.PutMember(m)
	}
	// A group's events move a partner's place on the partner boards once,
	// not once an event; flushed before the lock is let go.
	s.eng.DeferBoards()
	for _, rec := range j.followed {
		s.eng.Apply(rec)
	}
	answered := 0
	w := warmer{group: j.group}
	for k, r := range j.group {
		for i, rec := range r.batch.records {
			w.before(s.eng.Warm)
			notes := s.eng.Apply(rec)
			if res := r.batch.notes[i]; res != nil && len(notes) > 0 {
				res.Notes = append([]string(nil), notes...)
			}
		}
		if r.kind == kindEvents && answered == k {
			// An ingest request is answered as soon as its own events are
			// applied, not after the whole group's: its answer needs
			// nothing later, and a read it makes next waits for the lock
			// held here, so it still sees the whole group.
			r.answer()
			answered++
		}
	}
	s.eng.FlushBoards()
	for _, a := range b.Adjustments {
		s.eng.AddAdjustment(a)
	}
	if len(j.compiled) > 0 {
		vs := append(slices.Clone(s.eng.Versions()), j.compiled...)
		if err := s.eng.SetVersions(vs, j.now); err != nil {
			s.log.Error("apply program", "err", err)
		}
	} else {
		s.eng.SetNow(j.now)
	}
	s.mu.Unlock()
	for _, r := range j.group[answered:] {
		r.answer()
	}
}

// warmer hands the engine the records of a group warmAhead at a time
// before they are applied (engine.Warm), across the group's requests: a
// group of single events is many requests of one record each. warmAhead
// is engine.WarmMax, the most Warm reads ahead for.
type warmer struct {
	group []*request
	k, i  int // the next record to warm: group[k].batch.records[i]
	left  int // records warmed and not yet applied
	buf   [warmAhead]*rung.Record
}

const warmAhead = engine.WarmMax

// before is called before each record of the group is applied, in order;
// it calls warm (the engine's Warm) with the next records when those it
// warmed are applied.
func (w *warmer) before(warm func([]*rung.Record)) {
	if w.left > 0 {
		w.left--
		return
	}
	n := 0
	for n < len(w.buf) && w.k < len(w.group) {
		recs := w.group[w.k].batch.records
		if w.i >= len(recs) {
			w.k, w.i = w.k+1, 0
			continue
		}
		c := copy(w.buf[n:], recs[w.i:])
		n, w.i = n+c, w.i+c
	}
	if n > 1 {
		warm(w.buf[:n])
	}
	w.left = n - 1
}

// prepare validates one request against the state and adds its facts to the
// batch. A request that fails adds nothing.
func (s *Service) prepare(r *request, b *store.Batch, pd *pending, now time.Time) {
	switch r.kind {
	case kindEvents:
		s.prepareEvents(r, b, pd, now)
	case kindRetract:
		s.prepareRetract(r, b, pd, now)
	case kindPartner:
		s.preparePartner(r, b, pd, now)
	case kindMember:
		s.prepareMember(r, b, pd, now)
	case kindProgram:
		s.prepareProgram(r, b, pd, now)
	case kindAdjust:
		s.prepareAdjust(r, b, pd, now)
	}
}

func (s *Service) partnerExists(id string, pd *pending) bool {
	_, ok := s.partnerID(id, pd)
	return ok
}

// partnerID returns the partner's id as the index holds it, which is the
// string the engine keys the partner with (see prepareEvents).
func (s *Service) partnerID(id string, pd *pending) (string, bool) {
	if pv, ok := pd.partners[id]; ok {
		return pv.Partner.ID, true
	}
	if pd.base != nil {
		if pv, ok := pd.base.partners[id]; ok {
			return pv.Partner.ID, true
		}
	}
	pv, ok := s.idx.partners[id]
	return pv.Partner.ID, ok
}

func (s *Service) memberOf(id string, pd *pending) (rung.Member, bool) {
	if m, ok := pd.members[id]; ok {
		return m, true
	}
	if pd.base != nil {
		if m, ok := pd.base.members[id]; ok {
			return m, true
		}
	}
	m, ok := s.idx.members[id]
	return m, ok
}

func (s *Service) prepareEvents(r *request, b *store.Batch, pd *pending, now time.Time) {
	first, firstNote := len(b.Records), len(pd.notes)
	for _, in := range r.events {
		ev := &in.Event
		in.Result = Result{ID: ev.ID}
		reject := func(msg string) {
			in.Result.Status, in.Result.Error = string(engine.StatusRejected), msg
		}
		if in.Err != "" {
			reject(in.Err)
			continue
		}
		if msg := checkEvent(ev, now); msg != "" {
			reject(msg)
			continue
		}
		ev.OccurredAt = ev.OccurredAt.UTC()
		// The event takes the index's strings for its partner and member
		// ids: the engine keys them with the same strings, so its lookups
		// by the event's ids (Warm's, apply's) find them equal at the
		// pointer, not comparing their bytes, which are in no cache.
		partner, ok := s.partnerID(ev.Partner, pd)
		if !ok {
			reject(fmt.Sprintf("partner %q does not exist: create it first with PUT /api/v1/partners/%s (JSON body with name, type, region, size)", ev.Partner, ev.Partner))
			continue
		}
		ev.Partner = partner
		if ev.Member != "" {
			m, ok := s.memberOf(ev.Member, pd)
			if ok {
				ev.Member = m.ID
				if at := m.PartnerAt(ev.OccurredAt); at != ev.Partner {
					where := "no partner"
					if at != "" {
						where = fmt.Sprintf("partner %q", at)
					}
					reject(fmt.Sprintf("member %q belonged to %s at %s, not to partner %q: correct the event's partner, or move the member with PUT /api/v1/members/%s",
						ev.Member, where, ev.OccurredAt.Format(time.RFC3339), ev.Partner, ev.Member))
					continue
				}
			} else {
				m = rung.Member{ID: ev.Member, Partner: ev.Partner, JoinedAt: ev.OccurredAt,
					Memberships: []rung.Membership{{Partner: ev.Partner, JoinedAt: ev.OccurredAt}}}
				pd.members[m.ID] = m
				b.Members = append(b.Members, m)
			}
		}
		// What the store cannot encode (attributes nested too deep, say)
		// is rejected here, alone, rather than failing the whole group.
		// The encoding is kept: the store writes it and the engine keeps
		// it, neither encodes the event again.
		if cap(pd.encoded) < 512 {
			pd.encoded = make([]byte, 0, pd.chunk)
		}
		pd.recSlab = append(pd.recSlab, rung.Record{ReceivedAt: now.UTC(), Event: *ev})
		rec := &pd.recSlab[len(pd.recSlab)-1]
		raw, err := codec.EncodeRecord(pd.encoded, rec)
		if err != nil {
			reject("attrs cannot be stored: " + rung.ErrorMessage(err))
			continue
		}
		rec.Raw, pd.encoded = raw[:len(raw):len(raw)], raw[len(raw):]
		status, version, hash := s.classify(ev, pd)
		in.Result.Status, in.Result.Version = string(status), version
		if status == engine.StatusDuplicate {
			continue
		}
		rec.Version = version
		pd.evSlab = append(pd.evSlab, pendingEvent{hash: hash, version: version, ev: &rec.Event})
		pd.events[ev.ID] = &pd.evSlab[len(pd.evSlab)-1]
		b.Records = append(b.Records, rec)
		pd.notes = append(pd.notes, &in.Result)
	}
	// r's records are the last ones of b, and their results the last of
	// pd.notes: r.batch is a window of each, capped so that nothing
	// appended later writes into it.
	if len(b.Records) > first {
		r.batch.records = b.Records[first:len(b.Records):len(b.Records)]
		r.batch.notes = pd.notes[firstNote:len(pd.notes):len(pd.notes)]
	}
}

// classify says what an event is, given the engine and what this group has
// already prepared.
func (s *Service) classify(ev *rung.Event, pd *pending) (engine.Status, int, uint64) {
	h := engine.Hash(ev)
	p := pd.events[ev.ID]
	if p == nil && pd.base != nil {
		p = pd.base.events[ev.ID]
	}
	if p == nil {
		x := s.idx.events.find(ev.ID)
		if x != nil && !x.retracted && x.hash == 0 {
			x.hash = s.storedHash(x.seq)
		}
		switch {
		case x == nil:
			return engine.StatusAccepted, 1, h
		case x.retracted:
			return engine.StatusAccepted, int(x.version) + 1, h
		case x.hash == h:
			return engine.StatusDuplicate, int(x.version), h
		}
		return engine.StatusCorrected, int(x.version) + 1, h
	}
	switch {
	case p.retracted:
		return engine.StatusAccepted, p.version + 1, h
	case p.hash == h:
		return engine.StatusDuplicate, p.version, h
	}
	return engine.StatusCorrected, p.version + 1, h
}

func (s *Service) prepareRetract(r *request, b *store.Batch, pd *pending, now time.Time) {
	var body rung.Event
	var version int
	if p := pd.events[r.id]; p != nil {
		if p.retracted {
			r.out.err = rung.Errorf(rung.ECONFLICT, "event %q is already retracted", r.id)
			return
		}
		body, version = *p.ev, p.version
	} else {
		x, known := s.idx.events.get(r.id)
		if !known {
			r.out.err = rung.Errorf(rung.ENOTFOUND, "event %q not found", r.id)
			return
		}
		if x.retracted {
			r.out.err = rung.Errorf(rung.ECONFLICT, "event %q is already retracted", r.id)
			return
		}
		recs, err := s.st.RecordsBySeq(context.Background(), []int64{x.seq})
		if err != nil {
			r.out.err = err
			return
		}
		body, version = recs[0].Event, int(x.version)
	}
	rec := &rung.Record{Version: version + 1, Retracted: true, ReceivedAt: now.UTC(), Event: body}
	pd.events[r.id] = &pendingEvent{version: version + 1, retracted: true, ev: &rec.Event}
	b.Records = append(b.Records, rec)
	r.batch.records = append(r.batch.records, rec)
	r.batch.notes = append(r.batch.notes, nil)
	b.Audit = append(b.Audit, rung.AuditEntry{At: now.UTC(), Actor: r.by, Action: "event.retract", Target: r.id})
	r.out.version = version + 1
}

func (s *Service) preparePartner(r *request, b *store.Batch, pd *pending, now time.Time) {
	p := *r.partner
	if err := checkPartner(&p, s.idx.prog); err != nil {
		r.out.err = err
		return
	}
	prev, ok := pd.partners[p.ID]
	if !ok {
		prev, ok = s.idx.partners[p.ID]
	}
	version := 1
	if ok {
		version = prev.Version + 1
	}
	if version > 1 {
		last := prev.Partner
		p.ID = last.ID // one string for the partner's id (prepareEvents)
		if p.JoinedAt.IsZero() {
			p.JoinedAt = last.JoinedAt
		}
		if samePartner(&last, &p) {
			r.out.partner = &rung.PartnerVersion{Partner: last, Version: version - 1}
			return
		}
	} else if p.JoinedAt.IsZero() {
		p.JoinedAt = now.UTC()
	}
	pv := rung.PartnerVersion{Partner: p, Version: version, ValidFrom: now.UTC()}
	pd.partners[p.ID] = pv
	b.Partners = append(b.Partners, pv)
	r.out.partner = &pv
}

func (s *Service) prepareMember(r *request, b *store.Batch, pd *pending, now time.Time) {
	m := *r.member
	if hasNUL(m.ID, m.Partner, m.Name, m.Email, m.Role) || attrsNUL(map[string]any(m.Attrs)) {
		r.out.err = rung.Errorf(rung.EINVALID, "member fields must not contain NUL characters")
		return
	}
	if m.ID == "" || len(m.ID) > 200 {
		r.out.err = rung.Errorf(rung.EINVALID, "member id must be 1 to 200 characters")
		return
	}
	if m.Partner == "" {
		r.out.err = rung.Errorf(rung.EINVALID, "partner is required: the id of the partner the member works for")
		return
	}
	if !s.partnerExists(m.Partner, pd) {
		r.out.err = rung.Errorf(rung.EINVALID, "partner %q does not exist: create it first with PUT /api/v1/partners/%s", m.Partner, m.Partner)
		return
	}
	if !m.JoinedAt.IsZero() && !inRange(m.JoinedAt) {
		r.out.err = rung.Errorf(rung.EINVALID, "joined_at %s is out of range: Rung takes times from %d to %d", m.JoinedAt.Format(time.RFC3339), minYear, maxYear-1)
		return
	}
	if m.Email != "" && !strings.Contains(m.Email, "@") {
		r.out.err = rung.Errorf(rung.EINVALID, "email %q is not an e-mail address", m.Email)
		return
	}
	old, exists := s.memberOf(m.ID, pd)
	switch {
	case !exists:
		if m.JoinedAt.IsZero() {
			m.JoinedAt = now.UTC()
		}
		m.Memberships = []rung.Membership{{Partner: m.Partner, JoinedAt: m.JoinedAt.UTC()}}
	default:
		m.ID = old.ID // one string for the member's id (prepareEvents)
		m.Memberships = slices.Clone(old.Memberships)
		cur := &m.Memberships[len(m.Memberships)-1]
		if cur.Partner != m.Partner {
			// A move: the old membership ends, a new one starts.
			at := now.UTC()
			if !m.JoinedAt.IsZero() && !m.JoinedAt.Equal(old.JoinedAt) {
				at = m.JoinedAt.UTC()
			}
			// The first membership is open at the start; later ones are not.
			if !at.After(cur.JoinedAt) && len(m.Memberships) > 1 {
				r.out.err = rung.Errorf(rung.EINVALID, "joined_at %s is before the member joined its current partner (%s): a move must be dated later",
					at.Format(time.RFC3339), cur.JoinedAt.Format(time.RFC3339))
				return
			}
			cur.LeftAt = at
			m.Memberships = append(m.Memberships, rung.Membership{Partner: m.Partner, JoinedAt: at})
			m.JoinedAt = at
		} else if m.JoinedAt.IsZero() {
			m.JoinedAt = old.JoinedAt
		}
	}
	pd.members[m.ID] = m
	b.Members = append(b.Members, m)
	r.out.member = &m
}

func (s *Service) prepareProgram(r *request, b *store.Batch, pd *pending, now time.Time) {
	last := s.idx.lastProgram
	if n := len(pd.programs); n > 0 {
		last = pd.programs[n-1].Version
	}
	from := r.from
	if from.IsZero() {
		from = now.UTC()
		if last == 0 {
			// The first program scores the whole history.
			from = time.Unix(0, 0).UTC()
		}
	}
	pv := rung.ProgramVersion{Version: last + 1, Source: r.source, EffectiveFrom: from.UTC(), AppliedAt: now.UTC(), AppliedBy: r.by}
	pd.programs = append(pd.programs, pv)
	pd.compiled = append(pd.compiled, &engine.Version{N: pv.Version, From: pv.EffectiveFrom, Program: r.prog})
	b.Programs = append(b.Programs, pv)
	b.Audit = append(b.Audit, rung.AuditEntry{At: now.UTC(), Actor: r.by, Action: "program.apply", Target: fmt.Sprintf("v%d", pv.Version), Detail: r.prog.Name})
	r.out.version = pv.Version
}

func (s *Service) prepareAdjust(r *request, b *store.Batch, pd *pending, now time.Time) {
	a := *r.adjust
	if !s.partnerExists(a.Partner, pd) {
		r.out.err = rung.Errorf(rung.EINVALID, "partner %q does not exist", a.Partner)
		return
	}
	if a.Member != "" {
		m, ok := s.memberOf(a.Member, pd)
		if !ok {
			r.out.err = rung.Errorf(rung.EINVALID, "member %q does not exist", a.Member)
			return
		}
		if m.Partner != a.Partner {
			r.out.err = rung.Errorf(rung.EINVALID, "member %q belongs to partner %q, not %q", a.Member, m.Partner, a.Partner)
			return
		}
	}
	if !a.OccurredAt.IsZero() && !inRange(a.OccurredAt) {
		r.out.err = rung.Errorf(rung.EINVALID, "occurred_at %s is out of range: Rung takes times from %d to %d", a.OccurredAt.Format(time.RFC3339), minYear, maxYear-1)
		return
	}
	if a.Points == 0 {
		r.out.err = rung.Errorf(rung.EINVALID, "points must not be 0: positive to grant, negative to deduct")
		return
	}
	if strings.TrimSpace(a.Reason) == "" {
		r.out.err = rung.Errorf(rung.EINVALID, "reason is required: say why the points are granted or deducted")
		return
	}
	a.CreatedAt = now.UTC()
	if a.OccurredAt.IsZero() {
		a.OccurredAt = now.UTC()
	}
	a.By = r.by
	if a.ID == "" {
		var b [6]byte
		rand.Read(b[:])
		a.ID = fmt.Sprintf("adj:%d:%x", now.UnixNano(), b)
		// Kept for a second attempt: if the first one's commit did go
		// through unseen, the id shows it.
		r.adjust.ID, r.ownID = a.ID, true
	}
	if s.idx.adjustments[a.ID] {
		if !r.ownID {
			r.out.err = rung.Errorf(rung.ECONFLICT, "adjustment %q already exists", a.ID)
		}
		return // else stored by an earlier attempt of this request
	}
	b.Adjustments = append(b.Adjustments, a)
	*r.adjust = a // answered as stored: its id, author and times
	b.Audit = append(b.Audit, rung.AuditEntry{At: now.UTC(), Actor: r.by, Action: "points.adjust", Target: a.Partner + "/" + a.Member,
		Detail: fmt.Sprintf("%+d: %s", a.Points, a.Reason)})
}

// attrsNUL reports whether a JSON-like value holds a NUL character in any
// key or string.
func attrsNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.IndexByte(v, 0) >= 0
	case []any:
		for _, x := range v {
			if attrsNUL(x) {
				return true
			}
		}
	case map[string]any:
		for k, x := range v {
			if strings.IndexByte(k, 0) >= 0 || attrsNUL(x) {
				return true
			}
		}
	}
	return false
}

// hasNUL reports whether any string holds a NUL character, which
// PostgreSQL cannot store: refusing it keeps both stores alike.
func hasNUL(ss ...string) bool {
	for _, s := range ss {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

// storedHash returns the content hash of a stored record; 0 if it cannot
// be read (the event then counts as changed: a correction, never a loss).
func (s *Service) storedHash(seq int64) uint64 {
	recs, err := s.st.RecordsBySeq(context.Background(), []int64{seq})
	if err != nil {
		s.log.Error("read stored event", "seq", seq, "err", err)
		return 0
	}
	return engine.Hash(&recs[0].Event)
}
