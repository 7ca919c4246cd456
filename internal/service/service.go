// Package service is Rung's application layer: it ties the durable store to
// the in-memory engine. Every change goes through one writer goroutine that
// validates it against the current state, commits it durably (several
// requests per commit: group commit), applies it to the engine and only then
// answers. Reads share a read lock on the engine.
package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/gcpause"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/store"
)

// Options configure a Service.
type Options struct {
	// Clock returns the current time; time.Now when nil. Tests set it.
	Clock func() time.Time
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
	// MaxGroup is how many events one commit may hold (default 20,000).
	MaxGroup int
	// FollowEvery is how often an instance on a shared store (PostgreSQL)
	// reads what other instances wrote (default 100 ms): the most a read
	// lags behind a write made elsewhere, plus the time to apply it.
	FollowEvery time.Duration
	// PollOnly follows other instances by polling alone. By default an
	// instance also listens for their commits (LISTEN/NOTIFY) and follows
	// at once; the poll remains for notifications lost while a connection
	// was down.
	PollOnly bool
}

// Service is a running Rung instance over one store.
type Service struct {
	st    store.Store
	eng   *engine.Engine
	mu    stateLock // guards eng; generation.go
	clock func() time.Time
	log   *slog.Logger

	reqs        chan *request
	idx         *index // the writer's view of what is committed
	applyc      chan *applyJob
	commits     chan *flight // the writer's flights to the committer; write.go
	applierDone chan struct{}
	maxGroup    int
	groups      atomic.Int64  // groups committed, for benchmarks
	launched    atomic.Int64  // commits started without waiting (store not shared), for tests
	stacked     atomic.Int64  // requests prepared on top of a group in flight, for tests
	loaded      int           // log records replayed at Open
	loadTook    time.Duration // and how long that took
	loadParts   loadParts     // where that time went
	base        loaded        // where load stopped reading
	// fromSnapshot is the snapshot Open loaded (snapshot.go); zero when it
	// replayed the log.
	fromSnapshot store.SnapshotInfo
	shared       bool // other instances write the store too
	followEvery  time.Duration
	followBad    bool // the last follow failed (logged once)
	wake         <-chan struct{}
	stopWake     context.CancelFunc
	stop         chan struct{}
	stopped      chan struct{}

	closeMu   sync.RWMutex // held for reading while a request is queued
	closed    bool
	closeOnce sync.Once

	keysMu  sync.RWMutex
	keys    map[string]rung.APIKey // by hex SHA-256
	keysGen uint64                 // bumped by every revocation

	trackers []weak.Pointer[TouchTracker] // touched.go; under mu
}

