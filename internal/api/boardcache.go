package api

import (
	"strconv"
	"sync"
)

// The top pages of a leaderboard are what clients read most, and between
// two writes to the state every read of a page gives the same bytes. The
// handler keeps the encoded answer of each such page with the generation of
// the state it was read from (service.Generation, which every write lock
// advances) and answers from it while the generation holds: no engine read,
// no encoding. Pages centred on a member (around=) are not kept, as there is
// one per member, nor pages as_of a time.

// maxCachedPages bounds how many pages are kept; when a new one would pass
// it, all are dropped (clients choose limit and offset, so the set of keys
// must not grow with what they send).
const maxCachedPages = 64

// maxCachedPageBytes is the largest answer kept (a page of 100 is ~12 KB).
const maxCachedPageBytes = 64 << 10

// pageKey names a page: the board and what the query asked for.
type pageKey struct {
	board, cohort string
	limit, offset int
}

type cachedPage struct {
	gen    uint64
	body   []byte   // never written after it is stored
	length []string // the Content-Length header's value for body, made once
}

// pageCache holds encoded leaderboard pages by key.
type pageCache struct {
	mu    sync.RWMutex
	pages map[pageKey]cachedPage
}

// get returns the answer kept for k if it was encoded at generation gen,
// with its Content-Length header value.
func (c *pageCache) get(k pageKey, gen uint64) (body []byte, length []string, ok bool) {
	c.mu.RLock()
	p, ok := c.pages[k]
	c.mu.RUnlock()
	if !ok || p.gen != gen {
		return nil, nil, false
	}
	return p.body, p.length, true
}

// put keeps a copy of body, the answer for k encoded at generation gen,
// unless a later one is kept already.
func (c *pageCache) put(k pageKey, gen uint64, body []byte) {
	if len(body) > maxCachedPageBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.pages[k]
	if ok && old.gen >= gen {
		return
	}
	if c.pages == nil || (!ok && len(c.pages) >= maxCachedPages) {
		c.pages = make(map[pageKey]cachedPage)
	}
	c.pages[k] = cachedPage{gen: gen, body: append([]byte(nil), body...), length: []string{strconv.Itoa(len(body))}}
}
