package service

import (
	"sync"
	"weak"

	"github.com/rung-dev/rung"
)

// Touched is the members and partners whose reported state (points,
// level, tier, badges) the writes applied to the engine may have changed.
// All is set when that cannot be told: a program was applied, the engine
// was rebuilt, or too many were touched to list.
type Touched struct {
	Members, Partners map[string]struct{}
	All               bool
}

// Empty reports whether nothing was touched.
func (t *Touched) Empty() bool { return !t.All && len(t.Members) == 0 && len(t.Partners) == 0 }

// maxTouched bounds a tracker's lists; past it, it says All.
const maxTouched = 1 << 17

// maxNoted bounds the ids a tracker keeps as noted, repeats included,
// between two Takes; past it, the applier sorts them into the tracker's
// sets itself (a producer that lags).
const maxNoted = 4 * maxTouched

// A TouchTracker collects what the writes applied since its last Take
// touched: the applier notes every write of this instance and every one
// it follows from others, as it applies them. The outbox producer takes
// it each step instead of reading the log back.
//
// The applier only appends each record's ids to a list, repeats and all:
// under batch ingest a set of 100k members took it half a microsecond a
// record, a random place in a large table each. Take, on the producer's
// goroutine, makes the sets.
type TouchTracker struct {
	mu sync.Mutex
	t  Touched // what the noted ids are added to: by Put, and past maxNoted

	// the ids noted since the last Take, repeats included
	members, partners []string

	// the sizes of the sets the last Take returned: the next sets start
	// at them instead of growing there again (rehashing as they go)
	nm, np int
}

// TrackTouched returns a tracker of what writes from now on touch. It
// starts with All set. The service holds it weakly: it stops tracking
// once the tracker is no longer referenced.
func (s *Service) TrackTouched() *TouchTracker {
	k := &TouchTracker{t: Touched{All: true}}
	s.mu.Lock()
	s.trackers = append(s.trackers, weak.Make(k))
	s.mu.Unlock()
	return k
}

// Take returns what was touched since the last Take and starts afresh.
// A state the engine gives after Take returns has seen at least what it
// names: the applier notes a job, holding the service's lock, before it
// applies the job, and a read waits for that lock.
func (k *TouchTracker) Take() Touched {
	k.mu.Lock()
	t, ms, ps := k.t, k.members, k.partners
	k.t = Touched{}
	k.members = make([]string, 0, cap(ms))
	k.partners = make([]string, 0, cap(ps))
	k.mu.Unlock()
	if t.All {
		return t
	}
	// The sets are made here, with the tracker free again for the applier.
	t.fold(ms, ps, k.nm, k.np)
	if len(t.Members)+len(t.Partners) > maxTouched {
		return Touched{All: true}
	}
	k.nm, k.np = len(t.Members), len(t.Partners)
	return t
}

// Put adds t back, for a step that did not get to report it.
func (k *TouchTracker) Put(t Touched) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.t.All || t.All {
		k.all()
		return
	}
	for id := range t.Members {
		k.member(id)
	}
	for id := range t.Partners {
		k.partner(id)
	}
	k.cap()
}

// fold adds the ids noted, repeats and all, to t's sets; a set it makes
// starts with room for the sizes given, or a share of the ids.
func (t *Touched) fold(ms, ps []string, nm, np int) {
	if t.Members == nil && len(ms) > 0 {
		t.Members = make(map[string]struct{}, max(nm, len(ms)/4))
	}
	for _, id := range ms {
		t.Members[id] = struct{}{}
	}
	if t.Partners == nil && len(ps) > 0 {
		t.Partners = make(map[string]struct{}, max(np, len(ps)/64))
	}
	for _, id := range ps {
		t.Partners[id] = struct{}{}
	}
}

func (k *TouchTracker) all() {
	k.t = Touched{All: true}
	k.members, k.partners = k.members[:0], k.partners[:0]
}

func (k *TouchTracker) member(id string) { k.members = append(k.members, id) }

func (k *TouchTracker) partner(id string) { k.partners = append(k.partners, id) }

// cap sorts the noted ids into the sets once there are too many of them,
// and says All once the sets are too large.
func (k *TouchTracker) cap() {
	if len(k.members)+len(k.partners) <= maxNoted {
		return
	}
	k.t.fold(k.members, k.partners, 0, 0)
	clear(k.members)
	clear(k.partners)
	k.members, k.partners = k.members[:0], k.partners[:0]
	if len(k.t.Members)+len(k.t.Partners) > maxTouched {
		k.all()
	}
}

// noteTouched tells the trackers what a job is about to change. It runs
// in apply, holding s.mu, before the engine applies the job: a correction
// or a retraction touches the subjects its event counted for before, a
// member's new record the partners it counted for, a partner's new version
// the members of its events.
func (s *Service) noteTouched(j *applyJob) {
	if len(s.trackers) == 0 {
		return
	}
	live := s.trackers[:0]
	var ks []*TouchTracker
	for _, w := range s.trackers {
		if k := w.Value(); k != nil {
			live = append(live, w)
			ks = append(ks, k)
		}
	}
	clear(s.trackers[len(live):])
	s.trackers = live
	if len(ks) == 0 {
		return
	}
	b, e := j.batch, s.eng
	for _, k := range ks {
		k.mu.Lock()
	}
	defer func() {
		for _, k := range ks {
			k.cap()
			k.mu.Unlock()
		}
	}()
	member := func(id string) {
		if id != "" {
			for _, k := range ks {
				if !k.t.All {
					k.member(id)
				}
			}
		}
	}
	lastPartner := "\x00"
	partner := func(id string) {
		if id == lastPartner {
			return // the same as the record before, as in most batches
		}
		lastPartner = id
		if id != "" {
			for _, k := range ks {
				if !k.t.All {
					k.partner(id)
				}
			}
		}
	}
	if len(j.compiled) > 0 {
		for _, k := range ks {
			k.all()
		}
		return
	}
	if b != nil {
		for _, pv := range b.Partners {
			partner(pv.Partner.ID)
			e.PartnerSubjects(pv.Partner.ID, member)
		}
		for _, m := range b.Members {
			member(m.ID)
			partner(m.Partner)
			for _, x := range m.Memberships {
				partner(x.Partner)
			}
			e.MemberSubjects(m.ID, partner)
		}
		for _, a := range b.Adjustments {
			partner(a.Partner)
			member(a.Member)
		}
	}
	record := func(rec *rung.Record) {
		partner(rec.Event.Partner)
		member(rec.Event.Member)
		if rec.Version > 1 {
			e.EventSubjects(rec.Event.ID, func(p, m string) { partner(p); member(m) })
		}
	}
	for _, rec := range j.followed {
		record(rec)
	}
	for _, r := range j.group {
		for _, rec := range r.batch.records {
			record(rec)
		}
	}
}