// Open loads every fact from the store, rebuilds the derived state and
// starts the writer.
func Open(ctx context.Context, st store.Store, o Options) (*Service, error) {
	s := &Service{
		st:       st,
		eng:      engine.New(),
		clock:    o.Clock,
		log:      o.Logger,
		reqs:     make(chan *request, 1024),
		maxGroup: o.MaxGroup,
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
		keys:     map[string]rung.APIKey{},

		applyc:      make(chan *applyJob, 1),
		applierDone: make(chan struct{}),
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxGroup <= 0 {
		s.maxGroup = 20000
	}
	s.shared, s.followEvery = st.Shared(), o.FollowEvery
	if s.followEvery <= 0 {
		s.followEvery = 100 * time.Millisecond
	}
	start := time.Now()
	resume := pauseGC()
	snap := s.loadSnapshot(ctx) // snapshot.go
	var n int
	if !snap {
		var err error
		if n, err = s.load(ctx); err != nil {
			resume()
			return nil, err
		}
	}
	mark := time.Now()
	s.idx = newIndex(s.eng, s.base)
	resume()
	s.loadParts.index = time.Since(mark)
	if snap {
		// What came after the snapshot arrives as from another instance,
		// applied before Open returns.
		go s.applier()
		if err := s.catchUp(ctx); err != nil {
			close(s.applyc)
			<-s.applierDone
			return nil, fmt.Errorf("catch up after the snapshot: %w", err)
		}
	}
	s.loaded, s.loadTook = n, time.Since(start)
	p, m, ev := s.eng.Counts()
	if snap {
		s.log.Info("state loaded from a snapshot", "snapshot", s.fromSnapshot.ID, "seq", s.fromSnapshot.Seq, "caught up to", s.idx.seenSeq,
			"events", ev, "partners", p, "members", m, "took", s.loadTook.Round(time.Millisecond))
	} else {
		s.log.Info("state rebuilt from the log", "records", n, "events", ev, "partners", p, "members", m, "took", s.loadTook.Round(time.Millisecond),
			"parts", s.loadParts.String())
	}
	s.stopWake = func() {}
	if s.shared && !o.PollOnly {
		var wctx context.Context
		wctx, s.stopWake = context.WithCancel(context.Background())
		s.wake = st.Wake(wctx)
	}
	if !snap {
		go s.applier()
	}
	go s.writer()
	go s.ticker()
	return s, nil
}

// loaded is where load stopped reading the store: what came after is read
// by the follower (follow.go).
type loaded struct {
	seq         int64           // the log up to here
	change      int64           // the change feed up to here
	adjustments map[string]bool // ids of the adjustments read
	// events is the writer's index of the events replayed (see
	// eventIndexer); nil when newIndex is to read it from the engine.
	events *eventIndex
}

// eventIndexer builds the writer's index of events from the records load
// replays, on a goroutine of its own, so that the index is ready when the
// replay ends instead of being read from the engine after it. The engine
// keeps, for every event, the seq, version and retraction of the newest
// record of its id it applied, which is the last such record of the log;
// each record overwrites its id's entry here the same way, so the two
// agree (TestLoadIndexAgreesWithEngine).
type eventIndexer struct {
	batch  []indexedRecord
	full   chan []indexedRecord
	free   chan []indexedRecord
	events *eventIndex
	done   chan struct{}
}

type indexedRecord struct {
	id string
	ev indexedEvent
}

// indexBatch is how many records are handed over to the indexer at a time.
const indexBatch = 4096

func newEventIndexer(records int) *eventIndexer {
	x := &eventIndexer{full: make(chan []indexedRecord, 4), free: make(chan []indexedRecord, 4), done: make(chan struct{})}
	for range 4 {
		x.free <- make([]indexedRecord, 0, indexBatch)
	}
	x.batch = <-x.free
	go func() {
		defer close(x.done)
		// Made here: clearing the room for every record takes a while.
		x.events = newEventIndex(records)
		for b := range x.full {
			for _, r := range b {
				x.events.set(r.id, r.ev)
			}
			x.free <- b[:0]
		}
	}()
	return x
}

// add notes a record the engine applied.
func (x *eventIndexer) add(r *rung.Record) {
	x.batch = append(x.batch, indexedRecord{r.Event.ID, indexedEvent{seq: r.Seq, version: int32(r.Version), retracted: r.Retracted}})
	if len(x.batch) == indexBatch {
		x.full <- x.batch
		x.batch = <-x.free
	}
}

// close waits for the indexer and returns the index.
func (x *eventIndexer) close() *eventIndex {
	x.full <- x.batch
	close(x.full)
	<-x.done
	return x.events
}

// loadParts is where the time of a start went.
type loadParts struct {
	facts   time.Duration // partners, members, programs, tiers
	replay  time.Duration // reading, decoding and applying the log
	rest    time.Duration // adjustments and redemptions
	endBulk time.Duration // the boards, the timelines
	index   time.Duration // the writer's index
}

func (p loadParts) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("facts %v, log %v, adjustments and redemptions %v, boards %v, writer index %v",
		r(p.facts), r(p.replay), r(p.rest), r(p.endBulk), r(p.index))
}

// pauseGC stops the collector until the function it returns is called.
// Loading allocates the whole state at once, and what it allocates stays:
// a collection while it runs finds little garbage and marks all of the
// state built so far. Without any, the heap holds the state plus about
// half as much garbage when loading ends (a memory limit set with
// GOMEMLIMIT still holds); the first collection after it marks the whole
// state once, while the instance already serves. On 1M demo records the
// collections of a load cost 1.1 s of CPU at GOGC=400; on 10M, tens.
// Loads and simulations that overlap share the pause (package gcpause).
// Only Open pauses it: Rebuild runs while the instance serves.
func pauseGC() (resume func()) { return gcpause.Pause(0) }

// errStop ends a read of the log early.
var errStop = errors.New("stop")

