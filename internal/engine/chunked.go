package engine

import (
	"iter"
	"sort"
)

// chunkMax is the most elements one chunk of a sorted list holds.
const chunkMax = 256

// chunked is a sorted sequence kept in chunks of at most chunkMax
// elements, so a late event inserted in the middle of a busy partner's
// history moves at most one chunk, not the whole list. Appending in order,
// the common case, stays O(1).
//
// It keeps no count of its elements: nothing needs it, and the word a
// count took is one more for every award list and series (a member holds
// several), which took a member's state into the next size class.
type chunked[T any] struct {
	chunks [][]T
}

// insert puts x after every element not after it (less is the order).
func (c *chunked[T]) insert(x T, less func(a, b T) bool) {
	k := len(c.chunks)
	if k == 0 {
		c.chunks = [][]T{append(make([]T, 0, 8), x)}
		return
	}
	last := c.chunks[k-1]
	if !less(x, last[len(last)-1]) {
		if len(last) < chunkMax {
			c.chunks[k-1] = append(last, x)
		} else {
			c.chunks = append(c.chunks, append(make([]T, 0, 8), x))
		}
		return
	}
	// The first chunk whose last element is after x holds x's place.
	i := sort.Search(k, func(i int) bool { ch := c.chunks[i]; return less(x, ch[len(ch)-1]) })
	ch := c.chunks[i]
	j := sort.Search(len(ch), func(j int) bool { return less(x, ch[j]) })
	ch = append(ch, x)
	copy(ch[j+1:], ch[j:])
	ch[j] = x
	if len(ch) <= chunkMax {
		c.chunks[i] = ch
		return
	}
	// Split a full chunk in two.
	half := len(ch) / 2
	right := append(make([]T, 0, chunkMax), ch[half:]...)
	c.chunks[i] = ch[:half:half]
	c.chunks = append(c.chunks, nil)
	copy(c.chunks[i+2:], c.chunks[i+1:])
	c.chunks[i+1] = right
}

// remove deletes the first element for which match is true, searching from
// the first element not before x.
func (c *chunked[T]) remove(x T, less func(a, b T) bool, match func(T) bool) bool {
	i := sort.Search(len(c.chunks), func(i int) bool { ch := c.chunks[i]; return !less(ch[len(ch)-1], x) })
	for ; i < len(c.chunks); i++ {
		ch := c.chunks[i]
		j := sort.Search(len(ch), func(j int) bool { return !less(ch[j], x) })
		for ; j < len(ch); j++ {
			if match(ch[j]) {
				ch = append(ch[:j], ch[j+1:]...)
				if len(ch) == 0 {
					c.chunks = append(c.chunks[:i], c.chunks[i+1:]...)
				} else {
					c.chunks[i] = ch
				}
				return true
			}
			if less(x, ch[j]) {
				return false
			}
		}
	}
	return false
}

// from yields, in order, the elements for which atLeast is true and the
// following ones while below is true (atLeast must be false then true
// along the order, below true then false).
func (c *chunked[T]) from(atLeast, below func(T) bool) iter.Seq[T] {
	return func(yield func(T) bool) {
		i := sort.Search(len(c.chunks), func(i int) bool { ch := c.chunks[i]; return atLeast(ch[len(ch)-1]) })
		for ; i < len(c.chunks); i++ {
			ch := c.chunks[i]
			j := sort.Search(len(ch), func(j int) bool { return atLeast(ch[j]) })
			for ; j < len(ch); j++ {
				if !below(ch[j]) || !yield(ch[j]) {
					return
				}
			}
		}
	}
}

// all yields every element in order.
func (c *chunked[T]) all() iter.Seq[T] {
	return func(yield func(T) bool) {
		for _, ch := range c.chunks {
			for _, x := range ch {
				if !yield(x) {
					return
				}
			}
		}
	}
}
