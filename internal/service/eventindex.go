package service

import (
	"hash/maphash"
	"math/bits"
)

// eventIndex is the writer's index of events by id: for every event, its
// newest record's seq, version and retraction (indexedEvent). It holds as
// many entries as the log has events (millions), is filled once at every
// start while the log is replayed, and is read for every event sent.
//
// A Go map of it cost a start a tenth of its CPU (~0.4 µs an event: the
// map's groups are 40-byte slots far larger than the caches, cleared,
// grown and split as it fills). Here entries are appended to blocks in the
// order they come, and the index by id is an open-addressing table of
// 8-byte slots (a 32-bit hash of the id and the entry's number), so that
// adding an event touches one random slot and the end of the last block.
// Entries are never removed; a pointer to one stays valid.
//
// The table doubles when it is 3/4 full, a little at a time as a Go map
// does: copying millions of slots at once would hold the writer, and every
// event sent, for tens of milliseconds or more. Until the old table's
// slots are all copied, a lookup that misses in the new one tries the old.
// The zero eventIndex is empty and ready to use.
type eventIndex struct {
	slots  []eventSlot // len a power of two, at most 3/4 full
	old    []eventSlot // while growing: the table before, copied from moved on
	moved  int
	blocks [][]eventEntry
	n      uint32 // entries
}

// eventSlot is an empty slot when ref is 0, else entry ref-1, whose id
// hashes to idHash.
type eventSlot struct{ idHash, ref uint32 }

type eventEntry struct {
	id string
	ev indexedEvent
}

const (
	eventIndexBlockBits = 10
	eventIndexBlock     = 1 << eventIndexBlockBits

	// maxPresizedIndex bounds the room an index is made with: a count of
	// records (more than the events) is what callers know.
	maxPresizedIndex = 1 << 26

	// growStep is how many of the old table's slots each set copies while
	// the index grows: the copy ends long before the new table fills.
	growStep = 16
)

var eventIndexSeed = maphash.MakeSeed()

// newEventIndex returns an empty index with room for about n events
// before it grows (at most maxPresizedIndex).
func newEventIndex(n int) *eventIndex {
	return &eventIndex{slots: make([]eventSlot, slotsFor(min(n, maxPresizedIndex)))}
}

// slotsFor is the smallest table that holds n entries at most 3/4 full.
func slotsFor(n int) int {
	need := max(1, (uint(n)*4+2)/3) // n*4/3, rounded up
	return max(16, 1<<bits.Len(need-1))
}

// len returns how many events the index holds.
func (x *eventIndex) len() int { return int(x.n) }

func (x *eventIndex) entry(ref uint32) *eventEntry {
	i := ref - 1
	return &x.blocks[i>>eventIndexBlockBits][i&(eventIndexBlock-1)]
}

// find returns the entry of the event with the id, or nil. The pointer
// stays valid: the caller may change the entry through it.
func (x *eventIndex) find(id string) *indexedEvent {
	h := uint32(maphash.String(eventIndexSeed, id))
	if e := x.lookup(x.slots, h, id); e != nil {
		return e
	}
	return x.lookup(x.old, h, id)
}

// lookup finds the id, whose hash is h, in one table.
func (x *eventIndex) lookup(slots []eventSlot, h uint32, id string) *indexedEvent {
	if len(slots) == 0 {
		return nil
	}
	mask := uint32(len(slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := slots[i]
		if s.ref == 0 {
			return nil
		}
		if s.idHash == h {
			if e := x.entry(s.ref); e.id == id {
				return &e.ev
			}
		}
	}
}

// get returns the event with the id and whether there is one.
func (x *eventIndex) get(id string) (indexedEvent, bool) {
	if e := x.find(id); e != nil {
		return *e, true
	}
	return indexedEvent{}, false
}

// set makes ev the id's entry, adding one if there is none. The index
// keeps id, which must not change.
func (x *eventIndex) set(id string, ev indexedEvent) {
	if x.old != nil {
		x.copyOld(growStep)
	}
	h := uint32(maphash.String(eventIndexSeed, id))
	if e := x.lookup(x.slots, h, id); e != nil {
		*e = ev
		return
	}
	if e := x.lookup(x.old, h, id); e != nil {
		*e = ev
		return
	}
	if x.n == 1<<32-1 {
		panic("service: more than 4,294,967,294 events in the writer's index")
	}
	j := x.n & (eventIndexBlock - 1)
	if j == 0 {
		x.blocks = append(x.blocks, make([]eventEntry, eventIndexBlock))
	}
	x.blocks[len(x.blocks)-1][j] = eventEntry{id, ev}
	x.n++
	if uint64(x.n)*4 > uint64(len(x.slots))*3 {
		x.grow()
	}
	place(x.slots, eventSlot{h, x.n})
}

// place puts s in the first free slot from its hash's.
func place(slots []eventSlot, s eventSlot) {
	mask := uint32(len(slots) - 1)
	i := s.idHash & mask
	for slots[i].ref != 0 {
		i = (i + 1) & mask
	}
	slots[i] = s
}

// grow starts moving to a table twice as large, finishing any move still
// under way first (it cannot be: a move ends after len(old)/growStep sets,
// and the next starts a quarter of the table's slots later).
func (x *eventIndex) grow() {
	x.copyOld(len(x.old))
	if len(x.slots) == 0 {
		x.slots = make([]eventSlot, 16)
		return
	}
	x.old, x.moved = x.slots, 0
	x.slots = make([]eventSlot, 2*len(x.old))
}

// copyOld copies up to n more slots of the old table into the new one,
// and drops the old table once every slot is copied. Slots keep their
// hash, so no id is read again.
func (x *eventIndex) copyOld(n int) {
	end := min(x.moved+n, len(x.old))
	for _, s := range x.old[x.moved:end] {
		if s.ref != 0 {
			place(x.slots, s)
		}
	}
	x.moved = end
	if x.moved == len(x.old) {
		x.old, x.moved = nil, 0
	}
}

// each calls fn for every event, in the order they were added.
func (x *eventIndex) each(fn func(id string, ev indexedEvent)) {
	for i := uint32(1); i <= x.n; i++ {
		e := x.entry(i)
		fn(e.id, e.ev)
	}
}