// load replays the facts into a fresh engine. On a shared store others may
// commit while it reads: it notes the end of the change feed and of the
// log first, and reads the log only up to there, so every record it
// replays has its partner and member among the facts read after; the
// follower then reads everything after both ends (a fact read twice
// changes nothing).
func (s *Service) load(ctx context.Context) (int, error) {
	mark := time.Now()
	lap := func(d *time.Duration) {
		t := time.Now()
		*d, mark = t.Sub(mark), t
	}
	change, err := s.st.LastChange(ctx)
	if err != nil {
		return 0, fmt.Errorf("load changes: %w", err)
	}
	last, err := s.st.LastSeq(ctx)
	if err != nil {
		return 0, fmt.Errorf("load events: %w", err)
	}
	s.base = loaded{seq: last, change: change, adjustments: map[string]bool{}}
	pvs, err := s.st.PartnerVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("load partners: %w", err)
	}
	for _, pv := range pvs {
		s.eng.PutPartner(pv)
	}
	ms, err := s.st.Members(ctx)
	if err != nil {
		return 0, fmt.Errorf("load members: %w", err)
	}
	for _, m := range ms {
		s.eng.PutMember(m)
	}
	progs, err := s.st.Programs(ctx)
	if err != nil {
		return 0, fmt.Errorf("load programs: %w", err)
	}
	now := s.clock()
	if len(progs) > 0 {
		vs, err := compileVersions(progs)
		if err != nil {
			return 0, err
		}
		if err := s.eng.SetVersions(vs, now); err != nil {
			return 0, err
		}
	}
	if err := s.loadTiers(ctx); err != nil {
		return 0, err
	}
	s.eng.BeginBulk(int(last))
	lap(&s.loadParts.facts)
	idx := newEventIndexer(int(last))
	n := 0
	replay := func(r *rung.Record, lent store.Lent) error {
		if r.Seq > last {
			return errStop
		}
		if lent.Block != nil {
			s.eng.ApplyLent(r, lent.Block, lent.N, lent.Off)
		} else {
			s.eng.Apply(r)
		}
		idx.add(r)
		n++
		return nil
	}
	if l, ok := s.st.(store.Lender); ok && !s.eng.Deferred() {
		// The engine keeps the blocks the stream reads the log into as
		// its body blocks: no copy of each body, nor of its strings.
		err = l.RecordsLent(ctx, 0, replay)
	} else {
		records := s.st.Records
		// A deferred bulk load keeps the encoded body and decodes it when it
		// places the event, so the log is read without the attributes.
		if s.eng.Deferred() {
			records = s.st.RecordHeads
		}
		err = records(ctx, 0, func(r *rung.Record) error { return replay(r, store.Lent{}) })
	}
	s.base.events = idx.close()
	if err != nil && !errors.Is(err, errStop) {
		return n, fmt.Errorf("load events: %w", err)
	}
	lap(&s.loadParts.replay)
	adj, err := s.st.Adjustments(ctx)
	if err != nil {
		return n, fmt.Errorf("load adjustments: %w", err)
	}
	for _, a := range adj {
		s.eng.AddAdjustment(a)
		s.base.adjustments[a.ID] = true
	}
	if err := s.loadRedemptions(ctx); err != nil {
		return n, err
	}
	lap(&s.loadParts.rest)
	s.eng.EndBulk(now)
	lap(&s.loadParts.endBulk)
	return n, nil
}

// compileVersions parses every stored program version.
func compileVersions(progs []rung.ProgramVersion) ([]*engine.Version, error) {
	vs := make([]*engine.Version, 0, len(progs))
	for _, pv := range progs {
		p, err := program.Parse([]byte(pv.Source))
		if err != nil {
			return nil, fmt.Errorf("program version %d no longer compiles: %w", pv.Version, err)
		}
		vs = append(vs, &engine.Version{N: pv.Version, From: pv.EffectiveFrom, Program: p})
	}
	return vs, nil
}

// Loaded reports how many log records Open replayed into the engine, and
// how long loading the state took.
func (s *Service) Loaded() (int, time.Duration) { return s.loaded, s.loadTook }

// Close stops the service: requests being written finish, requests still
// queued are answered "unavailable", and later ones are refused. It may be
// called more than once.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.closeMu.Lock()
		s.closed = true
		s.closeMu.Unlock()
		close(s.stop)
	})
	<-s.stopped
}

// Now returns the service's current time.
func (s *Service) Now() time.Time { return s.clock() }

