package engine

import "github.com/rung-dev/rung"

// Subjects finds records' partners and members by id for ApplyResolved, on
// a goroutine other than the one applying: a replay that reads and decodes
// the log on one core and applies on another moves the lookups (a wait for
// memory each, at millions of records) off the applying core. It holds a
// copy of the engine's subjects as they stand when it is made, so it never
// reads the engine and is safe to use while the engine applies; it is not
// safe for concurrent use by several goroutines.
//
// It also copies the records' bodies into blocks of its own, which the
// engines then keep instead of copying the bodies themselves: the copy,
// and the fresh memory it fills, leave the applying core too.
type Subjects struct {
	partners map[string]uint32 // handle + 1
	members  map[string]uint32 // handle + 1
	ids      []string          // every subject's id: partners by handle, then members
	np       int               // how many of ids are partners

	block []byte // the body block being filled; bytes before free are never written again
	free  int
	n     uint32 // blocks made
}

// Subject is a record's partner, member and body as Subjects found them.
type Subject struct {
	p, m uint32 // handle + 1; 0 for none (unknown)
	// block is the body block the record's body is in (nil: the engine
	// copies the record's Raw itself), blockN its number in the Subjects
	// that made it, and body where the body is in it.
	block  []byte
	blockN uint32
	body   bodyRef
}

// Subjects returns the engine's partners and members as they stand now.
// Records resolved with it may be applied with ApplyResolved as long as no
// partner or member is added to the engine.
func (e *Engine) Subjects() *Subjects {
	s := &Subjects{
		partners: make(map[string]uint32, len(e.partnerByHandle)),
		members:  make(map[string]uint32, len(e.memberByHandle)),
		ids:      make([]string, 0, len(e.partnerByHandle)+len(e.memberByHandle)),
		np:       len(e.partnerByHandle),
	}
	for _, p := range e.partnerByHandle {
		s.partners[p.id] = p.handle + 1
		s.ids = append(s.ids, p.id)
	}
	for _, m := range e.memberByHandle {
		s.members[m.m.ID] = m.handle + 1
		s.ids = append(s.ids, m.m.ID)
	}
	return s
}

// Fits reports whether s resolves subjects for e too: e holds the same
// partners and members under the same handles (engines given the same
// subjects in the same order do).
func (s *Subjects) Fits(e *Engine) bool {
	if len(e.partnerByHandle) != s.np || len(e.memberByHandle) != len(s.ids)-s.np {
		return false
	}
	for i, p := range e.partnerByHandle {
		if p.id != s.ids[i] {
			return false
		}
	}
	for i, m := range e.memberByHandle {
		if m.m.ID != s.ids[s.np+i] {
			return false
		}
	}
	return true
}

// Resolve finds the record's partner and member, and copies its body
// (Raw) into the blocks.
func (s *Subjects) Resolve(rec *rung.Record) Subject {
	var r Subject
	ev := &rec.Event
	r.p = s.partners[ev.Partner]
	if ev.Member != "" {
		r.m = s.members[ev.Member]
	}
	if rec.Retracted || rec.Raw == nil || len(rec.Raw) > bodyChunk/4 {
		return r
	}
	if s.block == nil || len(s.block)-s.free < len(rec.Raw) {
		s.block = make([]byte, bodyChunk)
		s.free = 0
		s.n++
	}
	copy(s.block[s.free:], rec.Raw)
	r.block, r.blockN = s.block, s.n
	r.body = bodyRef{off: uint32(s.free), n: uint32(len(rec.Raw))}
	s.free += len(rec.Raw)
	return r
}

// Body returns the copy of the record's body Resolve made, or nil when it
// made none (a retraction, a record without Raw or a very large body). The
// copy is never written again: decoded with codec.DecodeRecordKept, the
// record's strings may point into it.
func (r Subject) Body() []byte {
	if r.block == nil {
		return nil
	}
	end := r.body.off + r.body.n
	return r.block[r.body.off:end:end]
}

// ApplyResolved is Apply for a record whose subjects r found, with
// Subjects made from this engine (or one that Fits it) since which no
// partner or member was added. It does what Apply does. The engine keeps
// the body blocks of s from then on (they are never written where a body
// was copied), and is not to be dumped while s copies bodies into them.
func (e *Engine) ApplyResolved(rec *rung.Record, r Subject) []Note {
	return e.apply(rec, &r)
}

// ApplyLent is Apply for a record whose encoding (Raw) is at off in block,
// memory lent to the engine for good (store.StreamLent): the engine keeps
// block as one of its body blocks instead of copying the body, and the
// record's strings may point into it. n tells blocks apart: a record with
// the same n and block as the record before is kept in the same block. The
// block must never be written again.
func (e *Engine) ApplyLent(rec *rung.Record, block []byte, n, off uint32) []Note {
	r := Subject{block: block, blockN: n, body: bodyRef{off: off, n: uint32(len(rec.Raw))}}
	if p := e.partners[rec.Event.Partner]; p != nil {
		r.p = p.handle + 1
	}
	if rec.Event.Member != "" {
		if m := e.members[rec.Event.Member]; m != nil {
			r.m = m.handle + 1
		}
	}
	if len(rec.Raw) == 0 {
		r.block = nil // nothing to keep: Apply's own way
	}
	return e.apply(rec, &r)
}

// lent returns where the body r's Subjects copied is in the engine's
// blocks: the block is added to them the first time one of its bodies is
// kept.
func (s *bodyStore) lent(r *Subject) bodyRef {
	if s.lentBlock == 0 || s.lentN != r.blockN || &s.blocks[s.lentBlock][0] != &r.block[0] {
		if len(s.blocks) == 0 {
			s.blocks = append(s.blocks, nil)
		}
		s.blocks = append(s.blocks, r.block)
		s.lentBlock, s.lentN = uint32(len(s.blocks)-1), r.blockN
	}
	ref := r.body
	ref.blk = s.lentBlock
	return ref
}
