package engine

import (
	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
)

// bodyChunk is the size of the blocks event bodies are kept in: one
// allocation, and nothing for the collector to scan, per few hundred
// events.
const bodyChunk = 64 << 10

// bodyStore keeps the events' bodies in the log's compact encoding, in
// byte blocks; an event refers to its body by block and offset (12 bytes,
// no pointer) rather than by a slice. A body replaced by a correction stays
// in its block, unused.
type bodyStore struct {
	blocks [][]byte // blocks[0] is never used: a zero bodyRef is no body
	cur    uint32   // the block being filled
	free   int      // its first free byte
	enc    []byte   // scratch for bodies the engine encodes itself
	// lentBlock is the last block a Subjects lent (ApplyResolved), and
	// lentN its number there.
	lentBlock, lentN uint32
}

// bodyRef is where an event's body is: blk 0 for none.
type bodyRef struct {
	blk, off, n uint32
}

// keep copies b into the blocks.
func (s *bodyStore) keep(b []byte) bodyRef {
	if len(s.blocks) == 0 {
		s.blocks = append(s.blocks, nil)
	}
	if len(b) > bodyChunk/4 {
		// A large body gets a block of its own; the current block
		// stays current.
		s.blocks = append(s.blocks, append([]byte(nil), b...))
		return bodyRef{blk: uint32(len(s.blocks) - 1), n: uint32(len(b))}
	}
	if s.cur == 0 || len(s.blocks[s.cur])-s.free < len(b) {
		s.blocks = append(s.blocks, make([]byte, bodyChunk))
		s.cur = uint32(len(s.blocks) - 1)
		s.free = 0
	}
	copy(s.blocks[s.cur][s.free:], b)
	r := bodyRef{blk: s.cur, off: uint32(s.free), n: uint32(len(b))}
	s.free += len(b)
	return r
}

// get returns the body r refers to, nil for none. It must not be written.
func (s *bodyStore) get(r bodyRef) []byte {
	if r.blk == 0 {
		return nil
	}
	return s.blocks[r.blk][r.off : r.off+r.n : r.off+r.n]
}

// keepBody keeps a record's body in the engine's body blocks: the log's
// encoding when the record carries it, encoded here otherwise.
func (e *Engine) keepBody(rec *rung.Record) bodyRef {
	if rec.Raw != nil {
		return e.bodies.keep(rec.Raw)
	}
	b, err := codec.EncodeRecord(e.bodies.enc[:0], &rung.Record{Event: rec.Event})
	if err != nil {
		// The store refuses what the codec cannot encode, so an event
		// that got here encodes; keep nothing rather than something
		// wrong.
		return bodyRef{}
	}
	e.bodies.enc = b
	return e.bodies.keep(b)
}

// eventOf decodes the event's current version.
func (e *Engine) eventOf(ev *eventState) *rung.Event {
	var r rung.Record
	if b := e.bodies.get(ev.body); b != nil {
		codec.DecodeRecord(b, &r)
	}
	r.Event.ID = ev.id
	return &r.Event
}
