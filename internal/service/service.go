// Package service is Rung's application layer: it ties the durable store to
// the in-memory engine. Every change goes through one writer goroutine that
// validates it against the current state, commits it durably (several
// requests per commit: group commit), applies it to the engine and only then
// answers. Reads share a read lock on the engine.
package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
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
	mu    sync.RWMutex // guards eng
	clock func() time.Time
	log   *slog.Logger

	reqs        chan *request
	idx         *index // the writer's view of what is committed
	applyc      chan *applyJob
	applierDone chan struct{}
	maxGroup    int
	loaded      int           // log records replayed at Open
	loadTook    time.Duration // and how long that took
	base        loaded        // where load stopped reading
	shared      bool          // other instances write the store too
	followEvery time.Duration
	followBad   bool // the last follow failed (logged once)
	wake        <-chan struct{}
	stopWake    context.CancelFunc
	stop        chan struct{}
	stopped     chan struct{}

	closeMu   sync.RWMutex // held for reading while a request is queued
	closed    bool
	closeOnce sync.Once

	keysMu  sync.RWMutex
	keys    map[string]rung.APIKey // by hex SHA-256
	keysGen uint64                 // bumped by every revocation
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
	n, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.loaded, s.loadTook = n, time.Since(start)
	p, m, ev := s.eng.Counts()
	s.log.Info("state rebuilt from the log", "records", n, "events", ev, "partners", p, "members", m, "took", s.loadTook.Round(time.Millisecond))
	s.idx = newIndex(s.eng, s.base)
	s.stopWake = func() {}
	if s.shared && !o.PollOnly {
		var wctx context.Context
		wctx, s.stopWake = context.WithCancel(context.Background())
		s.wake = st.Wake(wctx)
	}
	go s.applier()
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
}

// errStop ends a read of the log early.
var errStop = errors.New("stop")

// load replays the facts into a fresh engine. On a shared store others may
// commit while it reads: it notes the end of the change feed and of the
// log first, and reads the log only up to there, so every record it
// replays has its partner and member among the facts read after; the
// follower then reads everything after both ends (a fact read twice
// changes nothing).
func (s *Service) load(ctx context.Context) (int, error) {
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
	// The replay allocates the whole state at once; collecting garbage
	// less often while it runs saves a fifth of its time.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	if err := s.loadTiers(ctx); err != nil {
		return 0, err
	}
	s.eng.BeginBulk(int(last))
	n := 0
	err = s.st.Records(ctx, 0, func(r *rung.Record) error {
		if r.Seq > last {
			return errStop
		}
		s.eng.Apply(r)
		n++
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return n, fmt.Errorf("load events: %w", err)
	}
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
	s.eng.EndBulk(now)
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
	done := make(chan result, 1)
	var n int
	s.submit(&request{kind: kindCustom, custom: func() error {
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
	}, done: done})
	r := <-done
	return n, time.Since(start), r.err
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
	sum := sha256.Sum256([]byte(secret))
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
	k, err := s.st.APIKeyByHash(ctx, sum[:])
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
