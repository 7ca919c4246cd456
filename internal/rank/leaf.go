package rank

// A leaf keeps its entries in order in two columns: sort keys and handles.
// Finding a handle scans 4 bytes an entry, and a search reads only keys.
type leaf struct {
	k          []key    // sort keys; len(k) is the number of entries
	id         []uint32 // handles, same length as k
	parent     *inner
	pidx       int // index in parent
	prev, next *leaf
}

// key is the part of an entry that is not its handle.
type key struct {
	s  uint64 // the value, encoded (see encode)
	at int64
}

// leafBlock holds a full-size leaf and its columns in one allocation, so
// that the columns sit next to the leaf in memory.
type leafBlock struct {
	leaf
	id [leafCap]uint32
	k  [leafCap]key
}

// newLeaf returns an empty leaf with room for capacity entries. A small
// leaf, the lone leaf of a small index, grows its columns as needed.
func newLeaf(capacity int) *leaf {
	if capacity < leafCap {
		return &leaf{k: make([]key, 0, capacity), id: make([]uint32, 0, capacity)}
	}
	b := new(leafBlock)
	b.leaf.k, b.leaf.id = b.k[:0], b.id[:0]
	return &b.leaf
}

func (l *leaf) size() int { return len(l.k) }

func (l *leaf) item(i int) item { return item{s: l.k[i].s, at: l.k[i].at, id: l.id[i]} }

// find returns the index of handle id in l, or -1.
func (l *leaf) find(id uint32) int {
	for i, v := range l.id {
		if v == id {
			return i
		}
	}
	return -1
}

// insert puts it at index j.
func (l *leaf) insert(j int, it item) {
	n := len(l.k)
	l.k = append(l.k, key{})
	l.id = append(l.id, 0)
	copy(l.k[j+1:], l.k[j:n])
	copy(l.id[j+1:], l.id[j:n])
	l.k[j], l.id[j] = key{it.s, it.at}, it.id
}

// move takes out the entry at index i and puts it at index j of what
// remains, shifting only the entries between.
func (l *leaf) move(i, j int, it item) {
	switch {
	case j < i:
		copy(l.k[j+1:i+1], l.k[j:i])
		copy(l.id[j+1:i+1], l.id[j:i])
	case j > i:
		copy(l.k[i:j], l.k[i+1:j+1])
		copy(l.id[i:j], l.id[i+1:j+1])
	}
	l.k[j], l.id[j] = key{it.s, it.at}, it.id
}

// remove takes out the entry at index i.
func (l *leaf) remove(i int) {
	copy(l.k[i:], l.k[i+1:])
	copy(l.id[i:], l.id[i+1:])
	l.truncate(len(l.k) - 1)
}

// truncate keeps the first n entries.
func (l *leaf) truncate(n int) {
	l.k, l.id = l.k[:n], l.id[:n]
}

// removeFront takes out the first m entries.
func (l *leaf) removeFront(m int) {
	n := copy(l.k, l.k[m:])
	copy(l.id, l.id[m:])
	l.truncate(n)
}

// appendFrom appends entries from..to-1 of src.
func (l *leaf) appendFrom(src *leaf, from, to int) {
	l.k = append(l.k, src.k[from:to]...)
	l.id = append(l.id, src.id[from:to]...)
}

// prependFrom puts entries from..to-1 of src before l's entries.
func (l *leaf) prependFrom(src *leaf, from, to int) {
	n, m := len(l.k), to-from
	l.appendFrom(src, from, to) // grow by m
	copy(l.k[m:], l.k[:n])
	copy(l.id[m:], l.id[:n])
	copy(l.k[:m], src.k[from:to])
	copy(l.id[:m], src.id[from:to])
}
