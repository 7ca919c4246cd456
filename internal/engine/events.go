package engine

import "hash/maphash"

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
}

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

func idHash(id string) uint32 { return uint32(maphash.String(idSeed, id)) }

// len returns how many events the table holds.
func (t *eventTable) len() int { return int(t.n) }

// at returns the event with handle h (1 ≤ h ≤ len).
func (t *eventTable) at(h uint32) *eventState {
	i := h - 1
	return &t.blocks[i>>eventBlockBits][i&(eventBlock-1)]
}

// get returns the event with the id, or nil.
func (t *eventTable) get(id string) *eventState {
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
	ev := t.push(id)
	if uint64(t.n)*4 > uint64(len(t.slots))*3 {
		t.grow(int(t.n))
	}
	t.insert(idHash(id), t.n)
	return ev
}

// getOrAdd returns the event with the id, adding a new zeroed one (with
// its next handle) when there is none; added says which. It hashes the id
// once and probes the index once, where get then add did both twice: a
// replay adds nearly every event it meets.
func (t *eventTable) getOrAdd(id string) (ev *eventState, added bool) {
	if uint64(t.n+1)*4 > uint64(len(t.slots))*3 {
		t.grow(int(t.n) + 1)
	}
	hash := idHash(id)
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
	return ev, true
}

// push gives the next handle to a new zeroed event with the id, without
// indexing it.
func (t *eventTable) push(id string) *eventState {
	if t.n%eventBlock == 0 {
		t.blocks = append(t.blocks, make([]eventState, eventBlock))
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
