package engine

import (
	"fmt"
	"hash/maphash"
)

// eventTable holds every event's state, by handle and by id. The states
// sit in blocks, so a handle (1, 2, … in arrival order, never reused) finds
// its event without a pointer of its own; the index by id is an
// open-addressing table of 8-byte slots (a 32-bit hash of the id and the
// handle) that holds no pointers for the collector to scan and costs
// 11–21 bytes an event, where a map from id to pointer cost about 35.
// Events are never removed.
type eventTable struct {
	blocks [][]eventState
	n      uint32 // handles given out
	slots  []eventSlot
	// load is set during a bulk load (beginLoad): events surely new are
	// added without probing the index, which is brought up to date in
	// batches.
	load *eventLoad
}

// eventLoad lets a bulk load add events without probing the index for
// each. The index is a table far larger than the caches and an id's slot
// is random, so each probe waits for memory (a fifth of a replay's CPU);
// a Bloom filter of every id in the table, a few bytes an id, stays in
// cache and tells most new ids from known ones. Ids it cannot tell make
// the table index the events added since (in one tight loop, whose
// misses overlap) and probe as usual, so a lookup answers as without it.
//
// A replay of the log needs not even the filter: the log numbers an
// event's records from 1, so a record of version 1 is the first of its
// event (addFirst). Once one is met the filter is dropped, since it would
// no longer hold every id; other records probe the index.
type eventLoad struct {
	filter  []uint64 // blocked Bloom filter: two bits in one word per id; nil once addFirst was used
	keys    int      // how many ids it can hold before it says "maybe" too often
	pending []uint32 // idHash of the events after the indexed ones, in handle order
	// ahead makes the next blocks of event states (a load fills one
	// every 1,024 events) on another goroutine.
	ahead ahead[eventState]
}

// newBlock returns a new block of zeroed event states: one made ahead
// when there is one ready.
func (t *eventTable) newBlock() []eventState {
	if t.load != nil {
		return t.load.ahead.block(eventBlock)
	}
	return make([]eventState, eventBlock)
}

// loadBitsPerID sizes the filter: with two bits of a 64-bit word per id,
// 16 bits an id answer "maybe" for about 2 % of new ids.
const loadBitsPerID = 16

// eventSlot is one slot of the index: h is 0 when the slot is free.
type eventSlot struct {
	hash uint32
	h    uint32
}

const (
	eventBlockBits = 10
	eventBlock     = 1 << eventBlockBits
)

// idSeed is random per process: the index lives in memory only.
var idSeed = maphash.MakeSeed()

func idHash(id string) uint32 { return uint32(idHash64(id)) }

// idHash64 is the id's full hash: its low half is idHash, its high half
// places the id in the bulk load's filter.
func idHash64(id string) uint64 { return maphash.String(idSeed, id) }

// len returns how many events the table holds.
func (t *eventTable) len() int { return int(t.n) }

// at returns the event with handle h (1 ≤ h ≤ len).
func (t *eventTable) at(h uint32) *eventState {
	i := h - 1
	return &t.blocks[i>>eventBlockBits][i&(eventBlock-1)]
}

// get returns the event with the id, or nil.
func (t *eventTable) get(id string) *eventState {
	t.catchUp()
	if len(t.slots) == 0 {
		return nil
	}
	hash := idHash(id)
	mask := uint32(len(t.slots) - 1)
	for i := hash & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s.h == 0 {
			return nil
		}
		if s.hash == hash {
			if ev := t.at(s.h); ev.id == id {
				return ev
			}
		}
	}
}

// add returns a new zeroed event with the id, which must not be in the
// table, and its next handle.
func (t *eventTable) add(id string) *eventState {
	t.catchUp()
	ev := t.push(id)
	h64 := idHash64(id)
	t.remember(h64)
	if uint64(t.n)*4 > uint64(len(t.slots))*3 {
		t.grow(int(t.n))
	}
	t.insert(uint32(h64), t.n)
	return ev
}

// getOrAdd returns the event with the id, adding a new zeroed one (with
// its next handle) when there is none; added says which. It hashes the id
// once and probes the index once, where get then add did both twice: a
// replay adds nearly every event it meets.
func (t *eventTable) getOrAdd(id string) (ev *eventState, added bool) {
	h64 := idHash64(id)
	hash := uint32(h64)
	if l := t.load; l != nil && l.filter != nil && !l.mayHold(h64) {
		if int(t.n) < l.keys {
			l.set(h64)
			l.pending = append(l.pending, hash)
			return t.push(id), true
		}
		t.endLoad() // more ids than the filter was sized for
	}
	t.catchUp()
	if uint64(t.n+1)*4 > uint64(len(t.slots))*3 {
		t.grow(int(t.n) + 1)
	}
	mask := uint32(len(t.slots) - 1)
	i := hash & mask
	for ; t.slots[i].h != 0; i = (i + 1) & mask {
		if s := t.slots[i]; s.hash == hash {
			if ev := t.at(s.h); ev.id == id {
				return ev, false
			}
		}
	}
	ev = t.push(id)
	t.slots[i] = eventSlot{hash: hash, h: ev.h}
	t.remember(h64)
	return ev, true
}

