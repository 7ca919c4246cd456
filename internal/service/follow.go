package service

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"strconv"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store"
)

// Several instances on one PostgreSQL schema each keep the whole derived
// state in memory. Each one's writer follows what the others commit: every
// FollowEvery, and before it prepares a group again after a conflict, it
// reads the event log after the last seq it has seen and the change feed
// after the last change, merges both into its index, and hands them to the
// applier like a group of its own. The engine gives the same state whatever
// order facts arrive in, so records of other instances may be applied
// between this instance's own.

// changesPerRead is how many changes one query of the feed returns.
const changesPerRead = 5000

// followNow follows, logging when following starts or stops failing.
func (s *Service) followNow() {
	err := s.follow(context.Background())
	switch {
	case err != nil && !s.followBad:
		s.log.Error("cannot read what other instances wrote; reads here may lag until the database answers", "err", err)
	case err == nil && s.followBad:
		s.log.Info("following other instances again")
	}
	s.followBad = err != nil
}

// follow reads what other instances committed and hands it to the applier.
// It runs on the writer goroutine, which owns the index.
func (s *Service) follow(ctx context.Context) error {
	x := s.idx
	recs, seen, own, err := s.readOthers(ctx)
	if err != nil {
		return err
	}
	// The change feed is read after the log: a record's partner and member
	// were committed before it or with it, so they are among the changes.
	var cs []store.Change
	after := x.seenChange
	for {
		page, err := s.st.Changes(ctx, after, changesPerRead)
		if err != nil {
			return err
		}
		cs = append(cs, page...)
		if len(page) < changesPerRead {
			break
		}
		after = page[len(page)-1].Seq
	}
	if len(recs) == 0 && len(cs) == 0 && seen == x.seenSeq {
		return nil
	}
	if tiersChanged(cs) {
		if err := s.reloadTiers(ctx); err != nil {
			return err
		}
	}
	b, compiled, err := s.fetchChanged(ctx, cs)
	if err != nil {
		return err
	}
	// All read: now the index moves.
	x.seenSeq, x.own = seen, own
	if len(cs) > 0 {
		x.seenChange = cs[len(cs)-1].Seq
	}
	for _, r := range recs {
		x.events.set(r.Event.ID, indexedEvent{seq: r.Seq, version: int32(r.Version), retracted: r.Retracted})
	}
	for _, pv := range b.Partners {
		x.partners[pv.Partner.ID] = pv
	}
	for _, m := range b.Members {
		x.members[m.ID] = m
	}
	for _, a := range b.Adjustments {
		x.adjustments[a.ID] = true
	}
	if n := len(compiled); n > 0 {
		x.lastProgram, x.prog = compiled[n-1].N, compiled[n-1].Program
	}
	if len(recs) == 0 && b.Empty() && len(compiled) == 0 {
		return nil
	}
	s.applyc <- &applyJob{batch: b, followed: recs, compiled: compiled, now: s.clock()}
	return nil
}

