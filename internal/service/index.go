package service

import (
	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/store"
)

// index is what the writer needs to validate and classify changes: which
// events, partners and members exist, as committed. It is owned by the
// writer goroutine and updated right after each commit, before the engine
// applies the commit, so the writer can prepare and commit the next group
// while the engine is still applying the last one.
type index struct {
	events      *eventIndex
	partners    map[string]rung.PartnerVersion // newest version
	members     map[string]rung.Member
	adjustments map[string]bool // ids of the adjustments applied
	lastProgram int
	prog        *program.Program

	// What other instances wrote is read from here on (see follow.go):
	// the event log after seenSeq, except the ranges this instance
	// committed itself (own, in order), and the change feed after
	// seenChange.
	seenSeq    int64
	own        []seqRange
	seenChange int64
}

// seqRange is the seqs of one commit of this instance's.
type seqRange struct{ first, last int64 }

type indexedEvent struct {
	// hash of the newest version's content; 0 until needed (after a
	// restart it is computed from the stored record when the id is sent
	// again)
	hash      uint64
	seq       int64 // the newest record of the event
	version   int32
	retracted bool
}

// newIndex builds the index from a loaded engine and what load read.
func newIndex(e *engine.Engine, l loaded) *index {
	np, nm, nev := e.Counts()
	x := &index{events: l.events, partners: make(map[string]rung.PartnerVersion, np),
		members: make(map[string]rung.Member, nm), adjustments: map[string]bool{}}
	if x.events == nil {
		x.events = newEventIndex(nev)
		e.EachEvent(func(id string, seq int64, version int, retracted bool) {
			x.events.set(id, indexedEvent{seq: seq, version: int32(version), retracted: retracted})
		})
	}
	// The ids are the engine's keys, also in the values (prepareEvents).
	for _, id := range e.PartnerIDs() {
		vs := e.PartnerVersions(id)
		pv := vs[len(vs)-1]
		pv.Partner.ID = id
		x.partners[id] = pv
	}
	for _, id := range e.MemberIDs("") {
		m, _ := e.Member(id)
		m.ID = id
		x.members[id] = m
	}
	if vs := e.Versions(); len(vs) > 0 {
		x.lastProgram = vs[len(vs)-1].N
		x.prog = vs[len(vs)-1].Program
	}
	x.adjustments = l.adjustments
	x.seenSeq, x.seenChange = l.seq, l.change
	return x
}

// merge records what a committed group added.
func (x *index) merge(pd *pending, b *store.Batch) {
	recs := b.Records
	if n := len(recs); n > 0 {
		first, last := recs[0].Seq, recs[n-1].Seq
		if first == x.seenSeq+1 && len(x.own) == 0 {
			x.seenSeq = last
		} else {
			x.own = append(x.own, seqRange{first, last})
		}
	}
	for _, a := range b.Adjustments {
		x.adjustments[a.ID] = true
	}
	for _, r := range recs {
		p := pd.events[r.Event.ID]
		x.events.set(r.Event.ID, indexedEvent{hash: p.hash, seq: r.Seq, version: int32(r.Version), retracted: r.Retracted})
	}
	for id, pv := range pd.partners {
		x.partners[id] = pv
	}
	for id, m := range pd.members {
		x.members[id] = m
	}
	if n := len(pd.compiled); n > 0 {
		x.lastProgram = pd.compiled[n-1].N
		x.prog = pd.compiled[n-1].Program
	}
}