// addFirst adds, during a bulk load, an event the caller knows to be new:
// the record of version 1 of its event. It touches neither the index nor
// the filter (an id's place in either is random, and each costs a wait for
// memory); the index takes it in a batch. An id that was in the table
// already is a log that numbers two records of one event 1, and panics
// when it is indexed.
func (t *eventTable) addFirst(id string) *eventState {
	l := t.load
	l.filter = nil
	l.pending = append(l.pending, idHash(id))
	return t.push(id)
}

// beginLoad readies the table for a bulk load of about records new
// events: until endLoad, ids the filter knows to be new skip the index.
func (t *eventTable) beginLoad(records int) {
	t.endLoad()
	keys := records + int(t.n)
	if records <= 0 || keys > 1<<30 {
		return
	}
	words := 1
	for words*64 < keys*loadBitsPerID {
		words *= 2
	}
	// A replay adds nearly every record's event before it looks one up:
	// pending holds them all until then.
	t.load = &eventLoad{filter: make([]uint64, words), keys: keys, pending: make([]uint32, 0, records)}
	if records >= 4*eventBlock {
		t.load.ahead.start(eventBlock)
	}
	for h := uint32(1); h <= t.n; h++ {
		t.load.set(idHash64(t.at(h).id))
	}
}

// endLoad indexes what the bulk load added and drops the filter.
func (t *eventTable) endLoad() {
	t.catchUp()
	if t.load != nil {
		t.load.ahead.stop()
	}
	t.load = nil
}

// remember adds an id's hash to the bulk load's filter, if any.
func (t *eventTable) remember(h64 uint64) {
	if t.load != nil && t.load.filter != nil {
		t.load.set(h64)
	}
}

// catchUp indexes the events added without probing.
func (t *eventTable) catchUp() {
	l := t.load
	if l == nil || len(l.pending) == 0 {
		return
	}
	if uint64(t.n)*4 > uint64(len(t.slots))*3 {
		t.grow(int(t.n))
	}
	h := t.n - uint32(len(l.pending))
	for _, hash := range l.pending {
		h++
		t.insertNew(hash, h)
	}
	l.pending = l.pending[:0]
}

// filterBits returns the word of the filter an id's hash falls in and its
// two bits there, from the high half of the hash (the low half places it
// in the index).
func (l *eventLoad) filterBits(h64 uint64) (*uint64, uint64) {
	w := &l.filter[(h64>>32)&uint64(len(l.filter)-1)]
	return w, 1<<(h64>>58) | 1<<((h64>>52)&63)
}

// mayHold reports whether an id with the hash may be in the table; false
// means surely not.
func (l *eventLoad) mayHold(h64 uint64) bool {
	w, bits := l.filterBits(h64)
	return *w&bits == bits
}

func (l *eventLoad) set(h64 uint64) {
	w, bits := l.filterBits(h64)
	*w |= bits
}

// push gives the next handle to a new zeroed event with the id, without
// indexing it.
func (t *eventTable) push(id string) *eventState {
	if t.n%eventBlock == 0 {
		t.blocks = append(t.blocks, t.newBlock())
	}
	t.n++
	ev := t.at(t.n)
	ev.id = id
	ev.h = t.n
	return ev
}

func (t *eventTable) insert(hash, h uint32) {
	mask := uint32(len(t.slots) - 1)
	i := hash & mask
	for t.slots[i].h != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = eventSlot{hash: hash, h: h}
}

// insertNew is insert for an event added without probing the index: it
// checks that no other event has its id.
func (t *eventTable) insertNew(hash, h uint32) {
	mask := uint32(len(t.slots) - 1)
	i := hash & mask
	for s := t.slots[i]; s.h != 0; s = t.slots[i] {
		if s.hash == hash && t.at(s.h).id == t.at(h).id {
			panic(fmt.Sprintf("engine: event %q has two records of version 1 in the log", t.at(h).id))
		}
		i = (i + 1) & mask
	}
	t.slots[i] = eventSlot{hash: hash, h: h}
}

// grow makes room for n events at most three quarters full.
func (t *eventTable) grow(n int) {
	size := 16
	for size*3 < n*4 {
		size *= 2
	}
	if size <= len(t.slots) {
		return
	}
	old := t.slots
	t.slots = make([]eventSlot, size)
	for _, s := range old {
		if s.h != 0 {
			t.insert(s.hash, s.h)
		}
	}
}

// all yields every event in handle order.
func (t *eventTable) all(yield func(*eventState) bool) {
	for h := uint32(1); h <= t.n; h++ {
		if !yield(t.at(h)) {
			return
		}
	}
}
