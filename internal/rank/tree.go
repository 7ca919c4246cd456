package rank

// The index is a B+tree. Leaves hold entries in order and are linked in a
// list; inner nodes hold, for each child, the number of entries below it and
// its smallest entry. Counts give positions in O(height); smallest entries
// guide inserts and rank queries down from the root. Full-size leaves hold
// 64 entries and inner nodes 64 children, so a million entries make a tree
// of height 4 whose inner nodes (about 1.5 MB) mostly stay in cache.
//
// Invariants (checked by the tests):
//   - every leaf but a lone root holds 1..leafMax entries, in board order
//     with no two equal, and the leaf list visits all entries in order;
//   - every inner node holds 2..innerMax children, all leaves are at the
//     same depth, and each child knows its parent and its index there;
//   - counts[j] is the number of entries under child j, keys[j] is its
//     smallest entry, and the index's n is the total;
//   - once tracked, owner maps every handle in the index to its leaf.

const (
	leafCap  = 64 // most entries in a leaf
	innerCap = 64 // most children of an inner node
)

type inner struct {
	parent   *inner
	pidx     int // index in parent
	n        int // number of children
	leafKids bool
	keys     [innerCap]item  // smallest entry under each child
	counts   [innerCap]int32 // number of entries under each child
	leaves   [innerCap]*leaf // children when leafKids
	inners   [innerCap]*inner
}

// owners maps handles to leaves, in pages allocated on first use so that a
// small index with large handles stays small.
type owners struct {
	pages []*[pageSize]*leaf
}

const (
	pageBits = 8
	pageSize = 1 << pageBits
)

func (o *owners) get(id uint32) *leaf {
	p := int(id >> pageBits)
	if p >= len(o.pages) || o.pages[p] == nil {
		return nil
	}
	return o.pages[p][id&(pageSize-1)]
}

func (o *owners) set(id uint32, l *leaf) {
	p := int(id >> pageBits)
	if p >= len(o.pages) {
		if l == nil {
			return
		}
		o.pages = append(o.pages, make([]*[pageSize]*leaf, p+1-len(o.pages))...)
	}
	if o.pages[p] == nil {
		if l == nil {
			return
		}
		o.pages[p] = new([pageSize]*leaf)
	}
	o.pages[p][id&(pageSize-1)] = l
}

// own records l as the leaf of entries from..to-1 of l.
func (x *Index) own(l *leaf, from, to int) {
	if x.tracked {
		for _, id := range l.id[from:to] {
			x.owner.set(id, l)
		}
	}
}

// locate returns the leaf holding id and its index there, or nil.
func (x *Index) locate(id uint32) (*leaf, int) {
	l := x.single
	if x.tracked {
		l = x.owner.get(id)
	}
	if l == nil {
		return nil, -1
	}
	if i := l.find(id); i >= 0 {
		return l, i
	}
	return nil, -1
}

// cmpTail orders an entry's (at, id) against k's, for entries whose encoded
// values are equal.
func (x *Index) cmpTail(at int64, id uint32, k *item) int {
	switch {
	case at != k.at:
		if at < k.at {
			return -1
		}
		return 1
	case id == k.id:
		return 0
	}
	if x.cmpID != nil {
		if c := x.cmpID(id, k.id); c != 0 {
			return c
		}
	}
	if id < k.id {
		return -1
	}
	return 1
}

// cmpEntry orders entry i of l against k.
func (x *Index) cmpEntry(l *leaf, i int, k *item) int {
	if s := l.k[i].s; s != k.s {
		if s < k.s {
			return -1
		}
		return 1
	}
	return x.cmpTail(l.k[i].at, l.id[i], k)
}