// ticker moves the engine's clock once a minute so live boards roll over to
// the next window on time.
func (s *Service) ticker() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			s.eng.SetNow(s.clock())
			s.mu.Unlock()
		}
	}
}

// Read runs fn with the engine under the read lock.
func (s *Service) Read(fn func(e *engine.Engine) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(s.eng)
}

// Store returns the underlying store.
func (s *Service) Store() store.Store { return s.st }

// Rebuild recomputes all derived state from the store, as at start-up, and
// swaps it in. It returns how many log records it replayed.
func (s *Service) Rebuild(ctx context.Context) (int, time.Duration, error) {
	start := time.Now()
	fresh := &Service{st: s.st, eng: engine.New(), clock: s.clock, log: s.log}
	// Hold the writer out while replaying, so nothing lands in between.
	var n int
	r := &request{kind: kindCustom, custom: func() error {
		var err error
		n, err = fresh.load(ctx)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.eng = fresh.eng
		s.mu.Unlock()
		s.idx = newIndex(fresh.eng, fresh.base)
		return nil
	}, done: make(chan struct{}, 1)}
	s.submit(r)
	<-r.done
	return n, time.Since(start), r.out.err
}

// CreateAPIKey makes a new key with a scope and returns it with its secret,
// which is shown once and stored only as a hash.
func (s *Service) CreateAPIKey(ctx context.Context, name string, scope rung.Scope, by string) (rung.APIKey, string, error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return rung.APIKey{}, "", err
	}
	var idb [6]byte
	rand.Read(idb[:])
	secret := "rung_" + string(scope) + "_" + hex.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(secret))
	k := rung.APIKey{ID: "key_" + hex.EncodeToString(idb[:]), Name: name, Scope: scope, Hash: sum[:], CreatedAt: s.clock().UTC()}
	if err := s.st.CreateAPIKey(ctx, k); err != nil {
		return rung.APIKey{}, "", err
	}
	s.audit(ctx, by, "apikey.create", k.ID, fmt.Sprintf("scope %s, name %q", scope, name))
	return k, secret, nil
}

// Authenticate finds the key for a secret.
func (s *Service) Authenticate(ctx context.Context, secret string) (rung.APIKey, error) {
	// Every API request comes here: the secret is hashed from a copy on
	// the stack (keys are 48 to 54 bytes) and nothing is allocated when the
	// key is cached.
	var buf [64]byte
	sum := sha256.Sum256(append(buf[:0], secret...))
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	s.keysMu.RLock()
	k, ok := s.keys[string(hx[:])] // a lookup by string(bytes) does not allocate
	gen := s.keysGen
	s.keysMu.RUnlock()
	if ok {
		return k, nil
	}
	h := string(hx[:])
	k, err := s.st.APIKeyByHash(ctx, bytes.Clone(sum[:]))
	if err != nil {
		if rung.ErrorCode(err) == rung.ENOTFOUND {
			return rung.APIKey{}, rung.Errorf(rung.EUNAUTHORIZED, "the API key is unknown or revoked: create one with `rung apikey create --scope read`")
		}
		return rung.APIKey{}, err
	}
	s.keysMu.Lock()
	// A revocation since the read may concern this key: cache only what
	// no revocation can have overtaken.
	if s.keysGen == gen {
		s.keys[h] = k
	}
	s.keysMu.Unlock()
	return k, nil
}

// RevokeAPIKey revokes a key by id.
func (s *Service) RevokeAPIKey(ctx context.Context, id, by string) error {
	if err := s.st.RevokeAPIKey(ctx, id, s.clock().UTC()); err != nil {
		return err
	}
	s.keysMu.Lock()
	s.keysGen++
	for h, k := range s.keys {
		if k.ID == id {
			delete(s.keys, h)
		}
	}
	s.keysMu.Unlock()
	s.audit(ctx, by, "apikey.revoke", id, "")
	return nil
}

// audit writes an audit entry through the writer; failures are logged, not
// returned, since the action itself has already happened.
func (s *Service) audit(ctx context.Context, actor, action, target, detail string) {
	e := rung.AuditEntry{At: s.clock().UTC(), Actor: actor, Action: action, Target: target, Detail: detail}
	if err := s.st.Commit(ctx, &store.Batch{Audit: []rung.AuditEntry{e}}); err != nil {
		s.log.Error("audit write failed", "action", action, "target", target, "err", err)
	}
}