// readOthers reads the log after the index's seenSeq, skipping the ranges
// this instance committed itself, and returns the records the index does
// not have yet, the new seenSeq and what is left of the own ranges.
func (s *Service) readOthers(ctx context.Context) (recs []*rung.Record, seen int64, own []seqRange, err error) {
	x := s.idx
	seen, own = x.seenSeq, x.own
	for {
		// Own commits right after what was seen need no reading.
		for len(own) > 0 && own[0].first <= seen+1 {
			seen = max(seen, own[0].last)
			own = own[1:]
		}
		stop := int64(-1) // read to the end
		if len(own) > 0 {
			stop = own[0].first
		}
		err := s.st.Records(ctx, seen, func(r *rung.Record) error {
			if stop >= 0 && r.Seq >= stop {
				return errStop
			}
			seen = r.Seq
			if e := x.events.find(r.Event.ID); e != nil && int(e.version) >= r.Version {
				return nil // had already: written here, or read before
			}
			c := *r
			recs = append(recs, &c)
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return nil, 0, nil, err
		}
		// Seqs are handed out in commit order, so everything below an own
		// commit was visible: the read reached it.
		if len(own) == 0 {
			return recs, seen, own, nil
		}
		seen = max(seen, own[0].first-1)
	}
}

// fetchChanged reads the current state of the facts the changes name and
// returns what the index does not have yet, as a batch for the applier,
// with the new program versions compiled.
func (s *Service) fetchChanged(ctx context.Context, cs []store.Change) (*store.Batch, []*engine.Version, error) {
	x := s.idx
	b := &store.Batch{}
	since := map[string]int{}
	members := map[string]bool{}
	var adjustments, redemptions []string
	newProgram := false
	for _, c := range cs {
		switch c.Kind {
		case store.ChangePartner:
			since[c.Key] = x.partners[c.Key].Version
		case store.ChangeMember:
			members[c.Key] = true
		case store.ChangeAdjustment:
			if !x.adjustments[c.Key] {
				adjustments = append(adjustments, c.Key)
			}
		case store.ChangeProgram:
			if v, err := strconv.Atoi(c.Key); err == nil && v > x.lastProgram {
				newProgram = true
			}
		case store.ChangeAPIKey:
			s.forgetKey(c.Key)
		case store.ChangeRedemption:
			redemptions = append(redemptions, c.Key)
		}
	}
	var err error
	if b.Partners, err = s.st.PartnerVersionsOf(ctx, since); err != nil {
		return nil, nil, err
	}
	ms, err := s.st.MembersByID(ctx, slicesOf(members))
	if err != nil {
		return nil, nil, err
	}
	for _, m := range ms {
		if old, ok := x.members[m.ID]; !ok || !sameMember(&old, &m) {
			b.Members = append(b.Members, m)
		}
	}
	if b.Adjustments, err = s.st.AdjustmentsByID(ctx, adjustments); err != nil {
		return nil, nil, err
	}
	if err := s.followRedemptions(ctx, redemptions); err != nil { // rewards.go
		return nil, nil, err
	}
	var compiled []*engine.Version
	if newProgram {
		progs, err := s.st.Programs(ctx)
		if err != nil {
			return nil, nil, err
		}
		var fresh []rung.ProgramVersion
		for _, p := range progs {
			if p.Version > x.lastProgram {
				fresh = append(fresh, p)
			}
		}
		if compiled, err = compileVersions(fresh); err != nil {
			return nil, nil, err
		}
	}
	return b, compiled, nil
}

func slicesOf(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	return out
}

// sameMember reports whether two member records say the same.
func sameMember(a, b *rung.Member) bool {
	if a.ID != b.ID || a.Partner != b.Partner || a.Name != b.Name || a.Email != b.Email || a.Role != b.Role ||
		!a.JoinedAt.Equal(b.JoinedAt) || len(a.Memberships) != len(b.Memberships) ||
		len(a.Attrs) != len(b.Attrs) || !maps.EqualFunc(a.Attrs, b.Attrs, func(x, y any) bool { return reflect.DeepEqual(x, y) }) {
		return false
	}
	for i := range a.Memberships {
		x, y := a.Memberships[i], b.Memberships[i]
		if x.Partner != y.Partner || !x.JoinedAt.Equal(y.JoinedAt) || !x.LeftAt.Equal(y.LeftAt) {
			return false
		}
	}
	return true
}

// forgetKey drops a key from the cache of authenticated keys: another
// instance may have revoked it.
func (s *Service) forgetKey(id string) {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	s.keysGen++
	for h, k := range s.keys {
		if k.ID == id {
			delete(s.keys, h)
		}
	}
}

// FollowEvery returns how often this instance reads what other instances
// wrote; zero when the store is not shared.
func (s *Service) FollowEvery() time.Duration {
	if !s.shared {
		return 0
	}
	return s.followEvery
}