// searchLeaf returns the index of the first entry of l greater than k.
func (x *Index) searchLeaf(l *leaf, k *item) int {
	ks := l.k
	lo, hi := 0, len(ks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ks[m].s < k.s || ks[m].s == k.s && x.cmpTail(ks[m].at, l.id[m], k) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// searchInner returns the child of p whose range holds k: the last child
// whose smallest item is not greater than k, or the first child.
func (x *Index) searchInner(p *inner, k *item) int {
	lo, hi := 1, p.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ks := p.keys[m].s; ks < k.s || ks == k.s && x.cmpTail(p.keys[m].at, p.keys[m].id, k) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// leafFor returns the leaf where k belongs, searching from the root.
func (x *Index) leafFor(k *item) *leaf {
	if x.root == nil {
		if x.single == nil {
			x.single = newLeaf(4)
		}
		return x.single
	}
	p := x.root
	for {
		j := x.searchInner(p, k)
		if p.leafKids {
			return p.leaves[j]
		}
		p = p.inners[j]
	}
}

// fits reports whether k may go at index j of l, when l holds n entries
// besides k, without breaking the order with the neighbouring leaves.
func (x *Index) fits(l *leaf, j, n int, k *item) bool {
	return !x.beforePrev(l, j, k) && !x.afterNext(l, j, n, k)
}

// beforePrev reports whether k, bound for index j of l, sorts before the
// last entry of the previous leaf.
func (x *Index) beforePrev(l *leaf, j int, k *item) bool {
	return j == 0 && l.prev != nil && x.cmpEntry(l.prev, l.prev.size()-1, k) > 0
}

// afterNext reports whether k, bound for index j of l with n entries,
// sorts after the first entry of the next leaf.
func (x *Index) afterNext(l *leaf, j, n int, k *item) bool {
	return j == n && l.next != nil && x.cmpEntry(l.next, 0, k) < 0
}

// nearWalk is how many leaves Set walks from an entry's old leaf to find its
// new one before it searches from the root instead.
const nearWalk = 3

// leafNear returns the leaf where k belongs, given that it does not fit at
// index j of l: usually a near neighbour of l, as when a value grows a
// little. Walking left, k belongs to the first leaf whose first entry is
// below k; walking right, to the first whose last entry is above k.
func (x *Index) leafNear(l *leaf, j int, k *item) *leaf {
	if x.beforePrev(l, j, k) {
		t := l.prev
		for range nearWalk {
			if t.prev == nil || x.cmpEntry(t, 0, k) < 0 {
				return t
			}
			t = t.prev
		}
	} else {
		t := l.next
		for range nearWalk {
			if t.next == nil || x.cmpEntry(t, t.size()-1, k) > 0 {
				return t
			}
			t = t.next
		}
	}
	return x.leafFor(k)
}

// fixMin records l's smallest entry in its ancestors after it changed.
func fixMin(l *leaf) {
	if l.size() == 0 {
		return
	}
	k := l.item(0)
	for p, j := l.parent, l.pidx; p != nil; j, p = p.pidx, p.parent {
		p.keys[j] = k
		if j != 0 {
			return
		}
	}
}

// position returns the place of entry i of l in the whole order.
func position(l *leaf, i int) int {
	pos := i
	for p, j := l.parent, l.pidx; p != nil; j, p = p.pidx, p.parent {
		for _, c := range p.counts[:j] {
			pos += int(c)
		}
	}
	return pos
}

// countAbove returns the number of entries whose encoded value is below s,
// that is whose value is greater.
func (x *Index) countAbove(s uint64) int {
	if x.root == nil {
		if x.single == nil {
			return 0
		}
		return countBelow(x.single.k, s)
	}
	n := 0
	p := x.root
	for {
		// j = the number of children whose smallest entry is below s;
		// all but the last of them lie wholly below s.
		lo, hi := 0, p.n
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if p.keys[m].s < s {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo == 0 {
			return n
		}
		for _, c := range p.counts[:lo-1] {
			n += int(c)
		}
		if p.leafKids {
			return n + countBelow(p.leaves[lo-1].k, s)
		}
		p = p.inners[lo-1]
	}
}

// countBelow returns the number of keys in the sorted ks whose encoded
// value is below s.
func countBelow(ks []key, s uint64) int {
	lo, hi := 0, len(ks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ks[m].s < s {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// leafAt returns the leaf holding position pos (0 <= pos < n) and the
// index there.
func (x *Index) leafAt(pos int) (*leaf, int) {
	if x.root == nil {
		return x.single, pos
	}
	p := x.root
	for {
		j := 0
		for ; j < p.n-1; j++ {
			c := int(p.counts[j])
			if pos < c {
				break
			}
			pos -= c
		}
		if p.leafKids {
			return p.leaves[j], pos
		}
		p = p.inners[j]
	}
}

// add puts k, whose handle is not in the tree, into l, where it belongs,
// and counts it in l's ancestors. The caller counts it in n.
func (x *Index) add(l *leaf, k item) {
	j := x.searchLeaf(l, &k)
	if l.size() >= x.leafMax {
		l, j = x.splitLeaf(l, j)
	}
	l.insert(j, k)
	if x.tracked {
		x.owner.set(k.id, l)
	}
	if j == 0 {
		fixMin(l)
	}
	for p, c := l.parent, l.pidx; p != nil; c, p = p.pidx, p.parent {
		p.counts[c]++
	}
}

// shrink uncounts an entry taken out of l in l's ancestors, then joins l
// with a sibling if it became too small.
func (x *Index) shrink(l *leaf) {
	for p, c := l.parent, l.pidx; p != nil; c, p = p.pidx, p.parent {
		p.counts[c]--
	}
	if l.parent != nil && l.size() < x.leafMin {
		x.joinLeaf(l)
	}
}

// splitLeaf moves the upper part of the full leaf l to a new leaf to its
// right, and returns the leaf and index where an entry bound for index j of
// l now goes.
func (x *Index) splitLeaf(l *leaf, j int) (*leaf, int) {
	n := l.size()
	mid := x.leafMax / 2
	switch {
	case j == n && l.next == nil:
		mid = n - 1 // appending at the end: keep l full
	case j == 0 && l.prev == nil:
		mid = 1 // prepending at the start: fill the new leaf
	}
	r := newLeaf(x.leafMax)
	r.appendFrom(l, mid, n)
	l.truncate(mid)
	r.prev, r.next = l, l.next
	if l.next != nil {
		l.next.prev = r
	}
	l.next = r

	p := l.parent
	if p == nil {
		p = &inner{leafKids: true, n: 1}
		p.keys[0] = l.item(0)
		p.counts[0] = int32(n)
		p.leaves[0] = l
		l.parent, l.pidx = p, 0
		x.root, x.single = p, nil
		if !x.tracked {
			x.tracked = true
			x.own(l, 0, mid)
		}
	}
	x.own(r, 0, r.size())
	cnt := int32(r.size())
	p.counts[l.pidx] -= cnt
	x.insertKid(p, l.pidx+1, r.item(0), cnt, r, nil)
	if j <= mid {
		return l, j
	}
	return r, j - mid
}

// insertKid puts a child (a leaf kl or an inner node ki) holding cnt
// entries at index at >= 1 of p, splitting p first when it is full. The
// caller has taken cnt off the count of the child's left neighbour.
func (x *Index) insertKid(p *inner, at int, key item, cnt int32, kl *leaf, ki *inner) {
	if p.n >= x.innerMax {
		p, at = x.splitInner(p, at, cnt)
	}
	moveKids(p, at+1, p, at, p.n-at)
	p.keys[at], p.counts[at], p.leaves[at], p.inners[at] = key, cnt, kl, ki
	p.n++
	p.adopt(at, p.n)
}

// splitInner moves the upper part of the full node p to a new node to its
// right, and returns the node and index where a child bound for index at of
// p now goes. That child will hold pending entries, which p's counts lack.
func (x *Index) splitInner(p *inner, at int, pending int32) (*inner, int) {
	mid := x.innerMax / 2
	switch {
	case at == p.n && rightmost(p):
		mid = p.n - 1
	case at == 1 && leftmost(p):
		mid = 1
	}
	q := &inner{leafKids: p.leafKids}
	m := p.n - mid
	moveKids(q, 0, p, mid, m)
	clear(p.leaves[mid:p.n])
	clear(p.inners[mid:p.n])
	q.n, p.n = m, mid
	q.adopt(0, m)
	var cnt int32 // entries under q once the pending child is in place
	for _, c := range q.counts[:m] {
		cnt += c
	}
	if at > mid {
		cnt += pending
	}

	g := p.parent
	if g == nil {
		g = &inner{n: 1}
		g.keys[0] = p.keys[0]
		g.counts[0] = pending
		for _, c := range p.counts[:p.n] {
			g.counts[0] += c
		}
		for _, c := range q.counts[:m] {
			g.counts[0] += c
		}
		g.inners[0] = p
		p.parent, p.pidx = g, 0
		x.root = g
	}
	g.counts[p.pidx] -= cnt
	x.insertKid(g, p.pidx+1, q.keys[0], cnt, nil, q)
	if at <= mid {
		return p, at
	}
	return q, at - mid
}

func rightmost(p *inner) bool {
	for ; p.parent != nil; p = p.parent {
		if p.pidx != p.parent.n-1 {
			return false
		}
	}
	return true
}

func leftmost(p *inner) bool {
	for ; p.parent != nil; p = p.parent {
		if p.pidx != 0 {
			return false
		}
	}
	return true
}

// moveKids copies m children with their keys and counts from src[si:] to
// dst[di:]; the ranges may overlap.
func moveKids(dst *inner, di int, src *inner, si, m int) {
	copy(dst.keys[di:di+m], src.keys[si:si+m])
	copy(dst.counts[di:di+m], src.counts[si:si+m])
	copy(dst.leaves[di:di+m], src.leaves[si:si+m])
	copy(dst.inners[di:di+m], src.inners[si:si+m])
}

// adopt points children from..to-1 of p at p and their index.
func (p *inner) adopt(from, to int) {
	if p.leafKids {
		for j := from; j < to; j++ {
			p.leaves[j].parent, p.leaves[j].pidx = p, j
		}
		return
	}
	for j := from; j < to; j++ {
		p.inners[j].parent, p.inners[j].pidx = p, j
	}
}

// removeKid takes child j >= 1 out of p, then shrinks the tree or joins p
// with a sibling if p became too small.
func (x *Index) removeKid(p *inner, j int) {
	moveKids(p, j, p, j+1, p.n-j-1)
	p.n--
	p.leaves[p.n], p.inners[p.n] = nil, nil
	p.adopt(j, p.n)
	switch {
	case p.parent == nil && p.n == 1:
		if p.leafKids {
			l := p.leaves[0]
			l.parent, l.pidx = nil, 0
			x.root, x.single = nil, l
		} else {
			c := p.inners[0]
			c.parent, c.pidx = nil, 0
			x.root = c
		}
	case p.parent != nil && p.n < x.innerMin:
		x.joinInner(p)
	}
}

// joinLeaf merges the too-small leaf l with a sibling, or moves entries
// from the sibling so both are half full.
func (x *Index) joinLeaf(l *leaf) {
	p := l.parent
	ja := max(l.pidx-1, 0)
	a, b := p.leaves[ja], p.leaves[ja+1]
	na, nb := a.size(), b.size()
	if na+nb <= x.leafMax {
		a.appendFrom(b, 0, nb)
		x.own(a, na, na+nb)
		a.next = b.next
		if b.next != nil {
			b.next.prev = a
		}
		p.counts[ja] += p.counts[ja+1]
		if na == 0 {
			fixMin(a)
		}
		x.removeKid(p, ja+1)
		return
	}
	h := (na + nb) / 2
	if na < h {
		m := h - na
		a.appendFrom(b, 0, m)
		x.own(a, na, h)
		b.removeFront(m)
		if na == 0 {
			fixMin(a)
		}
	} else {
		m := na - h
		b.prependFrom(a, h, na)
		a.truncate(h)
		x.own(b, 0, m)
	}
	p.counts[ja], p.counts[ja+1] = int32(a.size()), int32(b.size())
	p.keys[ja+1] = b.item(0)
}

// joinInner merges the too-small node n with a sibling, or moves children
// from the sibling so both are half full.
func (x *Index) joinInner(n *inner) {
	g := n.parent
	ja := max(n.pidx-1, 0)
	a, b := g.inners[ja], g.inners[ja+1]
	if a.n+b.n <= x.innerMax {
		moveKids(a, a.n, b, 0, b.n)
		old := a.n
		a.n += b.n
		a.adopt(old, a.n)
		g.counts[ja] += g.counts[ja+1]
		x.removeKid(g, ja+1)
		return
	}
	h := (a.n + b.n) / 2
	var moved int32 // entries moved from b to a; negative the other way
	if a.n < h {
		m := h - a.n
		for _, c := range b.counts[:m] {
			moved += c
		}
		moveKids(a, a.n, b, 0, m)
		old := a.n
		a.n = h
		a.adopt(old, h)
		moveKids(b, 0, b, m, b.n-m)
		clear(b.leaves[b.n-m : b.n])
		clear(b.inners[b.n-m : b.n])
		b.n -= m
		b.adopt(0, b.n)
	} else {
		m := a.n - h
		for _, c := range a.counts[h:a.n] {
			moved -= c
		}
		moveKids(b, m, b, 0, b.n)
		moveKids(b, 0, a, h, m)
		clear(a.leaves[h:a.n])
		clear(a.inners[h:a.n])
		a.n = h
		b.n += m
		b.adopt(0, b.n)
	}
	g.counts[ja] += moved
	g.counts[ja+1] -= moved
	g.keys[ja+1] = b.keys[0]
}

// Touch reads where id's entry is, its leaf and the leaf's keys, and
// returns a number made of them; it changes nothing. A caller about to Set
// many ids calls it for each first, so that the reads, which do not depend
// on one another, are in flight together (see engine.Warm).
// It returns 0 for an id the index does not hold (or, in a one-leaf
// index, for every id when the leaf is empty).
func (x *Index) Touch(id uint32) uint64 {
	l := x.single
	if x.tracked {
		l = x.owner.get(id)
	}
	if l == nil || len(l.k) == 0 {
		return 0
	}
	return l.k[0].s | 1
}
