package engine

import "unsafe"

// ahead makes blocks of zeroed Ts on another goroutine, which also writes to
// each of their pages, for a bulk load: the load fills a block of fresh
// memory every few hundred events, and the page faults of its first writes
// (several µs each here, more where the host backs a page only once it is
// touched) are then not the loading goroutine's but those of a core the
// load leaves idle. Blocks come aheadBlocks at a time: starting the
// goroutine wakes a thread, a system call that can cost as much as the
// faults it saves when it is made for every block.
//
// The zero ahead makes nothing: next always returns nil.
type ahead[T any] struct {
	c     chan [][]T // the next blocks, once made
	size  int        // Ts a block
	spare [][]T      // blocks taken from c, not handed out yet
}

// aheadBlocks is how many blocks ahead makes at once.
const aheadBlocks = 8

// start begins making blocks of size Ts.
func (a *ahead[T]) start(size int) {
	*a = ahead[T]{c: make(chan [][]T, 1), size: size}
	go makeBlocks(a.c, size)
}

// stop ends the making: blocks made and not handed out are dropped. A
// making still under way finishes into the channel it was given, which
// nothing reads any more.
func (a *ahead[T]) stop() { *a = ahead[T]{} }

// makeBlocks makes aheadBlocks blocks of size Ts in one allocation,
// touches each of their pages and sends them on c.
func makeBlocks[T any](c chan<- [][]T, size int) {
	all := make([]T, aheadBlocks*size)
	var zero T
	stride := max(1, 4096/int(unsafe.Sizeof(zero)))
	for i := 0; i < len(all); i += stride {
		all[i] = zero
	}
	bs := make([][]T, aheadBlocks)
	for i := range bs {
		bs[i] = all[i*size : (i+1)*size : (i+1)*size]
	}
	c <- bs
}

// next returns a block made ahead, or nil when none is ready (or a is not
// making any): the caller then makes one itself.
func (a *ahead[T]) next() []T {
	if len(a.spare) == 0 {
		if a.c == nil {
			return nil
		}
		select {
		case bs := <-a.c:
			go makeBlocks(a.c, a.size)
			a.spare = bs
		default: // not ready: taken next time
			return nil
		}
	}
	b := a.spare[0]
	a.spare[0] = nil
	a.spare = a.spare[1:]
	return b
}

// block returns a block made ahead, or a new one of size Ts.
func (a *ahead[T]) block(size int) []T {
	if b := a.next(); b != nil {
		return b
	}
	return make([]T, size)
}
